//! Reading text: HTML to text ([`html`]), a reply's own words ([`reply`]), the dates
//! people write ([`dates`]) and the names they type ([`names`]).
//!
//! This module only groups the four; it owns no logic of its own.

pub mod dates;
pub mod html;
pub mod names;
pub mod reply;
