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
