//! The status page's users: name and Argon2 password hash. SQL only; hashing and checking
//! are `http::users`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    /// PHC string form: `$argon2id$v=19$m=...`.
    pub password_hash: String,
    /// Part of every session's signature, so a new password ends the old sessions.
    pub password_set_at: DateTime<Utc>,
}

/// Adds the user, or gives an existing one a new password; true when added.
pub async fn set(
    conn: &mut PgConnection,
    name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "INSERT INTO http_users (name, password_hash, created_at, password_set_at)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash,
                                          password_set_at = EXCLUDED.password_set_at
         RETURNING created_at = $3",
    )
    .bind(name)
    .bind(password_hash)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

pub async fn by_name(conn: &mut PgConnection, name: &str) -> Result<Option<UserRow>> {
    Ok(sqlx::query_as(
        "SELECT id, name, password_hash, password_set_at FROM http_users WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?)
}

pub async fn by_id(conn: &mut PgConnection, id: i64) -> Result<Option<UserRow>> {
    Ok(sqlx::query_as(
        "SELECT id, name, password_hash, password_set_at FROM http_users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn signed_in(conn: &mut PgConnection, id: i64, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE http_users SET last_sign_in_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
