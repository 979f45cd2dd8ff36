//! Retention and legal holds against a real PostgreSQL and the example board, on a
//! manual clock: each class expires after its own period, an attachment still used by a
//! retained message is kept, and a hold keeps what it covers until it is released.

use super::*;

use minuted::config::RetentionSettings;
use minuted::records::retention::{self, Removal};

/// A message from `from` carrying `attachment` (the same bytes in each message that has
/// it), as a mail client writes it.
fn with_attachment(from: &str, id: &str, subject: &str, attachment: &[u8]) -> Vec<u8> {
    use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
    lettre::Message::builder()
        .from(from.parse::<Mailbox>().unwrap())
        .to("LCJB <lcjb@board.example>".parse::<Mailbox>().unwrap())
        .subject(subject)
        .message_id(Some(format!("<{id}>")))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain("Our update is attached.".to_owned()))
                .singlepart(
                    Attachment::new("update.txt".to_owned())
                        .body(attachment.to_vec(), "text/plain".parse().unwrap()),
                ),
        )
        .unwrap()
        .formatted()
}

async fn run(pool: &PgPool, settings: &RetentionSettings, now: &str) -> Removal {
    let mut tx = pool.begin().await.unwrap();
    let removal = retention::run(&mut tx, settings, "test", at(now))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    removal
}

async fn plan(pool: &PgPool, settings: &RetentionSettings, now: &str) -> Removal {
    let mut conn = pool.acquire().await.unwrap();
    retention::plan(&mut conn, settings, at(now)).await.unwrap()
}

/// (removed_rule, raw bytes left, subject) of the message with this Message-ID.
async fn tombstone(pool: &PgPool, message_id: &str) -> (Option<String>, i32, Option<String>) {
    sqlx::query_as(
        "SELECT removed_rule, octet_length(raw), subject FROM messages WHERE message_id = $1",
    )
    .bind(message_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn each_class_expires_after_its_period_a_shared_attachment_is_kept_and_a_hold_keeps_what_it_covers(
) {
    let (url, pool) = database().await;
    let clock = Clock::manual(at("2023-12-04T08:00:00Z"));
    let shared = b"Probation and the MPS: the joint caseload figures for November.";
    deliver(
        &pool,
        &clock,
        &[
            // From a stranger: quarantined, kept 90 days.
            with_attachment(
                "Someone <someone@stranger.example>",
                "stranger@stranger.example",
                "Figures",
                shared,
            ),
            with_attachment(
                "Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>",
                "probation@probation.justice.example",
                "[LCJB 2023-12-13] Item 2b written update",
                shared,
            ),
            with_attachment(
                "Matt Twist <matt.twist@met.example>",
                "mps@met.example",
                "[LCJB 2023-12-13] Item 3 written update from the MPS",
                b"MPS figures.",
            ),
        ],
    )
    .await;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM messages ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(statuses[0], "quarantined", "{statuses:?}");

    // 89 days on nothing has expired; at 90 the quarantined message has.
    let settings = RetentionSettings::default();
    assert!(plan(&pool, &settings, "2024-03-02T08:00:00Z")
        .await
        .rules
        .is_empty());
    let planned = plan(&pool, &settings, "2024-03-03T08:00:00Z").await;
    assert_eq!(planned.rules.len(), 1, "{planned:?}");
    assert_eq!(
        (
            planned.rules[0].rule.as_str(),
            planned.rules[0].due,
            planned.rules[0].held
        ),
        ("retention.unrelated_days", 1, 0)
    );
    let removed = run(&pool, &settings, "2024-03-03T08:00:00Z").await;
    assert_eq!(removed.rules[0].due, 1);
    assert_eq!(
        tombstone(&pool, "stranger@stranger.example").await,
        (Some("retention.unrelated_days".into()), 0, None)
    );
    // The tombstone keeps the hash and the dates; its attachment is still used by
    // Probation's update, so its bytes stay.
    let hash: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT raw_sha256 FROM messages WHERE message_id = 'stranger@stranger.example'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(hash.unwrap().len(), 32);
    let bytes: Vec<i32> =
        sqlx::query_scalar("SELECT octet_length(content) FROM attachments ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(bytes, [shared.len() as i32, 12]);
    assert_eq!(removed.attachments, 0);

    // A hold on the MPS sender, by the command line.
    let held = minuted_ok(
        &url,
        &[
            "hold",
            "add",
            "--person",
            "Matt.Twist@met.example",
            "--reason",
            "complaint 2024/17",
            "--json",
        ],
    );
    let hold_id = serde_json::from_slice::<Value>(&held).unwrap()["id"]
        .as_i64()
        .unwrap();
    let listed = String::from_utf8(minuted_ok(&url, &["hold", "list"])).unwrap();
    assert!(
        listed.contains("matt.twist@met.example") && listed.contains("in force"),
        "{listed}"
    );

    // With updates kept 100 days: Probation's goes, with the shared attachment; the MPS
    // one is held.
    let short = RetentionSettings {
        message_days: 100,
        ..RetentionSettings::default()
    };
    let removed = run(&pool, &short, "2024-03-14T08:00:00Z").await;
    let messages = removed
        .rules
        .iter()
        .find(|r| r.rule == "retention.message_days")
        .unwrap();
    assert_eq!((messages.due, messages.held), (1, 1), "{removed:?}");
    assert_eq!(
        tombstone(&pool, "probation@probation.justice.example")
            .await
            .0
            .as_deref(),
        Some("retention.message_days")
    );
    assert!(tombstone(&pool, "mps@met.example").await.1 > 0, "held");
    let bytes: Vec<i32> =
        sqlx::query_scalar("SELECT octet_length(content) FROM attachments ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        bytes,
        [0, 12],
        "the shared attachment went with its last retained message"
    );
    assert_eq!(removed.attachments, 1);

    // Released, the held message goes at the next run, and each run left its events.
    minuted_ok(&url, &["hold", "release", &hold_id.to_string()]);
    let removed = run(&pool, &short, "2024-03-15T08:00:00Z").await;
    assert_eq!(
        removed.rules.iter().map(|r| r.due).sum::<usize>(),
        1,
        "{removed:?}"
    );
    assert!(tombstone(&pool, "mps@met.example").await.0.is_some());
    assert_eq!(attachment_bytes_total(&pool).await, 0);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM events WHERE kind = 'retention.removed'"
        )
        .await,
        5
    );
}

async fn attachment_bytes_total(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT coalesce(sum(octet_length(content)), 0)::BIGINT FROM attachments")
        .fetch_one(pool)
        .await
        .unwrap()
}

const KILVINDER: &str = "kilvinder.vigurs@probation.justice.example";

#[tokio::test]
async fn an_export_holds_exactly_the_persons_records_and_erasure_leaves_no_byte_of_their_address() {
    // Update requests go out on 3 December; Probation and the MPS send updates.
    let (url, pool, clock) = with_probation_update().await;
    deliver(
        &pool,
        &clock,
        &[with_attachment(
            "Matt Twist <matt.twist@met.example>",
            "mps-update@met.example",
            "[LCJB 2023-12-13] Item 3 written update from the MPS",
            b"MPS figures.",
        )],
    )
    .await;

    // The export: Kilvinder's message and the mail to them, nobody else's.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access.zip");
    let found: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &[
            "person",
            "export",
            "Kilvinder.Vigurs@probation.justice.example",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(found["messages"], 1, "{found}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    for part in [
        "README.txt",
        "messages.json",
        "member.json",
        "actions.json",
        "attendance.json",
        "outbox.json",
        "events.json",
    ] {
        assert!(names.contains(&part.to_owned()), "{part} in {names:?}");
    }
    let emls: Vec<&String> = names.iter().filter(|n| n.ends_with(".eml")).collect();
    assert_eq!(emls.len(), 1, "{names:?}");
    let mut eml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name(emls[0]).unwrap(), &mut eml).unwrap();
    assert!(
        eml.contains("probation-update@probation.justice.example"),
        "{eml}"
    );
    let read_json = |zip: &mut zip::ZipArchive<std::fs::File>, name: &str| -> Value {
        serde_json::from_reader(zip.by_name(name).unwrap()).unwrap()
    };
    let outbox = read_json(&mut zip, "outbox.json");
    let expected_outbox = count(
        &pool,
        &format!("SELECT count(*) FROM outbox WHERE to_address = '{KILVINDER}'"),
    )
    .await;
    assert!(expected_outbox > 0);
    assert_eq!(outbox.as_array().unwrap().len() as i64, expected_outbox);
    let member = read_json(&mut zip, "member.json");
    assert_eq!(member[0]["name"], "Kilvinder Vigurs");
    let mut readme = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("README.txt").unwrap(), &mut readme).unwrap();
    assert!(
        readme.contains(KILVINDER) && readme.contains("messages/ID.eml"),
        "{readme}"
    );

    // Under a legal hold, erasure is refused; a dry run changes nothing.
    let held = minuted_ok(
        &url,
        &[
            "hold", "add", "--person", KILVINDER, "--reason", "tribunal", "--json",
        ],
    );
    let hold_id = serde_json::from_slice::<Value>(&held).unwrap()["id"]
        .as_i64()
        .unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_minuted"))
        .args(["person", "erase", KILVINDER, "--reason", "request 2024/3"])
        .env("DATABASE_URL", &url)
        .env_remove("MINUTED_CONFIG")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("legal hold (tribunal)"));
    minuted_ok(&url, &["hold", "release", &hold_id.to_string()]);
    let events_before = count(&pool, "SELECT count(*) FROM events").await;
    let dry: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &[
            "person",
            "erase",
            KILVINDER,
            "--reason",
            "request 2024/3",
            "--dry-run",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(dry["dry_run"], true);
    assert!(
        still_named(&pool, KILVINDER).await > 0,
        "a dry run changes nothing"
    );

    let erased: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &[
            "person",
            "erase",
            KILVINDER,
            "--reason",
            "request 2024/3",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(erased["pseudonym"], "erased-1@erased.invalid");
    // Every text column of every table, scanned: no address, no name.
    assert_eq!(still_named(&pool, KILVINDER).await, 0);
    assert_eq!(still_named(&pool, "Kilvinder Vigurs").await, 0);
    // The audit trail still holds, one event more: the erasure.
    assert_eq!(
        count(&pool, "SELECT count(*) FROM events").await,
        events_before + 1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM events WHERE kind = 'person.erased'"
        )
        .await,
        1
    );
    // Someone named in approved minutes is refused: those are a public record.
    sqlx::query(
        "INSERT INTO minutes_revisions (board_id, meeting_id, n, message_id, format,
                                        extracted_text, content_sha256, status, created_at)
         SELECT mt.board_id, mt.id, 1, m.id, 'body',
                'Present: Matt Twist (MPS). 1. Welcome.', 'x', 'approved', now()
         FROM meetings mt, messages m
         WHERE mt.ref = 'LCJB-2023-09-20' AND m.message_id = 'mps-update@met.example'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_minuted"))
        .args([
            "person",
            "erase",
            "matt.twist@met.example",
            "--reason",
            "request 2024/4",
        ])
        .env("DATABASE_URL", &url)
        .env_remove("MINUTED_CONFIG")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("named in approved minutes (LCJB-2023-09-20 revision 1)"),
        "{stderr}"
    );
    assert!(still_named(&pool, "matt.twist@met.example").await > 0);

    // An address nothing is held about is refused, and spends no pseudonym.
    let unknown = std::process::Command::new(env!("CARGO_BIN_EXE_minuted"))
        .args([
            "person",
            "erase",
            "nobody@nowhere.example",
            "--reason",
            "request 2024/5",
        ])
        .env("DATABASE_URL", &url)
        .env_remove("MINUTED_CONFIG")
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr)
        .contains("nothing is held about nobody@nowhere.example"));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM events WHERE kind = 'person.erased'"
        )
        .await,
        1
    );

    // Other people's records are untouched.
    assert_eq!(
        tombstone(&pool, "mps-update@met.example")
            .await
            .2
            .as_deref(),
        Some("[LCJB 2023-12-13] Item 3 written update from the MPS")
    );
}

/// Rows in any text column of any table that still hold `text` (any case).
async fn still_named(pool: &PgPool, text: &str) -> i64 {
    let mut conn = pool.acquire().await.unwrap();
    let pattern = regex::escape(text);
    let mut total = 0;
    for column in minuted::store::person::text_columns(&mut conn)
        .await
        .unwrap()
    {
        let n = minuted::store::person::count_in(&mut conn, &column, &pattern)
            .await
            .unwrap();
        if n > 0 {
            eprintln!("{}.{}: {n}", column.table, column.column);
        }
        total += n;
    }
    total
}
