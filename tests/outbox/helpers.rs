//! What the outbox tests share: a fresh database with a small board whose addresses no
//! other test uses (so each test reads Dovecot mailboxes of its own), workers on a manual
//! clock, and `smtp-sink` servers started per test.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, TimeZone, Utc};
use minuted::clock::Clock;
use minuted::config::{OutgoingSettings, Security, Transport as TransportKind};
use minuted::domain::address::EmailAddress;
use minuted::domain::outbound::MailKind;
use minuted::outbox::transport::{self, FileTransport, Transport};
use minuted::outbox::worker::{SendOutcome, SendSummary, Worker, WorkerSettings};
use minuted::store::{self, outbox::NewOutboxMessage, outbox::Recipient};
use minuted::templates::Templates;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support;

/// A member of the test board.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: i64,
    pub name: String,
    pub address: String,
}

/// A migrated database of its own holding one board.
pub struct Board {
    pub url: String,
    pub pool: PgPool,
    pub id: i64,
    /// The board's own domain, unique to this test: `lcjb@<domain>`.
    pub domain: String,
    pub chair: Member,
    pub probation: Member,
    pub secretariat: Member,
    pub meeting_id: i64,
    pub meeting_ref: String,
    _dir: tempfile::TempDir,
}

/// The test clock's start: a week before the December meeting.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2023, 12, 6, 9, 0, 0).unwrap()
}

pub fn unique_domain() -> String {
    format!("{}.example", support::unique_name("t").replace('_', "-"))
}

pub fn registry_text(domain: &str) -> String {
    format!(
        r#"
[board]
slug = "lcjb"
name = "London Criminal Justice Board"
address = "lcjb@{domain}"
timezone = "Europe/London"

[[organisations]]
short = "MOPAC"
name = "Mayor's Office for Policing and Crime"
domains = ["{domain}"]

[[organisations]]
short = "HMPPS Probation"
name = "HM Prison and Probation Service, London Probation"
domains = ["probation.{domain}"]

[[members]]
name = "Sophie Linden"
initials = "SL"
role = "Deputy Mayor for Policing and Crime"
organisation = "MOPAC"
email = "sophie.linden@{domain}"
roles = ["chair"]

[[members]]
name = "Kilvinder Vigurs"
initials = "KV"
role = "Regional Probation Director, London"
organisation = "HMPPS Probation"
email = "kilvinder.vigurs@probation.{domain}"

[[members]]
name = "LCJB Secretariat"
role = "LCJB secretariat"
organisation = "MOPAC"
email = "secretariat@{domain}"
roles = ["secretariat"]
circulation = false

[[meetings]]
date = "2023-12-13"
time = "10:00"
title = "London Criminal Justice Board"
papers_deadline = "2023-12-06"

[[meetings.items]]
number = "1"
title = "Welcome, minutes and previous actions"
lead = "MOPAC"

[[meetings.items]]
number = "2.b"
title = "Probation: written update on the HMIP recommendations"
lead = "HMPPS Probation"
"#
    )
}

async fn member(pool: &PgPool, address: &str) -> Member {
    let (id, name): (i64, String) = sqlx::query_as(
        "SELECT m.id, m.name FROM members m JOIN member_addresses a ON a.member_id = m.id
         WHERE a.address = $1",
    )
    .bind(address)
    .fetch_one(pool)
    .await
    .unwrap();
    Member {
        id,
        name,
        address: address.to_owned(),
    }
}

/// A fresh database with the test board imported.
pub async fn board() -> Board {
    let (url, pool) = support::fresh_database().await;
    store::migrate(&pool).await.unwrap();
    let domain = unique_domain();
    let dir = tempfile::tempdir().unwrap();
    let registry_file = dir.path().join("board.toml");
    std::fs::write(&registry_file, registry_text(&domain)).unwrap();
    let registry = minuted::registry::load(&registry_file).unwrap_or_else(|e| panic!("{e}"));
    store::registry::import(&pool, &registry, "test")
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM boards")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (meeting_id, meeting_ref): (i64, String) =
        sqlx::query_as("SELECT id, ref FROM meetings ORDER BY date LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    Board {
        chair: member(&pool, &format!("sophie.linden@{domain}")).await,
        probation: member(&pool, &format!("kilvinder.vigurs@probation.{domain}")).await,
        secretariat: member(&pool, &format!("secretariat@{domain}")).await,
        url,
        pool,
        id,
        domain,
        meeting_id,
        meeting_ref,
        _dir: dir,
    }
}

impl Board {
    pub fn recipient(&self, member: &Member) -> Recipient {
        Recipient {
            address: EmailAddress::parse(&member.address).unwrap(),
            name: Some(member.name.clone()),
            member_id: Some(member.id),
        }
    }

    /// A circulation email to `member` about the test meeting.
    pub fn circulation(&self, member: &Member) -> NewOutboxMessage {
        let mut row = NewOutboxMessage::new(
            MailKind::Circulation,
            self.id,
            self.recipient(member),
            json!({ "approved_text": "Thursday 21 September 2023", "next_meeting": null }),
        );
        row.meeting_id = Some(self.meeting_id);
        row
    }

    /// Queues `rows` in one transaction and returns their ids.
    pub async fn enqueue(&self, rows: Vec<NewOutboxMessage>, clock: &Clock) -> Vec<i64> {
        let mut tx = self.pool.begin().await.unwrap();
        let ids = store::outbox::enqueue_many(&mut tx, &rows, clock.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        ids
    }

    /// Stores `content` as an attachment (as ingestion does) and returns its id.
    pub async fn attachment(&self, content: &[u8]) -> i64 {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(content).to_vec();
        sqlx::query_scalar(
            "INSERT INTO attachments (sha256, size, content) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(digest)
        .bind(content.len() as i64)
        .bind(content)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    pub async fn status(&self, id: i64) -> String {
        sqlx::query_scalar("SELECT status FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn statuses(&self) -> Vec<(i64, String)> {
        sqlx::query_as("SELECT id, status FROM outbox ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn row(&self, id: i64) -> Value {
        sqlx::query_scalar("SELECT to_jsonb(o) FROM outbox o WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// (attempt, outcome) of each attempt of row `id`.
    pub async fn attempts(&self, id: i64) -> Vec<(i32, Option<String>)> {
        sqlx::query_as(
            "SELECT attempt, outcome FROM outbox_attempts WHERE outbox_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    pub async fn event_kinds(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT kind FROM events WHERE kind LIKE 'outbox.%' ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn notices(&self) -> Vec<(i64, String, Value)> {
        sqlx::query_as(
            "SELECT id, to_address, context FROM outbox WHERE kind = 'bounce_notice' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }
}

pub fn templates() -> Arc<Templates> {
    Arc::new(Templates::embedded().unwrap())
}

pub fn outgoing(kind: TransportKind) -> OutgoingSettings {
    OutgoingSettings {
        transport: kind,
        from: "LCJB Secretariat <lcjb@board.example>".to_owned(),
        ..OutgoingSettings::default()
    }
}

/// SMTP settings for plain SMTP to 127.0.0.1:`port`.
pub fn smtp(port: u16) -> OutgoingSettings {
    OutgoingSettings {
        host: Some("127.0.0.1".to_owned()),
        port: Some(port),
        security: Security::Plain,
        timeout_seconds: 5,
        ..outgoing(TransportKind::Smtp)
    }
}

pub fn worker_with(
    board: &Board,
    clock: &Clock,
    transport: Arc<dyn Transport>,
    settings: &OutgoingSettings,
) -> Worker {
    Worker::new(
        board.pool.clone(),
        clock.clone(),
        transport,
        templates(),
        WorkerSettings::from_outgoing(settings).unwrap(),
    )
}

pub fn smtp_worker(board: &Board, clock: &Clock, settings: &OutgoingSettings) -> Worker {
    worker_with(
        board,
        clock,
        transport::from_settings(settings, None).unwrap(),
        settings,
    )
}

pub fn file_worker(board: &Board, clock: &Clock, dir: &Path) -> Worker {
    let settings = outgoing(TransportKind::File);
    worker_with(
        board,
        clock,
        Arc::new(FileTransport::new(dir.to_owned())),
        &settings,
    )
}

/// Steps `worker` until nothing is due; the summed summary.
pub async fn drain(worker: &Worker) -> SendSummary {
    let mut total = SendSummary::default();
    loop {
        match worker.send_batch().await.unwrap() {
            SendOutcome::Idle => return total,
            SendOutcome::RateLimited { .. } => return total,
            SendOutcome::Worked(summary) => total.add(&summary),
        }
    }
}

/// An `smtp-sink` on a loopback port of its own, dumping each message it accepts into a
/// directory; killed when dropped.
pub struct Sink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// smtp-sink's own output (the conversation, with `-v`).
    log: tempfile::NamedTempFile,
    child: tokio::process::Child,
}

impl Sink {
    /// Starts `smtp-sink` with `flags` (fault modes, see `man smtp-sink`).
    pub async fn start(flags: &[&str]) -> Sink {
        Sink::start_on(support::free_port(), flags).await
    }

    pub async fn start_on(port: u16, flags: &[&str]) -> Sink {
        let dir = tempfile::Builder::new()
            .prefix("minuted-sink")
            .tempdir()
            .unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut command = tokio::process::Command::new(support::env("MINUTED_TEST_SMTP_SINK"));
        // smtp-sink refuses to keep root's privileges once it has its socket.
        if nix::unistd::geteuid().is_root() {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .args(flags)
            .arg("-d")
            .arg(dir.path().join("m"))
            .arg(format!("127.0.0.1:{port}"))
            .arg("64")
            .stdout(Stdio::from(log.reopen().unwrap()))
            .stderr(Stdio::from(log.reopen().unwrap()))
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start smtp-sink");
        support::wait_for_port(port, StdDuration::from_secs(10)).await;
        Sink {
            port,
            dir,
            log,
            child,
        }
    }

    /// What smtp-sink printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Stops this sink and starts another on the same port with `flags`.
    pub async fn restart(mut self, flags: &[&str]) -> Sink {
        let port = self.port;
        self.child.kill().await.ok();
        self.child.wait().await.ok();
        Sink::start_on(port, flags).await
    }

    /// Every message dumped so far (the dump's own `X-...` lines stripped).
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            out.push(text);
        }
        out
    }

    /// The Message-IDs of the messages dumped so far, one entry per delivery.
    pub fn message_ids(&self) -> Vec<String> {
        self.messages()
            .iter()
            .filter_map(|m| {
                m.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                    .map(|l| l[11..].trim().trim_matches(['<', '>']).to_owned())
            })
            .collect()
    }
}

/// The Message-ID of row `id`.
pub async fn message_id(board: &Board, id: i64) -> String {
    sqlx::query_scalar("SELECT message_id FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&board.pool)
        .await
        .unwrap()
}
