//! The only place that speaks SQL. One file per aggregate; each function takes a pool or
//! a transaction and returns domain values. Errors are mapped once, here, into
//! [`Error`], so callers branch on `NotFound` or `Conflict` rather than on sqlx internals.
//!
//! This module does not decide anything: rules live in the pure modules that call it.

pub mod actions;
pub mod approvals;
pub mod attendance;
pub mod bounces;
pub mod events;
pub mod filings;
pub mod health;
pub mod http_users;
pub mod mail_context;
pub mod measures;
pub mod meeting_status;
pub mod members;
pub mod messages;
pub mod minutes;
pub mod names;
pub mod outbox;
pub mod overview;
pub mod person;
pub mod records;
pub mod registry;
pub mod schedule;
pub mod search;
pub mod tokens;
pub mod triage;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller asked for something the data cannot hold (a header with a line break,
    /// a context that is not an object); nothing was written.
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Error::NotFound("row".into()),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                Error::Conflict(db.message().to_owned())
            }
            _ => Error::Database(err),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A JSON array column read as its strings (anything else in it is skipped): how filing
/// records reasons. A row struct's field takes it with `#[sqlx(try_from = "JsonStrings")]`.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub struct JsonStrings(serde_json::Value);

impl From<JsonStrings> for Vec<String> {
    fn from(value: JsonStrings) -> Self {
        value
            .0
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Opens a pool on `options`. A short acquire timeout makes an unreachable server an
/// error within seconds rather than a hang.
pub async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Applies every embedded migration not yet applied. Safe to call from several processes at
/// once: sqlx takes an advisory lock for the duration.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// The newest migration version applied to this database.
pub async fn applied_migrations(pool: &PgPool) -> Result<i64> {
    let version: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    Ok(version.unwrap_or(0))
}
