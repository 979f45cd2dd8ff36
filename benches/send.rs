//! Send throughput beside Postfix's `smtp-source`, in one run, into the same `smtp-sink`.
//!
//! 1. A fresh database (on the server at `MINUTED_BENCH_DATABASE_URL`, else
//!    `DATABASE_URL`) with the example board imported;
//! 2. N personalised `circulation` emails queued (each to its own address, rendered with
//!    a member's data), timed;
//! 3. `minuted send --once` (this build's binary, in release) drains them into
//!    `smtp-sink` at `outgoing.concurrency` C: render, send, record;
//! 4. `smtp-source -m N -s C -l SIZE` sends as many messages of the same size to the
//!    same sink, once reusing connections (`-d`) and once a connection per message.
//!
//! Prints messages/s and peak RSS of each side by side. Run with
//! `cargo bench --bench send`; `MINUTED_BENCH_MESSAGES` (default 10000) and
//! `MINUTED_BENCH_CONCURRENCY` (default 10) change the run.

// A benchmark prints its figures to the terminal that runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use minuted::clock::Clock;
use minuted::domain::address::EmailAddress;
use minuted::domain::outbound::MailKind;
use minuted::outbox::compose::{compose, Outgoing};
use minuted::store::outbox::{NewOutboxMessage, Recipient};
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool};

const BIN: &str = env!("CARGO_BIN_EXE_minuted");

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let start = base.find("://").map_or(0, |i| i + 3);
    let end = base[start..].find('/').map_or(base.len(), |i| start + i);
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..end]),
        None => format!("{}/{name}", &base[..end]),
    }
}

/// Runs `command` under `/usr/bin/time` and returns (wall seconds, peak RSS in MB, stdout).
fn timed(command: Command) -> (f64, f64, String) {
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped
        .arg("-f")
        .arg("%M %U %S")
        .arg("-o")
        .arg(rss_file.path())
        .arg(program)
        .args(args)
        .envs(
            command
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let output = wrapped.output().expect("cannot run /usr/bin/time");
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let measured = std::fs::read_to_string(rss_file.path()).unwrap();
    let fields: Vec<f64> = measured
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let rss_kb = fields.first().copied().unwrap_or(0.0);
    eprintln!(
        "  ({}: {:.2} s user, {:.2} s system CPU)",
        command.get_program().to_string_lossy(),
        fields.get(1).copied().unwrap_or(0.0),
        fields.get(2).copied().unwrap_or(0.0)
    );
    (
        elapsed,
        rss_kb / 1024.0,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::main]
async fn main() {
    let messages: usize = env_or("MINUTED_BENCH_MESSAGES", "10000").parse().unwrap();
    let concurrency: usize = env_or("MINUTED_BENCH_CONCURRENCY", "10").parse().unwrap();
    let admin = std::env::var("MINUTED_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("set MINUTED_BENCH_DATABASE_URL (or DATABASE_URL) to a PostgreSQL admin URL");
    let sink_program = env_or("MINUTED_BENCH_SMTP_SINK", "/usr/sbin/smtp-sink");
    let source_program = env_or("MINUTED_BENCH_SMTP_SOURCE", "/usr/sbin/smtp-source");

    // 1. A database of its own.
    let name = format!("minuted_bench_{}", std::process::id());
    let mut admin_conn = PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .await
        .unwrap();
    let url = with_database(&admin, &name);
    let pool = PgPool::connect(&url).await.unwrap();
    minuted::store::migrate(&pool).await.unwrap();
    let registry_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let registry = minuted::registry::load(&registry_path).unwrap();
    minuted::store::registry::import(&pool, &registry, "bench")
        .await
        .unwrap();
    let board_id: i64 = sqlx::query_scalar("SELECT id FROM boards")
        .fetch_one(&pool)
        .await
        .unwrap();
    let meeting_id: i64 = sqlx::query_scalar("SELECT id FROM meetings ORDER BY date LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let members: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM members ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();

    // 2. Queue N personalised circulation emails.
    let clock = Clock::System;
    let rows: Vec<NewOutboxMessage> = (0..messages)
        .map(|i| {
            let (member_id, member_name) = &members[i % members.len()];
            let mut row = NewOutboxMessage::new(
                MailKind::Circulation,
                board_id,
                Recipient {
                    address: EmailAddress::parse(&format!("member{i}@bench.example")).unwrap(),
                    name: Some(format!("{member_name} ({i})")),
                    member_id: Some(*member_id),
                },
                json!({ "approved_text": "Thursday 21 September 2023", "next_meeting": null }),
            );
            row.meeting_id = Some(meeting_id);
            row
        })
        .collect();
    let started = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    for chunk in rows.chunks(1000) {
        minuted::store::outbox::enqueue_many(&mut tx, chunk, clock.now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let enqueue_seconds = started.elapsed().as_secs_f64();

    // The size of one message as minuted sends it, for smtp-source's -l.
    let templates = minuted::templates::Templates::embedded().unwrap();
    let sample = templates
        .render(
            MailKind::Circulation,
            &minuted::templates::example_context(MailKind::Circulation),
        )
        .unwrap();
    let from: lettre::message::Mailbox = "LCJB Secretariat <lcjb@board.example>".parse().unwrap();
    let (_, bytes) = compose(&Outgoing {
        from: &from,
        to_address: "member1@bench.example",
        to_name: Some("Sophie Linden (1)"),
        reply_to: "lcjb+0123456789abcdef01234567@board.example",
        return_path: "lcjb+bounce-1@board.example",
        message_id: "outbox.1.0123456789abcdef@board.example",
        in_reply_to: None,
        references: &[],
        subject: &sample.subject,
        text: &sample.text,
        html: &sample.html,
        attachments: Vec::new(),
        calendar: None,
        date: clock.now(),
    })
    .unwrap();
    let size = bytes.len();

    // 3. The sink, then minuted.
    let port = free_port();
    let mut sink = Command::new(&sink_program);
    if nix::unistd::geteuid().is_root() {
        sink.args(["-u", "nobody"]);
    }
    let mut sink = sink
        .arg(format!("127.0.0.1:{port}"))
        .arg("256")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start smtp-sink");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "smtp-sink did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    let dir = tempfile::tempdir().unwrap();
    let mut send = Command::new(BIN);
    send.args(["send", "--once", "--json"])
        .env_remove("MINUTED_CONFIG")
        .env("DATABASE_URL", &url)
        .env("MINUTED__DATA_DIR", dir.path().join("var"))
        .env("MINUTED__OUTGOING__TRANSPORT", "smtp")
        .env("MINUTED__OUTGOING__HOST", "127.0.0.1")
        .env("MINUTED__OUTGOING__PORT", port.to_string())
        .env("MINUTED__OUTGOING__SECURITY", "plain")
        .env("MINUTED__OUTGOING__CONCURRENCY", concurrency.to_string())
        .env("RUST_LOG", "warn");
    let (minuted_seconds, minuted_rss, report) = timed(send);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        report["sent"].as_u64(),
        Some(messages as u64),
        "not everything was sent: {report}"
    );

    // 4. smtp-source: the same count and size into the same sink.
    let source = |reuse: bool| {
        let mut command = Command::new(&source_program);
        if reuse {
            command.arg("-d");
        }
        command
            .args(["-m", &messages.to_string()])
            .args(["-s", &concurrency.to_string()])
            .args(["-l", &size.to_string()])
            .args(["-f", "lcjb@board.example", "-t", "member@bench.example"])
            .arg(format!("127.0.0.1:{port}"));
        timed(command)
    };
    let (reuse_seconds, reuse_rss, _) = source(true);
    let (fresh_seconds, fresh_rss, _) = source(false);
    let _ = sink.kill();
    let _ = sink.wait();

    pool.close().await;
    sqlx::raw_sql(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .await
        .unwrap();

    let rate = |seconds: f64| messages as f64 / seconds;
    println!(
        "send benchmark: {messages} personalised circulation emails of {size} bytes, concurrency {concurrency}, into smtp-sink on loopback"
    );
    println!(
        "  queueing (one transaction, enqueue_many): {enqueue_seconds:.2} s, {:.0} messages/s",
        rate(enqueue_seconds)
    );
    println!(
        "  {:<44} {:>8} {:>12} {:>10}",
        "", "seconds", "messages/s", "peak RSS"
    );
    println!(
        "  {:<44} {:>8.2} {:>12.0} {:>7.1} MB",
        "minuted send --once (render, send, record)",
        minuted_seconds,
        rate(minuted_seconds),
        minuted_rss
    );
    println!(
        "  {:<44} {:>8.2} {:>12.0} {:>7.1} MB",
        format!("smtp-source -d -s {concurrency} (connections reused)"),
        reuse_seconds,
        rate(reuse_seconds),
        reuse_rss
    );
    println!(
        "  {:<44} {:>8.2} {:>12.0} {:>7.1} MB",
        format!("smtp-source -s {concurrency} (a connection per message)"),
        fresh_seconds,
        rate(fresh_seconds),
        fresh_rss
    );
    println!(
        "  minuted / smtp-source: {:.2} (connections reused), {:.2} (a connection per message; target >= 0.5)",
        reuse_seconds / minuted_seconds,
        fresh_seconds / minuted_seconds
    );
}
