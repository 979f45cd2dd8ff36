//! Helpers for the ingest tests: settings pointing at the test Dovecot, message builders,
//! and ways to drive and inspect ingestion.

use std::path::Path;

use minuted::clock::Clock;
use minuted::config::{MailboxSettings, MailboxSource, Secret, Security};
use minuted::ingest::{self, imap::ImapSource, IngestOutcome, MailboxSource as _, Summary};
use minuted::store;
use sqlx::PgPool;

use crate::support;

/// A fresh database with the schema applied.
pub async fn database() -> (String, PgPool) {
    let (url, pool) = support::fresh_database().await;
    store::migrate(&pool).await.unwrap();
    (url, pool)
}

/// A user (and so a mailbox) no other test uses.
pub fn user() -> String {
    format!("{}@test.example", support::unique_name("ingest"))
}

/// IMAP settings for `user` over `security`, trusting the test CA.
pub fn imap_settings(user: &str, security: Security) -> MailboxSettings {
    let port = match security {
        Security::Tls => support::env_port("MINUTED_TEST_IMAPS_PORT"),
        Security::Starttls | Security::Plain => support::env_port("MINUTED_TEST_IMAP_PORT"),
    };
    MailboxSettings {
        source: MailboxSource::Imap,
        host: Some(support::env("MINUTED_TEST_IMAP_HOST")),
        port: Some(port),
        security,
        username: Some(user.to_owned()),
        password: Some(Secret::new(support::env("MINUTED_TEST_IMAP_PASSWORD"))),
        tls_ca_file: Some(support::env("MINUTED_TEST_TLS_CA").into()),
        ..MailboxSettings::default()
    }
}

pub fn maildir_settings(path: &Path) -> MailboxSettings {
    MailboxSettings {
        source: MailboxSource::Maildir,
        path: path.to_owned(),
        ..MailboxSettings::default()
    }
}

/// A simple message with a Message-ID.
pub fn message(message_id: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Jo Bloggs <jo.bloggs@met.example>\r\n\
         To: lcjb@board.example\r\n\
         Subject: {subject}\r\n\
         Date: Wed, 6 Dec 2023 10:15:00 +0000\r\n\
         Message-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n"
    )
    .into_bytes()
}

/// Drains `source` step by step, as `ingest --once` does.
pub async fn drain<S: ingest::MailboxSource>(
    source: &mut S,
    pool: &PgPool,
    settings: &MailboxSettings,
) -> Summary {
    let mut total = Summary::default();
    loop {
        match ingest::ingest_batch(source, pool, &Clock::System, settings)
            .await
            .unwrap_or_else(|e| panic!("ingest_batch failed: {e:#}"))
        {
            IngestOutcome::Drained => return total,
            IngestOutcome::Batch(summary) => total.add(&summary),
        }
    }
}

/// Opens an IMAP source and drains it once; disconnects afterwards.
pub async fn drain_imap(settings: &MailboxSettings, pool: &PgPool) -> Summary {
    let mut source = ImapSource::new(settings, None, pool.clone()).unwrap();
    let summary = drain(&mut source, pool, settings).await;
    source.disconnect().await;
    summary
}

pub async fn count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(pool)
        .await
        .unwrap()
}

pub async fn message_ids(pool: &PgPool) -> Vec<Option<String>> {
    sqlx::query_scalar("SELECT message_id FROM messages ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// UIDs in `folder` of `user` matching `query` (e.g. `UNSEEN`, `ALL`).
pub async fn search(user: &str, folder: &str, query: &str) -> Vec<u32> {
    let mut session = support::imap_session(user).await;
    session.examine(folder).await.unwrap();
    let mut uids: Vec<u32> = session
        .uid_search(query)
        .await
        .unwrap()
        .into_iter()
        .collect();
    uids.sort_unstable();
    session.logout().await.ok();
    uids
}

/// Appends every message of `raws` to `folder` over one connection.
pub async fn append_all(user: &str, folder: &str, raws: &[Vec<u8>]) {
    let mut session = support::imap_session(user).await;
    if !folder.eq_ignore_ascii_case("INBOX") && session.examine(folder).await.is_err() {
        session.create(folder).await.unwrap();
    }
    for raw in raws {
        session.append(folder, None, None, raw).await.unwrap();
    }
    session.logout().await.ok();
}

/// Polls until `pool` holds `n` messages, for tests that run a whole daemon.
pub async fn wait_for_count(pool: &PgPool, n: i64, timeout: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let have = count(pool).await;
        if have >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{have} messages stored after {timeout:?}, expected {n}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Drains as the worker does after the server ended a connection that had the folder
/// selected: on an error, reconnect and try again (three times at most).
pub async fn drain_reconnecting(
    source: &mut ImapSource,
    pool: &PgPool,
    settings: &MailboxSettings,
) -> Summary {
    let mut total = Summary::default();
    for _ in 0..3 {
        match ingest::drain(source, pool, &Clock::System, settings, |_, _| true).await {
            Ok(summary) => {
                total.add(&summary);
                break;
            }
            Err(_) => source.disconnect().await,
        }
    }
    total
}
