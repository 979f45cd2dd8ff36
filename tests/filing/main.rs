//! Filing: golden files of realistic board mail decided against the example board, and
//! the filing worker and its commands against real PostgreSQL and Dovecot.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod golden;
mod worker;
