//! Mailbox ingestion: read every message from the configured mailbox, parse it, and
//! store it exactly once, raw bytes included, before the mailbox is told anything.
//!
//! - [`MailboxSource`] is what a mailbox offers: batches of messages not yet stored, a way
//!   to finish a batch once it is committed (IMAP `after` action, Maildir `new/` to `cur/`),
//!   and a wait for new mail. [`imap::ImapSource`] and [`maildir::MaildirSource`] are the two.
//! - [`ingest_batch`] is one step: fetch a batch, parse it (off the async threads), store it
//!   and advance the IMAP cursor in one transaction, then finish it in the mailbox. A crash
//!   anywhere re-reads the batch, and the database's unique keys make the re-read a no-op.
//! - [`run_until_stopped`] is the worker `minuted run` starts: one poller per mailbox
//!   (a PostgreSQL advisory lock on a dedicated connection), reconnecting with backoff and
//!   jitter, waiting with IDLE or polling between drains.
//! - [`drain`] is `minuted ingest --once`.
//!
//! Stored messages have status `received`: the durable queue that filing reads.
//!
//! This module does not parse MIME ([`parse`]) or write SQL (`store::messages`).

pub mod imap;
pub mod maildir;
pub mod parse;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, PgPool};

use crate::alerts::{self, Service};
use crate::clock::Clock;
use crate::config::{MailboxSettings, MailboxSource as SourceKind};
use crate::oauth::TokenSource;
use crate::retry::FailureLog;
use crate::shutdown::Shutdown;
use crate::store::{self, messages as store_messages};
use parse::{Limits, Parsed, ParsedMessage};

/// One message as read from the mailbox.
#[derive(Debug)]
pub struct Fetched {
    pub locator: Locator,
    /// Stored as `messages.source_ref`: `UIDVALIDITY:UID` or the Maildir file name.
    pub source_ref: String,
    pub content: Content,
}

/// Where a message sits in its mailbox, for finishing it after commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
    Uid(u32),
    File(PathBuf),
}

#[derive(Debug)]
pub enum Content {
    Whole(Vec<u8>),
    /// Over `mailbox.max_message_bytes`: the header block, and the whole size.
    HeadersOnly {
        header: Vec<u8>,
        size: u64,
    },
}

/// A bounded batch of messages from one folder.
#[derive(Debug)]
pub struct Batch {
    /// `messages.source`: the mailbox and folder.
    pub source: String,
    pub folder: String,
    pub messages: Vec<Fetched>,
    /// Advanced in the transaction that stores the batch (IMAP only).
    pub cursor: Option<CursorAdvance>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorAdvance {
    pub mailbox: String,
    pub folder: String,
    pub uidvalidity: u32,
    pub last_uid: u32,
}

impl CursorAdvance {
    /// Records the folder as read up to `last_uid`.
    async fn advance(
        &self,
        conn: &mut sqlx::PgConnection,
        now: DateTime<Utc>,
    ) -> Result<(), store::Error> {
        store_messages::advance_cursor(
            conn,
            &self.mailbox,
            &self.folder,
            self.uidvalidity,
            self.last_uid,
            now,
        )
        .await
    }
}

/// What the mailbox must be told once a batch is committed.
#[derive(Debug, Clone)]
pub struct Committed {
    pub folder: String,
    pub locators: Vec<Locator>,
}

/// Why a wait for new mail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server said something changed (IDLE), or the poll interval passed.
    MaybeNewMail,
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The connection failed or the server refused a command: reconnect and retry.
    #[error("{0}")]
    Connection(String),
    #[error("IMAP command {0} did not complete within the command timeout")]
    Timeout(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cursor: {0}")]
    Store(#[from] store::Error),
    /// The settings cannot work (a missing CA file): retried, but an operator must act.
    #[error("{0}")]
    Config(String),
    /// The server or the identity provider refused our credentials (a wrong password, a
    /// revoked token or consent): retried, and the secretariat alerted at once.
    #[error("{0}")]
    SignIn(String),
}

/// A mailbox: IMAP or Maildir. Methods are called one at a time by one task.
pub trait MailboxSource: Send {
    /// The mailbox as stored in `messages.source` (without a folder) and hashed for the
    /// poller lock: `imap://user@host:port` or `maildir:/abs/path`.
    fn mailbox(&self) -> &str;

    /// The next batch of messages not yet stored, or None once every folder is drained for
    /// this round (the next call starts a new round).
    fn next_batch(&mut self) -> impl Future<Output = Result<Option<Batch>, SourceError>> + Send;

    /// Applies the `after` action to messages now safely stored.
    fn finish(&mut self, done: Committed) -> impl Future<Output = Result<(), SourceError>> + Send;

    /// Waits until there may be new mail (IDLE, or the poll interval) or shutdown.
    fn wait_for_mail(
        &mut self,
        shutdown: &mut Shutdown,
    ) -> impl Future<Output = Result<Wake, SourceError>> + Send;

    /// Messages known to be waiting in this round, for a progress display.
    fn backlog(&self) -> usize;

    /// Drops the connection (after an error) so the next call opens a fresh one.
    fn disconnect(&mut self) -> impl Future<Output = ()> + Send;
}

/// Counts for one batch or a whole drain; the `ingest --once` summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub fetched: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Over `mailbox.max_message_bytes`: stored as headers only (status `oversized`).
    pub rejected: u64,
    pub unparseable: u64,
    pub bytes: u64,
}

impl Summary {
    pub fn add(&mut self, other: &Summary) {
        self.fetched += other.fetched;
        self.stored += other.stored;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
        self.unparseable += other.unparseable;
        self.bytes += other.bytes;
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fetched {}, stored {}, duplicates {}, rejected {}, unparseable {}",
            self.fetched, self.stored, self.duplicates, self.rejected, self.unparseable
        )
    }
}

/// The outcome of one [`ingest_batch`] step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A batch was stored (some or all of it may have been duplicates).
    Batch(Summary),
    /// Nothing left in any folder this round.
    Drained,
}

/// A message ready to store: bytes, digest, and what parsing made of it.
struct Prepared {
    locator: Locator,
    source_ref: String,
    raw: Vec<u8>,
    sha256: [u8; 32],
    size: u64,
    truncated: bool,
    status: store_messages::IngestStatus,
    parse_error: Option<String>,
    parsed: ParsedMessage,
}

fn prepare(fetched: Fetched, limits: &Limits, max_bytes: u64) -> Prepared {
    let (raw, size, truncated) = match fetched.content {
        Content::Whole(raw) => {
            let size = raw.len() as u64;
            (raw, size, false)
        }
        Content::HeadersOnly { header, size } => (header, size, true),
    };
    let sha256: [u8; 32] = Sha256::digest(&raw).into();
    let (status, parse_error, parsed) = if truncated {
        (
            store_messages::IngestStatus::Oversized,
            Some(format!(
                "{size} bytes is over mailbox.max_message_bytes ({max_bytes}): only the header block is kept"
            )),
            parse::parse_headers(&raw),
        )
    } else {
        match parse::parse(&raw, limits) {
            Parsed::Complete(parsed) => (store_messages::IngestStatus::Received, None, parsed),
            Parsed::Unparseable { reason, headers } => (
                store_messages::IngestStatus::Unparseable,
                Some(reason),
                headers,
            ),
        }
    };
    Prepared {
        locator: fetched.locator,
        source_ref: fetched.source_ref,
        raw,
        sha256,
        size,
        truncated,
        status,
        parse_error,
        parsed,
    }
}

/// One step: fetch a batch, store it exactly once, finish it in the mailbox.
pub async fn ingest_batch<S: MailboxSource>(
    source: &mut S,
    pool: &PgPool,
    clock: &Clock,
    settings: &MailboxSettings,
) -> anyhow::Result<IngestOutcome> {
    let Some(batch) = source
        .next_batch()
        .await
        .context("failed to read the mailbox")?
    else {
        return Ok(IngestOutcome::Drained);
    };
    let (summary, committed) = parse_and_store(pool, clock, settings, batch).await?;
    source
        .finish(committed)
        .await
        .context("stored, but failed to apply mailbox.after")?;
    Ok(IngestOutcome::Batch(summary))
}

/// Parses a batch (off the async threads) and stores it in one transaction with its
/// cursor, in mailbox order (so ids follow arrival). Returns what the mailbox must be told
/// now that it is committed.
async fn parse_and_store(
    pool: &PgPool,
    clock: &Clock,
    settings: &MailboxSettings,
    batch: Batch,
) -> anyhow::Result<(Summary, Committed)> {
    let started = std::time::Instant::now();
    let Batch {
        source: source_name,
        folder,
        messages,
        cursor,
    } = batch;
    let max_bytes = settings.max_message_bytes;
    let prepared = tokio::task::spawn_blocking(move || {
        let limits = Limits::default();
        messages
            .into_iter()
            .map(|m| prepare(m, &limits, max_bytes))
            .collect::<Vec<_>>()
    })
    .await
    .context("the parsing task failed")?;
    let parsed = started.elapsed();
    let summary = store_batch(pool, clock, &source_name, &prepared, cursor.as_ref()).await?;
    crate::measure::ingest_took(started.elapsed());
    tracing::debug!(
        messages = summary.fetched,
        bytes = summary.bytes,
        parse_ms = parsed.as_millis() as u64,
        store_ms = (started.elapsed() - parsed).as_millis() as u64,
        "batch stored"
    );
    let locators = prepared.into_iter().map(|p| p.locator).collect();
    Ok((summary, Committed { folder, locators }))
}

async fn store_batch(
    pool: &PgPool,
    clock: &Clock,
    source: &str,
    prepared: &[Prepared],
    cursor: Option<&CursorAdvance>,
) -> anyhow::Result<Summary> {
    let now = clock.now();
    let attempt = async {
        let mut tx = pool.begin().await?;
        let mut summary = Summary::default();
        for message in prepared {
            let inserted =
                store_messages::insert(&mut tx, &new_message(source, message, now)).await?;
            count(&mut summary, message, inserted);
        }
        if let Some(cursor) = cursor {
            cursor.advance(&mut tx, now).await?;
        }
        tx.commit().await?;
        Ok::<_, store::Error>(summary)
    };
    match attempt.await {
        Ok(summary) => Ok(summary),
        Err(err) if prepared.len() > 1 => {
            // One message the database refuses must not block the mailbox: store them one
            // by one so the rest go in and the culprit is found.
            tracing::warn!(error = %err, "storing the batch failed; storing its messages one by one");
            store_one_by_one(pool, source, prepared, cursor, now).await
        }
        Err(err) => store_one_by_one(pool, source, prepared, cursor, now)
            .await
            .with_context(|| format!("after: {err}")),
    }
}

/// Stores a batch the database refused one message at a time, at the batch's `now`.
async fn store_one_by_one(
    pool: &PgPool,
    source: &str,
    prepared: &[Prepared],
    cursor: Option<&CursorAdvance>,
    now: DateTime<Utc>,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    for message in prepared {
        let new = new_message(source, message, now);
        let mut tx = crate::database::begin(pool).await?;
        match store_messages::insert(&mut tx, &new).await {
            Ok(inserted) => {
                tx.commit().await.context("cannot commit a message")?;
                count(&mut summary, message, inserted);
            }
            Err(store::Error::Database(err)) if is_data_error(&err) => {
                tx.rollback().await.ok();
                // The database refused what was parsed out of it: keep the raw bytes with
                // the reason rather than lose the message.
                let reason = format!("the parsed fields could not be stored: {err}");
                let fallback = ParsedMessage {
                    message_id: message.parsed.message_id.clone(),
                    ..ParsedMessage::default()
                };
                let new = store_messages::NewMessage {
                    status: store_messages::IngestStatus::Unparseable,
                    parse_error: Some(&reason),
                    parsed: &fallback,
                    ..new
                };
                let mut tx = crate::database::begin(pool).await?;
                let inserted = store_messages::insert(&mut tx, &new)
                    .await
                    .context("cannot store a message even raw")?;
                tx.commit().await.context("cannot commit a message")?;
                tracing::warn!(source_ref = %message.source_ref, %reason, "message stored raw");
                summary.fetched += 1;
                summary.bytes += message.size;
                match inserted {
                    store_messages::Inserted::New(_) => {
                        summary.stored += 1;
                        summary.unparseable += 1;
                    }
                    store_messages::Inserted::Duplicate(_) => summary.duplicates += 1,
                }
            }
            Err(err) => return Err(err).context("cannot store a message"),
        }
    }
    if let Some(cursor) = cursor {
        let mut conn = pool.acquire().await.context("cannot reach the database")?;
        cursor
            .advance(&mut conn, now)
            .await
            .context("cannot advance the mailbox cursor")?;
    }
    Ok(summary)
}

/// Errors about the data (bad encoding, value too large), as opposed to the connection.
fn is_data_error(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("22") || code.starts_with("54")),
        _ => false,
    }
}

fn new_message<'a>(
    source: &'a str,
    message: &'a Prepared,
    now: DateTime<Utc>,
) -> store_messages::NewMessage<'a> {
    store_messages::NewMessage {
        source,
        source_ref: &message.source_ref,
        received_at: now,
        raw: &message.raw,
        raw_sha256: message.sha256,
        raw_size: message.size,
        raw_truncated: message.truncated,
        status: message.status,
        parse_error: message.parse_error.as_deref(),
        parsed: &message.parsed,
    }
}

fn count(summary: &mut Summary, message: &Prepared, inserted: store_messages::Inserted) {
    summary.fetched += 1;
    summary.bytes += message.size;
    match inserted {
        store_messages::Inserted::Duplicate(existing) => {
            tracing::debug!(source_ref = %message.source_ref, ?existing, "already stored");
            summary.duplicates += 1;
        }
        store_messages::Inserted::New(id) => {
            summary.stored += 1;
            match message.status {
                store_messages::IngestStatus::Received => {}
                store_messages::IngestStatus::Unparseable => {
                    tracing::warn!(id, reason = ?message.parse_error, "message stored raw as unparseable");
                    summary.unparseable += 1;
                }
                store_messages::IngestStatus::Oversized => {
                    tracing::warn!(id, size = message.size, "oversized message: headers kept");
                    summary.rejected += 1;
                }
            }
        }
    }
}

/// The advisory-lock key of a mailbox: the first 8 bytes of a SHA-256 of its name, the
/// same in every process.
pub fn lock_key(mailbox: &str) -> i64 {
    let digest = Sha256::digest(format!("minuted mailbox {mailbox}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// The lock that makes this process the mailbox's one poller, on a connection of its own
/// (outside the pool) so that its closing, by our exit or death, releases the lock.
pub struct PollerLock {
    conn: PgConnection,
}

impl PollerLock {
    /// Takes the lock, or None when another process holds it.
    pub async fn try_acquire(pool: &PgPool, mailbox: &str) -> anyhow::Result<Option<PollerLock>> {
        let conn = pool
            .acquire()
            .await
            .context("cannot reach the database")?
            .detach();
        let mut lock = PollerLock { conn };
        let held = store_messages::try_lock_mailbox(&mut lock.conn, lock_key(mailbox))
            .await
            .context("cannot take the mailbox lock")?;
        if held {
            Ok(Some(lock))
        } else {
            lock.conn.close().await.ok();
            Ok(None)
        }
    }

    /// True while the connection holding the lock is alive.
    pub async fn is_held(&mut self) -> bool {
        matches!(
            tokio::time::timeout(
                Duration::from_secs(10),
                store_messages::ping(&mut self.conn)
            )
            .await,
            Ok(Ok(()))
        )
    }

    pub async fn release(self) {
        // Closing the session releases every advisory lock it holds.
        self.conn.close().await.ok();
    }
}

/// Builds the configured source.
pub enum AnySource {
    Imap(Box<imap::ImapSource>),
    Maildir(maildir::MaildirSource),
}

/// `sign_in`: the token source when the mailbox signs in with OAuth 2.0.
pub fn open_source(
    settings: &MailboxSettings,
    sign_in: Option<Arc<TokenSource>>,
    pool: &PgPool,
) -> anyhow::Result<AnySource> {
    Ok(match settings.source {
        SourceKind::Imap => AnySource::Imap(Box::new(imap::ImapSource::new(
            settings,
            sign_in,
            pool.clone(),
        )?)),
        SourceKind::Maildir => AnySource::Maildir(maildir::MaildirSource::open(settings)?),
    })
}

pub use crate::retry::Backoff;

/// Sleeps for `delay` unless shutdown comes first; true when stopping.
async fn sleep_or_stop(delay: Duration, shutdown: &mut Shutdown) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(delay) => shutdown.is_stopping(),
        _ = shutdown.stopped() => true,
    }
}

/// Reads until every folder is drained, reporting each batch to `progress`, which
/// returns false to stop early (shutdown); a batch fetched but not yet stored is then
/// simply read again next time.
///
/// The same steps as repeated [`ingest_batch`], overlapped: the next batch is fetched
/// while the current one is parsed and stored, so the mailbox server, the parser and the
/// database work at once. The mailbox is still told about a batch only after its commit,
/// and at most two batches are in memory.
pub async fn drain<S: MailboxSource>(
    source: &mut S,
    pool: &PgPool,
    clock: &Clock,
    settings: &MailboxSettings,
    mut progress: impl FnMut(&Summary, usize) -> bool,
) -> anyhow::Result<Summary> {
    let mut total = Summary::default();
    let mut next = source
        .next_batch()
        .await
        .context("failed to read the mailbox")?;
    while let Some(batch) = next {
        // The stored batch logs its own parse and store times.
        let (stored, (fetched, fetch_took)) =
            tokio::join!(parse_and_store(pool, clock, settings, batch), async {
                let started = std::time::Instant::now();
                let fetched = source.next_batch().await;
                (fetched, started.elapsed())
            });
        tracing::debug!(
            fetch_ms = fetch_took.as_millis() as u64,
            "next batch fetched beside this one's parse and store"
        );
        let (summary, committed) = stored?;
        let finished = source
            .finish(committed)
            .await
            .context("stored, but failed to apply mailbox.after");
        total.add(&summary);
        let go_on = progress(&total, source.backlog());
        next = fetched.context("failed to read the mailbox")?;
        finished?;
        if !go_on {
            break;
        }
    }
    Ok(total)
}

/// The ingest worker of `minuted run`: become the mailbox's one poller, then drain and
/// wait, reconnecting with backoff after any failure, until shutdown.
pub async fn run_until_stopped(
    settings: MailboxSettings,
    sign_in: Option<Arc<TokenSource>>,
    pool: PgPool,
    clock: Clock,
    mut shutdown: Shutdown,
) -> anyhow::Result<()> {
    match open_source(&settings, sign_in, &pool)? {
        AnySource::Imap(mut source) => {
            run_source(source.as_mut(), &settings, &pool, &clock, &mut shutdown).await
        }
        AnySource::Maildir(mut source) => {
            run_source(&mut source, &settings, &pool, &clock, &mut shutdown).await
        }
    }
}

async fn run_source<S: MailboxSource>(
    source: &mut S,
    settings: &MailboxSettings,
    pool: &PgPool,
    clock: &Clock,
    shutdown: &mut Shutdown,
) -> anyhow::Result<()> {
    let mailbox = source.mailbox().to_owned();
    let retry = Duration::from_secs(settings.poll_seconds.clamp(1, 5));
    let mut backoff = Backoff::new();
    let mut lock_failures = FailureLog::new("taking the mailbox lock");
    let mut told_busy = false;
    while !shutdown.is_stopping() {
        let mut lock = match PollerLock::try_acquire(pool, &mailbox).await {
            Ok(Some(lock)) => {
                lock_failures.succeeded();
                lock
            }
            Ok(None) => {
                lock_failures.succeeded();
                if !told_busy {
                    tracing::info!(%mailbox, "another minuted process polls this mailbox; standing by");
                    told_busy = true;
                }
                if sleep_or_stop(retry, shutdown).await {
                    break;
                }
                continue;
            }
            Err(err) => {
                let delay = backoff.next_delay();
                lock_failures.failed(&format!("{err:#}"), delay);
                if sleep_or_stop(delay, shutdown).await {
                    break;
                }
                continue;
            }
        };
        told_busy = false;
        backoff.reset();
        tracing::info!(%mailbox, "polling the mailbox");
        poll_while_held(
            source,
            &mut lock,
            settings,
            pool,
            clock,
            shutdown,
            &mut backoff,
        )
        .await;
        source.disconnect().await;
        lock.release().await;
    }
    tracing::info!(%mailbox, "ingestion stopped");
    Ok(())
}

/// Drains and waits for as long as the lock is held and no shutdown is asked for.
async fn poll_while_held<S: MailboxSource>(
    source: &mut S,
    lock: &mut PollerLock,
    settings: &MailboxSettings,
    pool: &PgPool,
    clock: &Clock,
    shutdown: &mut Shutdown,
    backoff: &mut Backoff,
) {
    let mut failures = FailureLog::new("mailbox ingestion");
    loop {
        if shutdown.is_stopping() {
            return;
        }
        let drained = {
            let stopping = &*shutdown;
            drain(source, pool, clock, settings, |_, _| {
                !stopping.is_stopping()
            })
            .await
        };
        let waited = match drained {
            Ok(summary) => {
                if summary.fetched > 0 {
                    tracing::info!(%summary, "mailbox drained");
                }
                let name = source.mailbox().to_owned();
                alerts::record_ok(
                    pool,
                    Service::Mailbox,
                    &name,
                    &settings.folders,
                    Clock::System.now(),
                )
                .await;
                backoff.reset();
                failures.succeeded();
                if !lock.is_held().await {
                    tracing::warn!("lost the connection holding the mailbox lock; taking it again");
                    return;
                }
                source
                    .wait_for_mail(shutdown)
                    .await
                    .map_err(anyhow::Error::from)
            }
            Err(err) => Err(err),
        };
        match waited {
            Ok(Wake::Stopped) => return,
            Ok(Wake::MaybeNewMail) => {}
            Err(err) => {
                let delay = backoff.next_delay();
                let sign_in = err
                    .chain()
                    .any(|e| matches!(e.downcast_ref(), Some(SourceError::SignIn(_))));
                let name = source.mailbox().to_owned();
                let error = format!("{err:#}");
                crate::measure::mailbox_failed();
                alerts::record_failure(
                    pool,
                    Service::Mailbox,
                    &name,
                    &error,
                    sign_in,
                    Clock::System.now(),
                )
                .await;
                failures.failed(&error, delay);
                source.disconnect().await;
                if sleep_or_stop(delay, shutdown).await {
                    return;
                }
                if !lock.is_held().await {
                    tracing::warn!("lost the connection holding the mailbox lock; taking it again");
                    return;
                }
            }
        }
    }
}

/// `minuted ingest --once`: take the poller lock (waiting for another process to give it
/// up), drain the mailbox, release.
pub async fn drain_mailbox(
    settings: &MailboxSettings,
    sign_in: Option<Arc<TokenSource>>,
    pool: &PgPool,
    clock: &Clock,
    progress: impl FnMut(&Summary, usize) -> bool,
) -> anyhow::Result<Summary> {
    match open_source(settings, sign_in, pool)? {
        AnySource::Imap(mut source) => {
            drain_locked(source.as_mut(), settings, pool, clock, progress).await
        }
        AnySource::Maildir(mut source) => {
            drain_locked(&mut source, settings, pool, clock, progress).await
        }
    }
}

async fn drain_locked<S: MailboxSource>(
    source: &mut S,
    settings: &MailboxSettings,
    pool: &PgPool,
    clock: &Clock,
    progress: impl FnMut(&Summary, usize) -> bool,
) -> anyhow::Result<Summary> {
    let mailbox = source.mailbox().to_owned();
    let mut told = false;
    let lock = loop {
        if let Some(lock) = PollerLock::try_acquire(pool, &mailbox).await? {
            break lock;
        }
        if !told {
            tracing::info!(%mailbox, "another minuted process polls this mailbox; waiting for it");
            told = true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let result = drain(source, pool, clock, settings, progress).await;
    source.disconnect().await;
    lock.release().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_minute_with_jitter() {
        let mut backoff = Backoff::new();
        let delays: Vec<u128> = (0..10).map(|_| backoff.next_delay().as_millis()).collect();
        assert!((750..=1250).contains(&delays[0]), "{delays:?}");
        assert!((1500..=2500).contains(&delays[1]), "{delays:?}");
        assert!(delays[9] <= 75_000 && delays[9] >= 45_000, "{delays:?}");
        backoff.reset();
        assert!(backoff.next_delay().as_millis() <= 1250);
    }

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        assert_eq!(lock_key("maildir:/a"), lock_key("maildir:/a"));
        assert_ne!(lock_key("maildir:/a"), lock_key("maildir:/b"));
    }

    #[test]
    fn the_summary_line_names_every_count() {
        let summary = Summary {
            fetched: 5,
            stored: 3,
            duplicates: 1,
            rejected: 1,
            unparseable: 0,
            bytes: 10,
        };
        assert_eq!(
            summary.to_string(),
            "fetched 5, stored 3, duplicates 1, rejected 1, unparseable 0"
        );
    }
}
