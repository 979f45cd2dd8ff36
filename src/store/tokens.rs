//! Stored sign-in tokens (`oauth_tokens`): one row per account, its tokens sealed by
//! `crate::oauth`, never in clear.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::Result;

/// A row as stored; the token columns are sealed bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub account: String,
    pub client_id: String,
    pub flow: String,
    pub access_token: Option<Vec<u8>>,
    pub access_sha256: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh_token: Option<Vec<u8>>,
    pub refreshed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// What `auth status` and `health` show of an account: never a token.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TokenState {
    pub account: String,
    pub client_id: String,
    pub flow: String,
    pub signed_in: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub has_refresh_token: bool,
    pub refreshed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// The account's row, locked until the transaction ends, so one process refreshes at a
/// time and the others take what it stored.
pub async fn lock(
    conn: &mut PgConnection,
    account: &str,
    client_id: &str,
    flow: &str,
) -> Result<TokenRow> {
    sqlx::query(
        "INSERT INTO oauth_tokens (account, client_id, flow) VALUES ($1, $2, $3)
         ON CONFLICT (account) DO NOTHING",
    )
    .bind(account)
    .bind(client_id)
    .bind(flow)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_as(
        "SELECT account, client_id, flow, access_token, access_sha256, expires_at,
                refresh_token, refreshed_at, last_error, last_error_at
         FROM oauth_tokens WHERE account = $1 FOR UPDATE",
    )
    .bind(account)
    .fetch_one(conn)
    .await?)
}

/// Tokens a refresh or sign-in produced. `refresh_token` None keeps the stored one
/// (a provider that does not rotate it).
pub struct Minted<'a> {
    pub client_id: &'a str,
    pub flow: &'a str,
    pub access_token: Vec<u8>,
    pub access_sha256: String,
    pub expires_at: DateTime<Utc>,
    pub refresh_token: Option<Vec<u8>>,
}

pub async fn store_minted(
    conn: &mut PgConnection,
    account: &str,
    minted: &Minted<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oauth_tokens (account, client_id, flow, access_token, access_sha256,
                                   expires_at, refresh_token, refreshed_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         ON CONFLICT (account) DO UPDATE SET
             client_id = $2, flow = $3, access_token = $4, access_sha256 = $5,
             expires_at = $6,
             refresh_token = COALESCE($7, oauth_tokens.refresh_token),
             refreshed_at = $8, last_error = NULL, last_error_at = NULL, updated_at = $8",
    )
    .bind(account)
    .bind(minted.client_id)
    .bind(minted.flow)
    .bind(&minted.access_token)
    .bind(&minted.access_sha256)
    .bind(minted.expires_at)
    .bind(&minted.refresh_token)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records why the last refresh failed; with `forget_grant` the refresh token is dropped
/// (the provider said it is no longer valid) so nobody tries it again.
pub async fn record_error(
    conn: &mut PgConnection,
    account: &str,
    error: &str,
    forget_grant: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE oauth_tokens SET last_error = $2, last_error_at = $3, updated_at = $3,
             refresh_token = CASE WHEN $4 THEN NULL ELSE refresh_token END,
             access_token = CASE WHEN $4 THEN NULL ELSE access_token END
         WHERE account = $1",
    )
    .bind(account)
    .bind(error)
    .bind(now)
    .bind(forget_grant)
    .execute(conn)
    .await?;
    Ok(())
}

/// The server refused this access token: it is not used again.
pub async fn mark_refused(
    conn: &mut PgConnection,
    account: &str,
    access_sha256: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE oauth_tokens SET expires_at = LEAST(expires_at, now()), updated_at = now()
         WHERE account = $1 AND access_sha256 = $2",
    )
    .bind(account)
    .bind(access_sha256)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn states(conn: &mut PgConnection) -> Result<Vec<TokenState>> {
    Ok(sqlx::query_as(
        "SELECT account, client_id, flow, access_token IS NOT NULL AS signed_in, expires_at,
                refresh_token IS NOT NULL AS has_refresh_token, refreshed_at,
                last_error, last_error_at
         FROM oauth_tokens ORDER BY account",
    )
    .fetch_all(conn)
    .await?)
}
