//! Text extraction for mail: HTML to text ([`html`]) and a reply's own words ([`reply`]).
//!
//! This module only groups the two; it owns no logic of its own.

pub mod html;
pub mod reply;
