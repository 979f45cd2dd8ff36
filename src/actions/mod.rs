//! Updates by reply: a filed `action_update` message applied to the action it names,
//! once, however many daemons run.
//!
//! The reply's first meaningful line (quoted text, greetings and signatures trimmed as
//! for approval replies) decides: "Done", "Complete", "Completed" or "Closed" — alone,
//! after the action's ref, or followed by punctuation and a note ("Done - shared on 1
//! Dec") — marks the action done; anything else is recorded as progress. The message's
//! attachments are the update's. Only the owner organisation, the owner member or the
//! secretariat may update an action; anything else changes nothing and goes back to
//! triage saying who owns the action. An update to an action already closed is recorded
//! as progress and does not reopen it. An applied update is acknowledged to its sender
//! then, saying what it did ("LCJB-A17 marked done"); one sent to triage is not.
//!
//! This module owns the rules (`rules`), the step that applies one update (`apply`,
//! [`apply_update`]), the worker ([`drain`], the loop) and the register by hand
//! ([`hand`]); the SQL is in `store::actions`. It does not decide which action a message
//! is about: filing did.

mod apply;
pub mod hand;
mod rules;
mod worker;

pub use apply::*;
pub use rules::*;
pub use worker::*;
