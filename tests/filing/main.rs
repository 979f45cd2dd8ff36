//! Filing: golden files of realistic board mail decided against the example board.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod golden;
