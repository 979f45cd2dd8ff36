//! Records: what the archive holds and how it is found. Search over every message's
//! subject, own words and attachment text (`index` keeps the index filled; the query is
//! `store::search`).

pub mod index;
pub mod person;
pub mod retention;
