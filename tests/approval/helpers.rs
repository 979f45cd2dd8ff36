//! Shared set-up: a fresh database with the example board, mail stored as ingestion
//! stores it, filing and the minutes step driven one step at a time.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use minuted::clock::Clock;
use minuted::config::{MailboxSettings, MailboxSource, Settings};
use minuted::filing::worker::{self as filer, FilingOutcome};
use minuted::ingest::{self, IngestOutcome};
use minuted::store;
use sqlx::PgPool;

use crate::support;

pub const BIN: &str = env!("CARGO_BIN_EXE_minuted");
pub const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-key";

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// 27 November 2023: the September meeting has been held, its minutes are due.
pub fn clock() -> Clock {
    Clock::manual(at("2023-11-27T15:00:00Z"))
}

pub fn settings() -> Settings {
    minuted::config::load(None, Vec::new()).unwrap().settings
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/eml")
            .join(name),
    )
    .unwrap()
}

/// A fresh database with the schema and the example board.
pub async fn database() -> (String, PgPool) {
    let (url, pool) = support::fresh_database().await;
    store::migrate(&pool).await.unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let registry = minuted::registry::load(&path).unwrap();
    store::registry::import(&pool, &registry, "test")
        .await
        .unwrap();
    (url, pool)
}

/// Stores `raws` the way ingestion does (through a Maildir) and files them.
pub async fn deliver(pool: &PgPool, clock: &Clock, raws: &[Vec<u8>]) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for (i, raw) in raws.iter().enumerate() {
        std::fs::write(dir.path().join("new").join(format!("{i:04}.test")), raw).unwrap();
    }
    let mailbox = MailboxSettings {
        source: MailboxSource::Maildir,
        path: dir.path().to_owned(),
        ..MailboxSettings::default()
    };
    let mut source = ingest::maildir::MaildirSource::open(&mailbox).unwrap();
    loop {
        match ingest::ingest_batch(&mut source, pool, clock, &mailbox)
            .await
            .unwrap()
        {
            IngestOutcome::Drained => break,
            IngestOutcome::Batch(_) => {}
        }
    }
    while let FilingOutcome::Filed(_) = filer::file_next(pool, &settings(), clock).await.unwrap() {}
}

pub fn minuted_ok(url: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("MINUTED_CONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "minuted {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Replaces the attachment's body in the draft-minutes fixture with `minutes` as a .txt.
pub fn draft_with_text(message_id: &str, minutes: &str) -> Vec<u8> {
    format!(
        "From: LCJB Secretariat <lcjb-secretariat@mopac.example>\r\n\
To: LCJB <lcjb@board.example>\r\n\
Subject: LCJB draft minutes 20.09.2023 for approval\r\n\
Date: Mon, 27 Nov 2023 14:05:00 +0000\r\n\
Message-ID: <{message_id}>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Dear all, please find attached the draft minutes of the meeting held on 20 September.\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Disposition: attachment; filename=\"LCJB Minutes 20.09.2023 DRAFT.txt\"\r\n\
\r\n\
{minutes}\r\n\
--b1--\r\n"
    )
    .into_bytes()
}
