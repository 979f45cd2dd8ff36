//! Approval-to-circulation benchmark: the time from the secretariat's APPROVE reply being
//! handed to Postfix to the first circulation email being accepted by SMTP, end to end
//! through the real services and the real binary, with `approval.undo_minutes = 0`.
//!
//! Each sample is a board of its own (a fresh database, the example registry under a
//! unique domain) and one `minuted run` daemon reading its Dovecot mailbox over IMAPS (IDLE)
//! and sending through Postfix. The draft minutes of 20 September 2023 arrive; the
//! approval request is read from the secretariat's mailbox and answered with APPROVE; the
//! clock runs from the moment Postfix accepted the reply to the first circulation row
//! recorded as sent. Beside it, in the same run and through the same daemon, the
//! reference: a plain message from Postfix to stored, the part of the path that no
//! approval work touches (mail in over LMTP, IDLE, fetch, store).
//!
//! Run it with `scripts/bench-approval.sh` (services from the test command, release build).
//! `MINUTED_BENCH_SAMPLES` changes the number of samples (5).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;

const KEY: &str = "0123456789abcdef0123456789abcdef-bench-key";
const CLOCK: &str = "2023-11-27T15:00:00Z";
const WAIT: Duration = Duration::from_secs(60);

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let samples: usize = std::env::var("MINUTED_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let mut approval = Vec::new();
    let mut reference = Vec::new();
    for k in 0..samples {
        let board = Board::new().await;
        let daemon = board.daemon();
        let stored = board.plain_message_stored(k).await;
        let circulated = board.approve_and_circulate().await;
        eprintln!(
            "sample {k}: approval to circulation {circulated:.0} ms, plain message stored {stored:.0} ms"
        );
        approval.push(circulated);
        reference.push(stored);
        daemon.stop();
    }
    let summary = |samples: &[f64]| {
        let mut sorted = samples.to_vec();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (sorted[sorted.len() / 2], sorted[sorted.len() - 1])
    };
    let (median, max) = summary(&approval);
    let (ref_median, ref_max) = summary(&reference);
    println!();
    println!(
        "{:<58} {:>8} {:>12} {:>9}",
        "through Postfix, Dovecot (IMAPS, IDLE) and PostgreSQL",
        "samples",
        "median (ms)",
        "max (ms)"
    );
    println!(
        "{:<58} {:>8} {:>12.0} {:>9.0}",
        "APPROVE reply accepted -> first circulation sent",
        approval.len(),
        median,
        max
    );
    println!(
        "{:<58} {:>8} {:>12.0} {:>9.0}",
        "reference: plain message accepted -> stored",
        reference.len(),
        ref_median,
        ref_max
    );
    println!(
        "approval to circulation: median {median:.0} ms, max {max:.0} ms (target < 2000); \
         {:.0} ms of the median is past the mail-in reference",
        median - ref_median
    );
}

/// One board of its own, with the undo window off and the schedule idle.
struct Board(support::ExampleBoard);

impl std::ops::Deref for Board {
    type Target = support::ExampleBoard;

    fn deref(&self) -> &support::ExampleBoard {
        &self.0
    }
}

/// The running daemon; SIGTERM on stop.
struct Daemon(Child);

impl Daemon {
    fn stop(mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.0.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let status = self.0.wait().unwrap();
        assert!(status.success(), "minuted run exited with {status}");
    }
}

impl Board {
    async fn new() -> Board {
        let extra = format!(
            "[approval]\nsecret = \"{KEY}\"\nundo_minutes = 0\n\n[schedule]\nenabled = false\n"
        );
        let board = Board(support::ExampleBoard::new("a", &extra).await);
        let status = board
            .command(CLOCK, "warn")
            .args(["board", "import"])
            .arg(&board.registry)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "board import failed");
        board
    }

    fn daemon(&self) -> Daemon {
        let log = std::fs::File::create(self.dir.path().join("daemon.log")).unwrap();
        Daemon(
            self.command(CLOCK, "warn")
                .arg("run")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        )
    }

    fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Polls `sql` (a boolean) every 5 ms until it holds; the milliseconds since `started`.
    async fn until(&self, what: &str, sql: &str, bind: &str, started: Instant) -> f64 {
        loop {
            let done: bool = sqlx::query_scalar(sql)
                .bind(bind)
                .fetch_one(&self.pool)
                .await
                .unwrap();
            if done {
                return started.elapsed().as_secs_f64() * 1000.0;
            }
            assert!(
                started.elapsed() < WAIT,
                "{what}: not after {WAIT:?}\n--- daemon log ---\n{}",
                self.daemon_log()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A note from an agency, through Postfix, until the daemon has stored it.
    async fn plain_message_stored(&self, k: usize) -> f64 {
        let from = self.localise("kilvinder.vigurs@probation.justice.example");
        let id = format!("note-{k}.{}@probation.example", self.unique);
        let raw = format!(
            "From: {from}\r\nTo: {board}\r\nSubject: A note\r\nMessage-ID: <{id}>\r\n\
             Date: Mon, 27 Nov 2023 15:00:00 +0000\r\n\r\nFor information.\r\n",
            board = self.board
        );
        // Let the daemon start, read the empty folder and enter IDLE.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let started = Instant::now();
        support::smtp_send(&from, &[&self.board], raw.as_bytes()).await;
        self.until(
            "the note stored",
            "SELECT EXISTS (SELECT 1 FROM messages WHERE message_id = $1)",
            &id,
            started,
        )
        .await
    }

    /// The draft minutes in, the approval request out, APPROVE by reply: the milliseconds
    /// from Postfix accepting the reply to the first circulation sent.
    async fn approve_and_circulate(&self) -> f64 {
        let draft = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml/draft_minutes.eml"),
        )
        .unwrap();
        let draft = self.localise(&draft);
        support::smtp_send(&self.secretariat, &[&self.board], draft.as_bytes()).await;
        let request = self.approval_request().await;
        let parsed = MessageParser::default().parse(&request).unwrap();
        let reply_to = parsed
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap()
            .to_owned();
        let parent = parsed.message_id().unwrap().to_owned();
        let subject = parsed.subject().unwrap_or_default().to_owned();
        let reply = format!(
            "From: {from}\r\nTo: {reply_to}\r\nSubject: Re: {subject}\r\n\
             Date: Mon, 27 Nov 2023 15:05:00 +0000\r\nMessage-ID: <approve.{unique}@mopac.example>\r\n\
             In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nApproved\r\n",
            from = self.secretariat,
            unique = self.unique,
        );
        let started = Instant::now();
        support::smtp_send(&self.secretariat, &[&reply_to], reply.as_bytes()).await;
        self.until(
            "the first circulation sent",
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = $1 AND status = 'sent')",
            "circulation",
            started,
        )
        .await
    }

    /// Waits for the approval request in the secretariat's mailbox; its raw bytes.
    async fn approval_request(&self) -> Vec<u8> {
        let started = Instant::now();
        loop {
            let found = support::imap_fetch_all(&self.secretariat, "INBOX").await;
            if let Some(raw) = found.into_iter().find(|raw| {
                MessageParser::default()
                    .parse(raw)
                    .and_then(|m| m.subject().map(|s| s.starts_with("Approval needed")))
                    .unwrap_or(false)
            }) {
                return raw;
            }
            assert!(
                started.elapsed() < WAIT,
                "no approval request reached {}\n--- daemon log ---\n{}",
                self.secretariat,
                self.daemon_log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
