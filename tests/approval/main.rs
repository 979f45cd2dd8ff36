//! Draft minutes to approval and circulation against a real PostgreSQL: a filed draft
//! becomes a revision with approval requests carrying signed tokens; replies are verified
//! and applied exactly once; forged, replayed and stale ones are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod flow;
mod helpers;
mod mail;
mod replies;
