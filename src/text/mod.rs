//! Reading text: HTML to text ([`html`]), a reply's own words ([`reply`]) and the dates
//! people write ([`dates`]).
//!
//! This module only groups the three; it owns no logic of its own.

pub mod dates;
pub mod html;
pub mod reply;
