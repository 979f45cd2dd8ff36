//! The action register and updates by reply against a real PostgreSQL: actions added by
//! hand and listed; replies filed as action updates close an action or record progress
//! once, however many workers run; only the owner organisation or the secretariat may
//! update an action; `meetings status` expects a report from every owner of an open
//! action.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

// The board, the clock's parser and delivery through ingestion and filing are the
// approval tests' own set-up.
#[allow(dead_code)]
#[path = "../approval/helpers.rs"]
mod approval_helpers;
mod helpers;
mod register;
mod replies;
