//! Draft minutes: from a document to what it says.
//!
//! - [`extract`]: the bytes of a body or attachment (.txt, .md, .html, .docx, .pdf) to
//!   plain text, with a typed error for anything that cannot be read.
//! - [`structure`]: plain text to [`structure::MinutesStructure`] (attendees, apologies,
//!   items, actions, next meeting) and matching its names against the registry.
//! - [`report`]: the structure as `minutes parse` / `minutes show` print it.
//! - [`document`]: what approvers and members receive: the file's name, a .docx made of
//!   minutes sent in a body, the changes from the previous version word by word.
//! - [`drafts`]: the step that turns a filed draft_minutes message into a stored
//!   revision and queues its approval requests ([`process_next_draft`]).
//! - [`worker`]: the loop running that step after filing, and its one-shot drain.
//!
//! `extract`, `structure`, `report` and `document` are pure: no database, no clock, no I/O
//! beyond the bytes they are given. `drafts` and `worker` are the ones that read and write
//! (through `store::minutes` and `store::outbox`).

pub mod document;
pub mod drafts;
pub mod extract;
pub mod register;
pub mod report;
pub mod structure;
pub mod worker;

pub use drafts::{process_next_draft, DraftOutcome};
