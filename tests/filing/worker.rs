//! The filing worker and its commands against a real PostgreSQL (and, for the end-to-end
//! test, the test Dovecot): messages stored by ingestion are filed exactly once, with an
//! event and the acknowledgement owed; triage and re-filing by hand; a meeting's status.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use minuted::clock::Clock;
use minuted::config::{MailboxSettings, MailboxSource, Secret, Security, Settings};
use minuted::filing::worker::{self as filer, FilingOutcome};
use minuted::filing::{Disposition, Kind};
use minuted::ingest::{self, IngestOutcome, MailboxSource as _};
use minuted::store::{self, triage};
use serde_json::Value;
use sqlx::PgPool;

use crate::support;

const BIN: &str = env!("CARGO_BIN_EXE_minuted");

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// 1 December 2023: the December meeting's papers window is open.
fn clock() -> Clock {
    Clock::manual(at("2023-12-01T16:00:00Z"))
}

/// The embedded defaults.
fn settings() -> Settings {
    minuted::config::load(None, Vec::new()).unwrap().settings
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/eml")
            .join(name),
    )
    .unwrap()
}

/// A fresh database with the schema and the example board.
async fn database() -> (String, PgPool) {
    let (url, pool) = support::fresh_database().await;
    store::migrate(&pool).await.unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let registry = minuted::registry::load(&path).unwrap();
    store::registry::import(&pool, &registry, "test")
        .await
        .unwrap();
    (url, pool)
}

/// Stores `raws` the way ingestion does, through a Maildir.
async fn ingest_all(pool: &PgPool, raws: &[Vec<u8>]) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for (i, raw) in raws.iter().enumerate() {
        std::fs::write(dir.path().join("new").join(format!("{i:04}.test")), raw).unwrap();
    }
    let settings = MailboxSettings {
        source: MailboxSource::Maildir,
        path: dir.path().to_owned(),
        ..MailboxSettings::default()
    };
    let mut source = ingest::maildir::MaildirSource::open(&settings).unwrap();
    loop {
        match ingest::ingest_batch(&mut source, pool, &Clock::System, &settings)
            .await
            .unwrap()
        {
            IngestOutcome::Drained => break,
            IngestOutcome::Batch(_) => {}
        }
    }
}

async fn statuses(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as("SELECT message_id, status FROM messages ORDER BY message_id")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn minuted(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", url)
        .env_remove("MINUTED_CONFIG")
        .output()
        .unwrap()
}

fn minuted_ok(url: &str, args: &[&str]) -> Vec<u8> {
    let output = minuted(url, args);
    assert!(
        output.status.success(),
        "minuted {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[tokio::test]
async fn received_messages_are_filed_once_with_an_event_and_an_owed_acknowledgement() {
    let (_url, pool) = database().await;
    ingest_all(
        &pool,
        &[
            fixture("outlook_html_update.eml"),
            fixture("spam.eml"),
            fixture("two_items.eml"),
            fixture("out_of_office_en.eml"),
        ],
    )
    .await;
    let settings = settings();
    let clock = clock();
    let mut outcomes = Vec::new();
    loop {
        match filer::file_next(&pool, &settings, &clock).await.unwrap() {
            FilingOutcome::Filed(recorded) => outcomes.push(recorded),
            FilingOutcome::Idle => break,
            FilingOutcome::NoBoard => panic!("the board is imported"),
        }
    }
    assert_eq!(outcomes.len(), 4);
    let by_kind: Vec<(Kind, Disposition)> =
        outcomes.iter().map(|r| (r.kind, r.disposition)).collect();
    assert!(
        by_kind.contains(&(Kind::WrittenUpdate, Disposition::Filed)),
        "{by_kind:?}"
    );
    assert!(
        by_kind.contains(&(Kind::Unrelated, Disposition::Quarantined)),
        "{by_kind:?}"
    );
    assert!(
        by_kind.contains(&(Kind::WrittenUpdate, Disposition::Triage)),
        "{by_kind:?}"
    );
    assert!(
        by_kind.contains(&(Kind::AutoReply, Disposition::Filed)),
        "{by_kind:?}"
    );

    let statuses = statuses(&pool).await;
    assert!(
        statuses.iter().all(|(_, s)| s != "received"),
        "{statuses:?}"
    );
    let filings: i64 = sqlx::query_scalar("SELECT count(*) FROM filings WHERE current")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(filings, 4);
    let events: Vec<(String, Value)> =
        sqlx::query_as("SELECT kind, detail FROM events WHERE kind = 'filing.decided' ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(events.len(), 4);
    // The one message in triage is announced to the secretariat, once.
    let notified: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'filing.triage_notified'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(notified, 1);
    assert!(events
        .iter()
        .all(|(k, d)| k == "filing.decided"
            && d["reasons"].as_array().is_some_and(|r| !r.is_empty())));

    // Only the update filed with confidence is acknowledged, to its sender, through the
    // outbox, naming what it was filed against; the record of it says it was queued.
    let queued: Vec<(String, String, Value, Option<String>)> = sqlx::query_as(
        "SELECT kind, to_address, context, in_reply_to FROM outbox
         WHERE kind <> 'triage_notice' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    let (kind, to, context, in_reply_to) = &queued[0];
    assert_eq!(kind, "acknowledgement");
    assert_eq!(to, "kilvinder.vigurs@probation.justice.example");
    assert_eq!(context["filed_as"], "a written update");
    assert_eq!(context["item"], "2.b");
    assert_eq!(
        context["filed_against"],
        serde_json::json!([
            "Meeting LCJB-2023-12-13 (Wednesday 13 December 2023)",
            "Item 2.b: Probation: written update on action taken against the 10 HMIP recommendations",
            "From HMPPS Probation"
        ])
    );
    assert_eq!(
        in_reply_to.as_deref(),
        Some("LO2P265MB5031A2E6C7D9@LO2P265MB5031.GBRP265.PROD.OUTLOOK.COM")
    );
    // The secretariat is told, each once, that the message in triage waits for them.
    let notices: Vec<(String, Value)> = sqlx::query_as(
        "SELECT to_address, context FROM outbox WHERE kind = 'triage_notice' ORDER BY to_address",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let told: Vec<&str> = notices.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(
        told,
        [
            "lcjb-secretariat@mopac.example",
            "shobnam.islam@mopac.example",
            "tamara.barnett@mopac.example"
        ]
    );
    assert!(notices.iter().all(|(_, c)| c["count"] == 1), "{notices:?}");
    let owed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pending_acknowledgements WHERE sent_to_outbox_at IS NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owed, 0);

    // Nothing is left: a second pass files nothing again.
    assert_eq!(
        filer::file_next(&pool, &settings, &clock).await.unwrap(),
        FilingOutcome::Idle
    );
}

#[tokio::test]
async fn two_workers_never_file_the_same_message_twice() {
    let (_url, pool) = database().await;
    let raws: Vec<Vec<u8>> = (0..30)
        .map(|i| {
            format!(
                "From: Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>\r\n\
                 To: lcjb@board.example\r\n\
                 Subject: [LCJB 2023-12-13] Written update {i} - Item 2.b\r\n\
                 Message-ID: <race-{i}@probation.justice.example>\r\n\
                 Date: Fri, 1 Dec 2023 10:00:00 +0000\r\n\
                 \r\n\
                 Our update.\r\n"
            )
            .into_bytes()
        })
        .collect();
    ingest_all(&pool, &raws).await;
    let settings = settings();
    let mut workers = Vec::new();
    for _ in 0..3 {
        let pool = pool.clone();
        let settings = settings.clone();
        workers.push(tokio::spawn(async move {
            filer::drain(&pool, &settings, &clock()).await.unwrap()
        }));
    }
    let mut filed = 0;
    for worker in workers {
        filed += worker.await.unwrap().filed;
    }
    assert_eq!(filed, 30);
    let (filings, events): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM filings), (SELECT count(*) FROM events WHERE kind = 'filing.decided')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((filings, events), (30, 30));
}

#[tokio::test]
async fn a_backlog_larger_than_one_claim_by_count_or_by_bytes_is_filed_by_one_drain() {
    let (_url, pool) = database().await;
    // More short messages than one claim takes (50), then four long ones: a claim holds
    // about 4 MB of bodies, so the last four take two claims of fewer than 50.
    let raws: Vec<Vec<u8>> = (0..60)
        .map(|i| {
            let body = if i >= 56 {
                "The board noted the update. ".repeat(55_000)
            } else {
                format!("A short note, number {i}.")
            };
            format!(
                "From: Someone <someone{i}@elsewhere.example>\r\nTo: lcjb@board.example\r\n\
                 Subject: Note {i}\r\nMessage-ID: <backlog-{i}@elsewhere.example>\r\n\
                 Date: Mon, 4 Dec 2023 09:00:00 +0000\r\n\r\n{body}\r\n"
            )
            .into_bytes()
        })
        .collect();
    ingest_all(&pool, &raws).await;

    let summary = filer::drain(&pool, &settings(), &clock()).await.unwrap();
    assert_eq!(summary.filed + summary.triage + summary.quarantined, 60);
    let statuses = statuses(&pool).await;
    assert_eq!(statuses.len(), 60);
    assert!(statuses.iter().all(|(_, status)| status != "received"));
}

#[tokio::test]
async fn messages_wait_for_a_board_before_they_are_filed() {
    let (_url, pool) = support::fresh_database().await;
    store::migrate(&pool).await.unwrap();
    ingest_all(&pool, &[fixture("docx_update.eml")]).await;
    let settings = settings();
    assert_eq!(
        filer::file_next(&pool, &settings, &clock()).await.unwrap(),
        FilingOutcome::NoBoard
    );
    assert_eq!(statuses(&pool).await[0].1, "received");
}

#[tokio::test]
async fn triage_is_listed_with_best_guesses_and_filed_by_hand_with_an_audit_trail() {
    let (url, pool) = database().await;
    ingest_all(&pool, &[fixture("two_items.eml"), fixture("spam.eml")]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();

    let list: Value =
        serde_json::from_slice(&minuted_ok(&url, &["triage", "list", "--json"])).unwrap();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{list:#}");
    let row = &rows[0];
    assert_eq!(row["status"], "triage");
    assert_eq!(row["kind"], "written_update");
    assert_eq!(row["meeting"], "LCJB-2023-12-13");
    assert_eq!(row["item"], "2.b");
    assert_eq!(row["organisation"], "HMPPS Probation");
    assert!(row["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.as_str().unwrap().contains("names 2 items")));
    let all: Value =
        serde_json::from_slice(&minuted_ok(&url, &["triage", "list", "--all", "--json"])).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    let text = String::from_utf8(minuted_ok(&url, &["triage", "list"])).unwrap();
    assert!(text.contains("best guess"), "{text}");

    let id = row["id"].as_i64().unwrap().to_string();
    let filed: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &[
            "triage",
            "file",
            &id,
            "--item",
            "4",
            "--by",
            "tamara.barnett@mopac.example",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(filed["kind"], "written_update");
    assert_eq!(filed["disposition"], "filed");

    let current: (String, Option<String>, String, f32) = sqlx::query_as(
        "SELECT f.kind, i.number, f.decided_by, f.confidence FROM filings f
         LEFT JOIN agenda_items i ON i.id = f.item_id WHERE f.message_id = $1 AND f.current",
    )
    .bind(row["id"].as_i64().unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        current,
        (
            "written_update".into(),
            Some("4".into()),
            "tamara.barnett@mopac.example".into(),
            1.0
        )
    );
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM filings WHERE message_id = $1")
        .bind(row["id"].as_i64().unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(history, 2);
    let (actor, detail): (String, Value) = sqlx::query_as(
        "SELECT actor, detail FROM events WHERE kind = 'filing.refiled' AND subject_id = $1",
    )
    .bind(row["id"].as_i64().unwrap())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(actor, "tamara.barnett@mopac.example");
    assert_eq!(detail["item"], "4");
    assert_eq!(detail["previous"]["disposition"], "triage");
    let after: Value =
        serde_json::from_slice(&minuted_ok(&url, &["triage", "list", "--json"])).unwrap();
    assert_eq!(after, Value::Array(vec![]));

    // Re-filing again is possible and audited too; unknown names are refused with the
    // nearest that exist.
    minuted_ok(
        &url,
        &[
            "actions",
            "add",
            "--meeting",
            "LCJB-2023-09-20",
            "--owner",
            "HMPPS Probation",
            "Publish the action plan",
        ],
    );
    let said = String::from_utf8(minuted_ok(
        &url,
        &[
            "triage",
            "file",
            &id,
            "--kind",
            "action_update",
            "--action",
            "lcjb-a1",
        ],
    ))
    .unwrap();
    assert!(
        said.starts_with(&format!(
            "message {id} filed as action_update: LCJB-2023-12-13, item 4, LCJB-A1, HMPPS Probation"
        )),
        "{said}"
    );
    let kind: (String, Option<String>) =
        sqlx::query_as("SELECT kind, action_ref FROM filings WHERE message_id = $1 AND current")
            .bind(row["id"].as_i64().unwrap())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kind, ("action_update".into(), Some("LCJB-A1".into())));
    for (args, error) in [
        (vec!["--item", "9"], "item 9"),
        (
            vec!["--meeting", "LCJB-2023-12-31"],
            "no meeting \"LCJB-2023-12-31\"; did you mean LCJB-2023-12-13?",
        ),
        (
            vec!["--organisation", "HMPPS Probaton"],
            "no organisation \"HMPPS Probaton\"; did you mean HMPPS Probation?",
        ),
        (
            vec!["--organisation", "Nobody"],
            "the organisations are ADASS, BTP,",
        ),
        (
            vec!["--action", "LCJB-A9"],
            "no action \"LCJB-A9\"; did you mean LCJB-A1?",
        ),
        (vec!["--kind", "spam"], "is not one of"),
    ] {
        let mut all = vec!["triage", "file", &id];
        all.extend(args);
        let output = minuted(&url, &all);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(error), "{all:?}: {stderr}");
    }
    let output = minuted(&url, &["triage", "file", "999999", "--kind", "unrelated"]);
    assert!(!output.status.success());
}

#[tokio::test]
async fn messages_list_and_show_say_what_each_message_is_filed_as() {
    let (url, pool) = database().await;
    ingest_all(&pool, &[fixture("outlook_html_update.eml")]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();
    let list: Value =
        serde_json::from_slice(&minuted_ok(&url, &["messages", "list", "--json"])).unwrap();
    let row = &list[0];
    assert_eq!(row["status"], "filed");
    assert_eq!(row["kind"], "written_update");
    assert_eq!(row["meeting"], "LCJB-2023-12-13");
    assert_eq!(row["item"], "2.b");
    assert_eq!(row["organisation"], "HMPPS Probation");
    assert_eq!(row["confidence"], 0.97);
    let by_meeting: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &["messages", "list", "--json", "--meeting", "lcjb-2023-12-13"],
    ))
    .unwrap();
    assert_eq!(by_meeting.as_array().unwrap().len(), 1);
    let filed_as = "written_update: LCJB-2023-12-13, item 2.b, HMPPS Probation";
    let table = String::from_utf8(minuted_ok(&url, &["messages", "list"])).unwrap();
    assert!(table.contains("FILED AS"), "{table}");
    assert!(table.contains(filed_as), "{table}");

    let id = row["id"].as_i64().unwrap().to_string();
    let shown = String::from_utf8(minuted_ok(&url, &["messages", "show", &id])).unwrap();
    assert!(
        shown.contains(&format!("filed as      {filed_as}")),
        "{shown}"
    );
    assert!(shown.contains("(confidence 0.97)"), "{shown}");
    let shown: Value =
        serde_json::from_slice(&minuted_ok(&url, &["messages", "show", &id, "--json"])).unwrap();
    assert_eq!(shown["filing"]["kind"], "written_update");
    assert_eq!(shown["filing"]["meeting"], "LCJB-2023-12-13");
    assert_eq!(shown["filing"]["item"], "2.b");
    assert_eq!(shown["filing"]["organisation"], "HMPPS Probation");
    assert_eq!(shown["filing"]["decided_by"], "rule");

    let unknown = minuted(&url, &["messages", "list", "--meeting", "LCJB-2023-12-31"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("did you mean LCJB-2023-12-13?"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}

#[tokio::test]
async fn an_update_appended_over_imap_shows_in_the_meeting_status() {
    let (url, pool) = database().await;
    let user = format!("{}@test.example", support::unique_name("filing"));
    for name in [
        "outlook_html_update.eml",
        "docx_update.eml",
        "gmail_reply_item.eml",
        "forward_by_secretariat.eml",
        "two_items.eml",
        "out_of_office_en.eml",
        "dsn_bounce.eml",
        "spam.eml",
    ] {
        support::imap_append(&user, "INBOX", &fixture(name)).await;
    }
    let mailbox = MailboxSettings {
        source: MailboxSource::Imap,
        host: Some(support::env("MINUTED_TEST_IMAP_HOST")),
        port: Some(support::env_port("MINUTED_TEST_IMAPS_PORT")),
        security: Security::Tls,
        username: Some(user.clone()),
        password: Some(Secret::new(support::env("MINUTED_TEST_IMAP_PASSWORD"))),
        tls_ca_file: Some(support::env("MINUTED_TEST_TLS_CA").into()),
        ..MailboxSettings::default()
    };
    let settings = Settings {
        mailbox: mailbox.clone(),
        ..settings()
    };
    let mut source = ingest::imap::ImapSource::new(&mailbox, None, pool.clone()).unwrap();
    loop {
        match ingest::ingest_batch(&mut source, &pool, &Clock::System, &mailbox)
            .await
            .unwrap()
        {
            IngestOutcome::Drained => break,
            IngestOutcome::Batch(_) => {}
        }
    }
    source.disconnect().await;
    let summary = filer::drain(&pool, &settings, &clock()).await.unwrap();
    assert_eq!(
        summary.filed + summary.triage + summary.quarantined,
        8,
        "{summary:?}"
    );

    let status: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &["meetings", "status", "LCJB-2023-12-13", "--json"],
    ))
    .unwrap();
    assert_eq!(status["ref"], "LCJB-2023-12-13");
    let expected: Vec<&str> = status["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["organisation"].as_str().unwrap())
        .collect();
    assert_eq!(
        expected,
        ["MOPAC", "HMPPS Probation", "MPS", "CPS South", "HMCTS"]
    );
    let updates_of = |org: &str| -> Vec<Value> {
        status["expected"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["organisation"] == org)
            .unwrap()["updates"]
            .as_array()
            .unwrap()
            .clone()
    };
    let probation = updates_of("HMPPS Probation");
    assert_eq!(probation.len(), 1, "{status:#}");
    assert_eq!(probation[0]["item"], "2.b");
    assert_eq!(
        probation[0]["message_id"],
        "LO2P265MB5031A2E6C7D9@LO2P265MB5031.GBRP265.PROD.OUTLOOK.COM"
    );
    assert_eq!(updates_of("CPS South")[0]["item"], "4");
    assert_eq!(updates_of("HMCTS")[0]["item"], "5");
    assert_eq!(
        status["outstanding"].as_array().unwrap(),
        &vec![Value::from("MOPAC"), Value::from("MPS")]
    );
    let others: Vec<&str> = status["other_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["organisation"].as_str().unwrap())
        .collect();
    assert_eq!(others, ["YJB"]);
    assert_eq!(status["triage_for_meeting"], 1);
    assert_eq!(status["quarantined_total"], 1);

    let text =
        String::from_utf8(minuted_ok(&url, &["meetings", "status", "LCJB-2023-12-13"])).unwrap();
    assert!(text.contains("outstanding: 2 (MOPAC, MPS)"), "{text}");
    assert!(text.contains("OUTSTANDING"), "{text}");

    let missing = minuted(&url, &["meetings", "status", "LCJB-1999-01-01"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no meeting \"LCJB-1999-01-01\""));

    // The September meeting shows the draft minutes filed against it.
    let september = store::meeting_status::meeting_status(&pool, "lcjb-2023-09-20")
        .await
        .unwrap();
    assert!(september.draft_minutes.is_empty());
    let _ = triage::triage(&pool, true, None).await.unwrap();
}

#[tokio::test]
async fn a_registry_change_is_seen_by_the_next_message_filed() {
    let (_url, pool) = database().await;
    let from_new_domain = |id: &str| {
        format!(
            "From: Analyst <analyst@probation-london.example>\r\n\
             To: lcjb@board.example\r\n\
             Subject: Written update - Item 2.b\r\n\
             Message-ID: <{id}@probation-london.example>\r\n\
             Date: Fri, 1 Dec 2023 10:00:00 +0000\r\n\
             \r\n\
             Our update.\r\n"
        )
        .into_bytes()
    };
    ingest_all(&pool, &[from_new_domain("before")]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();

    // The organisation gains the domain: the next message from it is the organisation's.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let text = std::fs::read_to_string(path).unwrap().replace(
        "domains = [\"probation.justice.example\"]",
        "domains = [\"probation.justice.example\", \"probation-london.example\"]",
    );
    let edited = minuted::registry::parse("edited.toml", &text).unwrap();
    store::registry::import(&pool, &edited, "test")
        .await
        .unwrap();
    ingest_all(&pool, &[from_new_domain("after")]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();

    let filed: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT m.message_id, m.status, o.short FROM messages m
         JOIN filings f ON f.message_id = m.id AND f.current
         LEFT JOIN organisations o ON o.id = f.organisation_id ORDER BY m.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        filed,
        vec![
            (
                "before@probation-london.example".into(),
                "quarantined".into(),
                None
            ),
            (
                "after@probation-london.example".into(),
                "filed".into(),
                Some("HMPPS Probation".into())
            ),
        ]
    );
}

/// The acknowledgement of `message_id` in the outbox: (row id, reply token, Message-ID).
async fn acknowledgement_of(pool: &PgPool, message_id: &str) -> (i64, String, String) {
    sqlx::query_as(
        "SELECT o.id, o.reply_token, o.message_id FROM outbox o
         WHERE o.kind = 'acknowledgement' AND o.in_reply_to = $1",
    )
    .bind(message_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

const OUTLOOK_UPDATE_ID: &str = "LO2P265MB5031A2E6C7D9@LO2P265MB5031.GBRP265.PROD.OUTLOOK.COM";

#[tokio::test]
async fn a_wrong_item_reply_to_an_acknowledgement_refiles_the_update() {
    let (_url, pool) = database().await;
    ingest_all(&pool, &[fixture("outlook_html_update.eml")]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();
    let (_, token, ack_id) = acknowledgement_of(&pool, OUTLOOK_UPDATE_ID).await;

    let reply = format!(
        "From: Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>\r\n\
         To: LCJB <lcjb+{token}@board.example>\r\n\
         Subject: RE: Received: LCJB 13 December - Written update: Probation (Item 2b)\r\n\
         Message-ID: <wrong-item@probation.justice.example>\r\n\
         In-Reply-To: <{ack_id}>\r\n\
         Date: Fri, 1 Dec 2023 17:00:00 +0000\r\n\
         \r\n\
         WRONG ITEM 4\r\n\r\nKilvinder\r\n"
    );
    ingest_all(&pool, &[reply.into_bytes()]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();

    let (item, decided_by): (Option<String>, String) = sqlx::query_as(
        "SELECT i.number, f.decided_by FROM filings f
         JOIN messages m ON m.id = f.message_id
         LEFT JOIN agenda_items i ON i.id = f.item_id
         WHERE m.message_id = $1 AND f.current",
    )
    .bind(OUTLOOK_UPDATE_ID)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(item.as_deref(), Some("4"));
    assert_eq!(decided_by, "kilvinder.vigurs@probation.justice.example");
    let refiled: Value = sqlx::query_scalar(
        "SELECT detail FROM events WHERE kind = 'filing.refiled' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        refiled["reasons"]
            .to_string()
            .contains("at the sender's request"),
        "{refiled}"
    );
    let (kind, status): (String, String) = sqlx::query_as(
        "SELECT f.kind, m.status FROM filings f JOIN messages m ON m.id = f.message_id
         WHERE m.message_id = 'wrong-item@probation.justice.example' AND f.current",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), status.as_str()), ("unrelated", "filed"));
}

#[tokio::test]
async fn a_bounce_of_our_mail_marks_its_outbox_row_and_the_address() {
    let (_url, pool) = database().await;
    ingest_all(&pool, &[fixture("outlook_html_update.eml")]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();
    let (outbox_id, _, ack_id) = acknowledgement_of(&pool, OUTLOOK_UPDATE_ID).await;

    let bounce = dsn(
        &minuted::domain::verp::bounce_token(outbox_id, &ack_id),
        &format!("bounce-{outbox_id}"),
        Some(&ack_id),
    );
    ingest_all(&pool, &[bounce]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();

    let (kind, filed_outbox): (String, Option<i64>) = sqlx::query_as(
        "SELECT f.kind, f.outbox_id FROM filings f JOIN messages m ON m.id = f.message_id
         WHERE m.message_id = $1 AND f.current",
    )
    .bind(format!("bounce-{outbox_id}@mx.board.example"))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), filed_outbox), ("bounce", Some(outbox_id)));
    let status: String = sqlx::query_scalar("SELECT status FROM outbox WHERE id = $1")
        .bind(outbox_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "bounced");
    let address: String = sqlx::query_scalar(
        "SELECT status FROM member_addresses WHERE address = 'kilvinder.vigurs@probation.justice.example'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(address, "bouncing");
}

/// A Postfix-style delivery report sent to `lcjb+<token>@board.example`, with Message-ID
/// `<id>@mx.board.example`, quoting the headers of `original` when given.
fn dsn(token: &str, id: &str, original: Option<&str>) -> Vec<u8> {
    let quoted = original
        .map(|m| format!("--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{m}>\r\n"))
        .unwrap_or_default();
    format!(
        "From: MAILER-DAEMON@mx.board.example (Mail Delivery System)\r\n\
         To: lcjb+{token}@board.example\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <{id}@mx.board.example>\r\n\
         Date: Fri, 1 Dec 2023 17:00:00 +0000\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\
         \r\n\
         --b\r\n\
         Content-Type: text/plain\r\n\
         \r\n\
         Your message could not be delivered.\r\n\
         --b\r\n\
         Content-Type: message/delivery-status\r\n\
         \r\n\
         Reporting-MTA: dns; mx.board.example\r\n\
         \r\n\
         Final-Recipient: rfc822; kilvinder.vigurs@probation.justice.example\r\n\
         Action: failed\r\n\
         Status: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\
         {quoted}--b--\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn a_forged_bounce_to_a_guessed_row_changes_nothing() {
    let (_url, pool) = database().await;
    ingest_all(&pool, &[fixture("outlook_html_update.eml")]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();
    let (outbox_id, _, _) = acknowledgement_of(&pool, OUTLOOK_UPDATE_ID).await;
    let before: String = sqlx::query_scalar("SELECT status FROM outbox WHERE id = $1")
        .bind(outbox_id)
        .fetch_one(&pool)
        .await
        .unwrap();

    // The row's id is easy to guess; its tag is not. Untagged (the old form) and
    // wrongly tagged addresses, neither quoting the message.
    for (token, id) in [
        (format!("bounce-{outbox_id}"), "forged-1"),
        (format!("bounce-{outbox_id}-000000000000"), "forged-2"),
    ] {
        ingest_all(&pool, &[dsn(&token, id, None)]).await;
    }
    filer::drain(&pool, &settings(), &clock()).await.unwrap();

    let filed: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT f.kind, f.outbox_id FROM filings f JOIN messages m ON m.id = f.message_id
         WHERE m.message_id LIKE 'forged-%' AND f.current ORDER BY m.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(filed.len(), 2);
    assert!(filed.iter().all(|(_, row)| row.is_none()), "{filed:?}");
    let after: String = sqlx::query_scalar("SELECT status FROM outbox WHERE id = $1")
        .bind(outbox_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after, before);
    let address: String = sqlx::query_scalar(
        "SELECT status FROM member_addresses WHERE address = 'kilvinder.vigurs@probation.justice.example'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_ne!(address, "bouncing");
}

#[tokio::test]
async fn acknowledgements_owed_from_before_the_outbox_are_queued() {
    let (_url, pool) = database().await;
    ingest_all(&pool, &[fixture("outlook_html_update.eml")]).await;
    filer::drain(&pool, &settings(), &clock()).await.unwrap();
    // As a database filed before the outbox existed has it: owed, not queued.
    sqlx::query("UPDATE pending_acknowledgements SET sent_to_outbox_at = NULL, outbox_id = NULL")
        .execute(&pool)
        .await
        .unwrap();
    let queued = minuted::filing::acknowledge::queue_owed_acknowledgements(&pool, &clock())
        .await
        .unwrap();
    assert_eq!(queued, 1);
    let (rows, owed): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'),
                (SELECT count(*) FROM pending_acknowledgements WHERE sent_to_outbox_at IS NULL)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((rows, owed), (2, 0));
    assert_eq!(
        minuted::filing::acknowledge::queue_owed_acknowledgements(&pool, &clock())
            .await
            .unwrap(),
        0
    );
}

/// A message from `from` with `subject` and `body`, and a .docx of `paragraphs` when
/// given, as a mail client writes it.
fn mail_with_docx(
    from: &str,
    id: &str,
    subject: &str,
    body: &str,
    docx: Option<(&str, &str)>,
) -> Vec<u8> {
    use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
    let builder = lettre::Message::builder()
        .from(from.parse::<Mailbox>().unwrap())
        .to("LCJB <lcjb@board.example>".parse::<Mailbox>().unwrap())
        .subject(subject)
        .message_id(Some(format!("<{id}>")))
        .date(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_701_680_000));
    let message = match docx {
        None => builder.singlepart(SinglePart::plain(body.to_owned())),
        Some((filename, text)) => builder.multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body.to_owned()))
                .singlepart(
                    Attachment::new(filename.to_owned()).body(
                        minuted::minutes::document::docx(text).unwrap(),
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                            .parse()
                            .unwrap(),
                    ),
                ),
        ),
    };
    message.unwrap().formatted()
}

#[tokio::test]
async fn search_finds_words_in_a_docx_attachment_ranks_a_subject_match_first_and_ignores_quoted_text(
) {
    let (url, pool) = database().await;
    ingest_all(
        &pool,
        &[
            mail_with_docx(
                "Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>",
                "pilot-subject@probation.justice.example",
                "[LCJB 2023-12-13] Domestic abuse pilot: probation's part",
                "Our written update: caseworkers now sit with the IDVAs.",
                None,
            ),
            mail_with_docx(
                "Matt Twist <matt.twist@met.example>",
                "pilot-docx@met.example",
                "[LCJB 2023-12-13] Item 4 written update from the MPS",
                "Please find our update attached.",
                Some((
                    "MPS item 4 update.docx",
                    "Westminster domestic abuse pilots: the evaluation starts in March.\n\nOfficers trained: 240.",
                )),
            ),
            mail_with_docx(
                "Tamara Barnett <tamara.barnett@mopac.example>",
                "pilot-quoted@mopac.example",
                "Re: papers",
                "Thanks, noted.\n\nOn Mon, 4 Dec 2023 at 09:00, Kilvinder Vigurs wrote:\n> The domestic abuse pilot is going well.\n",
                None,
            ),
        ],
    )
    .await;
    while let FilingOutcome::Filed(_) = filer::file_next(&pool, &settings(), &clock())
        .await
        .unwrap()
    {}
    let indexed = minuted::records::index::index_all(&pool).await.unwrap();
    assert_eq!((indexed.messages, indexed.attachments), (3, 1));

    let hits: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &["messages", "search", "domestic abuse pilot", "--json"],
    ))
    .unwrap();
    let hits = hits.as_array().unwrap();
    let subjects: Vec<&str> = hits
        .iter()
        .map(|h| h["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "[LCJB 2023-12-13] Domestic abuse pilot: probation's part",
            "[LCJB 2023-12-13] Item 4 written update from the MPS",
        ],
        "the subject match first, the attachment's next, the quote not at all: {hits:#?}"
    );
    assert_eq!(hits[1]["attachment"], "MPS item 4 update.docx");
    let snippet = hits[1]["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("[domestic] [abuse] [pilots]"),
        "stemmed and marked: {snippet}"
    );
    assert_eq!(hits[1]["organisation"], "MPS");

    // Narrowed to an organisation, to a kind, to a date.
    let only_mps: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &[
            "messages",
            "search",
            "domestic abuse pilot",
            "--organisation",
            "mps",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(only_mps.as_array().unwrap().len(), 1);
    let later: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &[
            "messages",
            "search",
            "pilot",
            "--since",
            "2099-01-01",
            "--json",
        ],
    ))
    .unwrap();
    assert!(later.as_array().unwrap().is_empty());
    let table = String::from_utf8(minuted_ok(&url, &["messages", "search", "evaluation"])).unwrap();
    assert!(table.contains("(in MPS item 4 update.docx)"), "{table}");
    let refused = minuted(&url, &["messages", "search", "x", "--kind", "memo"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("written_update"));
}
