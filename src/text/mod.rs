//! Reading text: HTML to text ([`html`]), a reply's own words ([`reply`]), the command
//! in them ([`commands`]: approve, reject, undo, or a comment), the dates people write
//! ([`dates`]) and the names they type ([`names`]).
//!
//! This module only groups the five; it owns no logic of its own.

pub mod commands;
pub mod dates;
pub mod html;
pub mod names;
pub mod reply;
