//! Draft minutes: from a document to what it says.
//!
//! - [`extract`]: the bytes of a body or attachment (.txt, .md, .html, .docx, .pdf) to
//!   plain text, with a typed error for anything that cannot be read.
//! - [`structure`]: plain text to [`structure::MinutesStructure`] (attendees, apologies,
//!   items, actions, next meeting) and matching its names against the registry.
//! - [`report`]: the structure as `minutes parse` / `minutes show` print it.
//!
//! Both are pure: no database, no clock, no I/O beyond the bytes they are given. Storing
//! revisions and asking for approval build on them elsewhere.

pub mod extract;
pub mod report;
pub mod structure;
