//! `minuted send --once`, `outbox list`, `outbox retry` and `render`, run as the binary an
//! operator runs, against the test's database.

use std::path::Path;
use std::process::{Command, Output};

use minuted::clock::Clock;
use serde_json::Value;

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_minuted");

fn minuted(board: &Board, dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("MINUTED_CONFIG")
        .env("DATABASE_URL", &board.url)
        .env("MINUTED__DATA_DIR", dir.join("var"))
        .env("MINUTED__OUTGOING__PATH", dir.join("outbox"))
        .env("RUST_LOG", "warn")
        .current_dir(dir);
    command
}

fn ok(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn smtp_env(command: &mut Command, port: u16) -> &mut Command {
    command
        .env("MINUTED__OUTGOING__TRANSPORT", "smtp")
        .env("MINUTED__OUTGOING__HOST", "127.0.0.1")
        .env("MINUTED__OUTGOING__PORT", port.to_string())
        .env("MINUTED__OUTGOING__SECURITY", "plain")
}

#[tokio::test]
async fn send_once_list_and_retry_work_from_the_command_line() {
    let board = board().await;
    let clock = Clock::manual(start());
    let ids = board
        .enqueue(
            vec![
                board.circulation(&board.chair),
                board.circulation(&board.probation),
            ],
            &clock,
        )
        .await;
    let dir = tempfile::tempdir().unwrap();

    let listed = json(&ok(
        minuted(&board, dir.path()).args(["outbox", "list", "--json"])
    ));
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for key in [
        "id",
        "kind",
        "to",
        "subject",
        "meeting",
        "status",
        "attempts",
        "message_id",
        "last_error",
    ] {
        assert!(rows[0].get(key).is_some(), "{key} missing from {}", rows[0]);
    }
    assert_eq!(rows[0]["status"], "pending");
    assert_eq!(rows[0]["meeting"], board.meeting_ref.as_str());
    assert_eq!(rows[0]["kind"], "circulation");

    // Refused by the server: both fail, and the secretariat's notice is queued.
    let sink = Sink::start(&["-f", "RCPT"]).await;
    let report =
        json(&ok(smtp_env(&mut minuted(&board, dir.path()), sink.port)
            .args(["send", "--once", "--json"])));
    assert_eq!(report["failed"], 3, "{report}");
    let failed = json(&ok(
        minuted(&board, dir.path()).args(["outbox", "list", "--status", "failed", "--json"])
    ));
    assert_eq!(failed.as_array().unwrap().len(), 3);
    let table = ok(minuted(&board, dir.path()).args(["outbox", "list"]));
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("failed") && table.contains("RCPT TO: 5"),
        "{table}"
    );
    // Subjects and addresses are shown whole: two rows never look the same for a cut.
    for row in failed.as_array().unwrap() {
        let subject = row["subject"].as_str().unwrap();
        let to = row["to"].as_str().unwrap();
        assert!(
            table.lines().any(|l| l.contains(subject) && l.contains(to)),
            "{subject} to {to}: {table}"
        );
    }

    // Retry one by id, then the rest.
    let sink = sink.restart(&[]).await;
    let retried = json(&ok(minuted(&board, dir.path()).args([
        "outbox",
        "retry",
        &ids[0].to_string(),
        "--json",
    ])));
    assert_eq!(retried, serde_json::json!([ids[0]]));
    let text = ok(smtp_env(&mut minuted(&board, dir.path()), sink.port).args(["send", "--once"]));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("sent 1,"), "{text}");
    ok(minuted(&board, dir.path()).args(["outbox", "retry", "--failed"]));
    let report =
        json(&ok(smtp_env(&mut minuted(&board, dir.path()), sink.port)
            .args(["send", "--once", "--json"])));
    assert_eq!(report["sent"], 2, "{report}");
    assert_eq!(sink.message_ids().len(), 3);

    // A sent row cannot be retried; an unknown id is an error too.
    let refused = minuted(&board, dir.path())
        .args(["outbox", "retry", &ids[0].to_string()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is sent"));
    let missing = minuted(&board, dir.path())
        .args(["outbox", "retry", "999999"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
}

#[tokio::test]
async fn send_once_with_the_embedded_defaults_writes_eml_files() {
    let board = board().await;
    let clock = Clock::manual(start());
    board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let out = ok(minuted(&board, dir.path()).args(["send", "--once"]));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("sent 1,"));
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(
        files[0].starts_with("outbox.") && files[0].ends_with(".eml"),
        "{files:?}"
    );
}

#[tokio::test]
async fn render_previews_an_email_from_the_database_in_each_format() {
    let board = board().await;
    let dir = tempfile::tempdir().unwrap();
    let text = ok(minuted(&board, dir.path()).args([
        "render",
        "update_request",
        "--meeting",
        &board.meeting_ref,
        "--member",
        &board.probation.address,
    ]));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.starts_with("Subject: Written update needed by Wednesday 6 December 2023"),
        "{text}"
    );
    assert!(text.contains("Dear Kilvinder Vigurs,"), "{text}");
    assert!(
        text.contains("Item 2.b: Probation: written update on the HMIP recommendations"),
        "{text}"
    );
    assert!(
        !text.contains("Item 1:"),
        "only the items probation leads: {text}"
    );

    let html = ok(minuted(&board, dir.path()).args([
        "render",
        "circulation",
        "--meeting",
        &board.meeting_ref,
        "--format",
        "html",
    ]));
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Dear LCJB Secretariat,"), "{html}");

    let eml = ok(minuted(&board, dir.path()).args([
        "render",
        "chaser",
        "--meeting",
        &board.meeting_ref,
        "--member",
        &board.probation.address,
        "--format",
        "eml",
    ]));
    let parsed = mail_parser::MessageParser::default()
        .parse(&eml.stdout)
        .unwrap();
    assert!(parsed
        .subject()
        .unwrap()
        .starts_with("Reminder: written update"));
    assert!(parsed.body_html(0).is_some() && parsed.body_text(0).is_some());

    let unknown = minuted(&board, dir.path())
        .args(["render", "memo", "--meeting", &board.meeting_ref])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("circulation"));
}

#[tokio::test]
async fn emails_write_meeting_times_in_the_boards_zone_with_bst_in_summer_and_gmt_in_winter() {
    let board = board().await;
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("summer.toml");
    let summer = "\n[[meetings]]\ndate = \"2024-06-12\"\ntime = \"11:00\"\n\
                  title = \"London Criminal Justice Board\"\n";
    std::fs::write(&registry, registry_text(&board.domain) + summer).unwrap();
    ok(minuted(&board, dir.path()).args(["board", "import", registry.to_str().unwrap()]));
    let render = |kind: &str, meeting: &str| {
        let out = ok(minuted(&board, dir.path()).args([
            "render",
            kind,
            "--meeting",
            meeting,
            "--member",
            &board.probation.address,
        ]));
        String::from_utf8(out.stdout).unwrap()
    };
    let winter = render("update_request", &board.meeting_ref);
    assert!(
        winter.contains("Wednesday 13 December 2023 at 10:00 GMT."),
        "{winter}"
    );
    let june = render("update_request", "LCJB-2024-06-12");
    assert!(
        june.contains("Wednesday 12 June 2024 at 11:00 BST."),
        "{june}"
    );
    // Circulation of December's minutes names the next meeting, in summer time.
    let circulation = render("circulation", &board.meeting_ref);
    assert!(
        circulation.contains("The next meeting is on Wednesday 12 June 2024 at 11:00 BST."),
        "{circulation}"
    );
    let shown = ok(minuted(&board, dir.path()).args(["board", "show", "--json"]));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["timezone"], "Europe/London");
}

#[test]
fn check_config_refuses_a_broken_template_override_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("chaser.subject.hbs"), "{{#if}").unwrap();
    let output = Command::new(BIN)
        .env_remove("MINUTED_CONFIG")
        .env("MINUTED__TEMPLATES__DIR", dir.path())
        .arg("check-config")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("chaser.subject.hbs"), "{stderr}");
}

/// Every row `sent`; each delivered once, or twice only when an attempt ended `unknown`.
async fn assert_each_sent_once_or_resent_after_unknown(board: &Board, ids: &[i64], sink: &Sink) {
    let delivered = sink.message_ids();
    for id in ids {
        assert_eq!(board.status(*id).await, "sent", "row {id}");
        let mid = message_id(board, *id).await;
        let times = delivered.iter().filter(|d| **d == mid).count();
        let attempts = board.attempts(*id).await;
        assert!(times >= 1, "row {id} was never delivered");
        if times > 1 {
            assert!(
                attempts
                    .iter()
                    .any(|(_, o)| o.as_deref() == Some("unknown")),
                "row {id} delivered {times} times without an unknown attempt: {attempts:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_daemon_killed_mid_batch_and_restarted_sends_every_row() {
    let board = board().await;
    let clock = Clock::manual(start());
    let rows = (0..16)
        .map(|i| {
            let mut row = board.circulation(&board.chair);
            row.to.name = Some(format!("Member {i}"));
            row
        })
        .collect();
    let ids = board.enqueue(rows, &clock).await;
    // A second per message (the DATA reply is slow), two at a time.
    let sink = Sink::start(&["-w", "1"]).await;
    let dir = tempfile::tempdir().unwrap();
    let daemon = |dir: &Path| {
        let mut command = minuted(&board, dir);
        smtp_env(&mut command, sink.port)
            .env("MINUTED__OUTGOING__CONCURRENCY", "2")
            .env("MINUTED__OUTGOING__TIMEOUT_SECONDS", "2")
            .env("MINUTED__OUTGOING__LEASE_SECONDS", "16")
            .arg("run")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command.spawn().unwrap()
    };

    let mut first = daemon(dir.path());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while sink.message_ids().len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon sent nothing"
        );
        assert!(first.try_wait().unwrap().is_none(), "the daemon exited");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    first.kill().unwrap(); // SIGKILL: no chance to record or release anything
    first.wait().unwrap();
    let left_sending = board
        .statuses()
        .await
        .iter()
        .filter(|(_, s)| s == "sending")
        .count();
    assert!(left_sending > 0, "the kill should leave leased rows behind");

    let mut second = daemon(dir.path());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !board.statuses().await.iter().all(|(_, s)| s == "sent") {
        assert!(
            std::time::Instant::now() < deadline,
            "not everything was sent: {:?}",
            board.statuses().await
        );
        assert!(second.try_wait().unwrap().is_none(), "the daemon exited");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(second.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(second.wait().unwrap().success(), "SIGTERM is a clean stop");
    assert_each_sent_once_or_resent_after_unknown(&board, &ids, &sink).await;
    let recovered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox_attempts WHERE detail LIKE 'lease expired%'",
    )
    .fetch_one(&board.pool)
    .await
    .unwrap();
    assert_eq!(
        recovered as usize, left_sending,
        "each abandoned row recovered once"
    );
}
