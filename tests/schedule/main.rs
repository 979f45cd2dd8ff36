//! The persistent schedule against a real PostgreSQL and the example board, whose next
//! meeting is LCJB-2023-12-13 (papers deadline 6 December): update requests at T-10 to
//! exactly the organisations expected to report, once, however many callers fire;
//! chasers only to the silent ones; jobs whose moment passed during downtime expire; the
//! meeting pack compiled at the deadline, approved by reply and circulated.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "../approval/helpers.rs"]
mod helpers;

use std::collections::BTreeSet;

use minuted::approval::apply::{handle_next_reply, ReplyOutcome};
use minuted::clock::Clock;
use minuted::config::{Secret, Settings};
use minuted::schedule::{self, FireOutcome, RunSummary};
use minuted::store::meeting_status;
use serde_json::Value;
use sqlx::PgPool;

use helpers::{at, database, deliver, minuted_ok, KEY};

mod attendance;
mod digest;
mod records;

const MEETING: &str = "LCJB-2023-12-13";

fn settings() -> Settings {
    let mut settings = helpers::settings();
    settings.approval.secret = Some(Secret::new(std::str::from_utf8(KEY).unwrap()));
    settings
}

async fn pass(pool: &PgPool, clock: &Clock, worker: &str) -> RunSummary {
    schedule::run_pass(pool, &settings(), clock, worker)
        .await
        .unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Recipients of outbox rows of `kind`, in order, duplicates kept.
async fn sent_to(pool: &PgPool, kind: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT to_address FROM outbox WHERE kind = $1 ORDER BY to_address")
        .bind(kind)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The addresses of circulation members of `organisations`, other than the secretariat
/// (every organisation of the example board has someone else to ask).
async fn members_of(pool: &PgPool, organisations: &[String]) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT a.address FROM members m
         JOIN organisations o ON o.id = m.organisation_id
         JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
         WHERE o.short = ANY($1) AND m.circulation AND m.active
           AND NOT 'secretariat' = ANY(m.roles)
         ORDER BY a.address",
    )
    .bind(organisations)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The organisations the schedule asks: those `meetings status` expects to report, less
/// the secretariat's own (it compiles the pack).
async fn expected_organisations(pool: &PgPool) -> Vec<String> {
    let secretariat: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT o.short FROM members m JOIN organisations o ON o.id = m.organisation_id
         WHERE 'secretariat' = ANY(m.roles) AND m.active",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(!secretariat.is_empty());
    meeting_status::meeting_status(pool, MEETING)
        .await
        .unwrap()
        .expected
        .into_iter()
        .map(|e| e.organisation)
        .filter(|o| !secretariat.contains(o))
        .collect()
}

/// A written update from Probation replying to its update request, with a file.
fn probation_update(in_reply_to: &str) -> Vec<u8> {
    format!(
        "From: Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>\r\n\
To: LCJB <lcjb@board.example>\r\n\
Subject: Re: [LCJB 2023-12-13] Item 2.b written update\r\n\
Date: Mon, 04 Dec 2023 11:00:00 +0000\r\n\
Message-ID: <probation-update@probation.justice.example>\r\n\
In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Our written update for item 2.b: seven of the ten HMIP recommendations are complete.\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Disposition: attachment; filename=\"Probation HMIP update.txt\"\r\n\
\r\n\
Recommendation 1: complete. Recommendation 2: complete.\r\n\
--b1--\r\n"
    )
    .into_bytes()
}

/// Update requests sent at T-10 and Probation's update filed on 4 December at 08:00.
async fn with_probation_update() -> (String, PgPool, Clock) {
    let (url, pool) = database().await;
    let clock = Clock::manual(at("2023-12-03T09:00:00Z"));
    let summary = pass(&pool, &clock, "a").await;
    assert_eq!(
        summary.fired.len(),
        expected_organisations(&pool).await.len()
    );
    let request: String = sqlx::query_scalar(
        "SELECT message_id FROM outbox WHERE kind = 'update_request'
           AND to_address = 'kilvinder.vigurs@probation.justice.example'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    clock.set(at("2023-12-04T08:00:00Z"));
    deliver(&pool, &clock, &[probation_update(&request)]).await;
    let status = meeting_status::meeting_status(&pool, MEETING)
        .await
        .unwrap();
    assert!(
        !status.outstanding.contains(&"HMPPS Probation".to_owned()),
        "{:?}",
        status.outstanding
    );
    (url, pool, clock)
}

#[tokio::test]
async fn update_requests_go_once_at_t_minus_10_to_exactly_the_expected_organisations() {
    let (_url, pool) = database().await;
    let clock = Clock::manual(at("2023-12-03T08:59:00Z"));
    let early = pass(&pool, &clock, "a").await;
    let expected = expected_organisations(&pool).await;
    assert_eq!(early.planned, 1 + 2 * expected.len());
    assert!(early.fired.is_empty(), "{early:?}");

    clock.set(at("2023-12-03T09:00:00Z"));
    // Two daemons at the same moment: each job fires in exactly one of them.
    let (a, b) = tokio::join!(pass(&pool, &clock, "a"), pass(&pool, &clock, "b"));
    assert_eq!(a.planned + b.planned, 0);
    assert_eq!(a.fired.len() + b.fired.len(), expected.len());
    let organisations: BTreeSet<String> = a
        .fired
        .iter()
        .chain(&b.fired)
        .filter_map(|f| match f {
            FireOutcome::Fired { organisation, .. } => organisation.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(organisations, expected.iter().cloned().collect());

    let sent = sent_to(&pool, "update_request").await;
    assert_eq!(sent, members_of(&pool, &expected).await);
    let again = pass(&pool, &clock, "a").await;
    assert!(again.fired.is_empty() && again.planned == 0, "{again:?}");
    assert_eq!(sent_to(&pool, "update_request").await, sent);

    // What the email says and where a reply files.
    let (context, expires): (Value, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(
        "SELECT o.context, o.expires_at FROM outbox o
         JOIN meetings m ON m.id = o.meeting_id AND m.ref = $1
         WHERE o.kind = 'update_request'
           AND o.to_address = 'kilvinder.vigurs@probation.justice.example'",
    )
    .bind(MEETING)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(context["item"], "2.b");
    assert_eq!(context["deadline_text"], "Wednesday 6 December 2023");
    assert_eq!(context["items"][0]["number"], "2.b");
    assert_eq!(expires, Some(at("2023-12-06T17:00:00Z")));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM events WHERE kind = 'schedule.fired'"
        )
        .await,
        expected.len() as i64
    );
}

#[tokio::test]
async fn a_chaser_goes_only_to_the_organisations_that_have_sent_nothing() {
    let (_url, pool, clock) = with_probation_update().await;
    clock.set(at("2023-12-04T09:00:00Z"));
    let summary = pass(&pool, &clock, "a").await;
    let expected = expected_organisations(&pool).await;
    let silent: Vec<String> = expected
        .iter()
        .filter(|o| o.as_str() != "HMPPS Probation")
        .cloned()
        .collect();
    assert_eq!(summary.fired.len(), silent.len(), "{summary:?}");
    assert!(matches!(
        summary.skipped.as_slice(),
        [FireOutcome::Skipped { organisation: Some(o), reason, .. }]
            if o == "HMPPS Probation" && reason.contains("has sent 1 update")
    ));
    assert_eq!(
        sent_to(&pool, "chaser").await,
        members_of(&pool, &silent).await
    );
    let overdue: Vec<Value> =
        sqlx::query_scalar("SELECT context->'overdue' FROM outbox WHERE kind = 'chaser'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(overdue.iter().all(|o| o == &Value::Bool(false)));
    assert!(pass(&pool, &clock, "b").await.fired.is_empty());
}

#[tokio::test]
async fn a_job_whose_moment_passed_during_downtime_expires_and_a_late_chaser_says_overdue() {
    let (_url, pool) = database().await;
    let clock = Clock::manual(at("2023-12-01T09:00:00Z"));
    pass(&pool, &clock, "a").await;
    // Down from 1 December until after the papers deadline.
    clock.set(at("2023-12-07T09:00:00Z"));
    let summary = pass(&pool, &clock, "a").await;
    let expected = expected_organisations(&pool).await;
    assert_eq!(summary.expired.len(), expected.len(), "{summary:?}");
    assert!(summary.expired.iter().all(|e| matches!(
        e,
        FireOutcome::Expired {
            kind: schedule::JobKind::UpdateRequest,
            ..
        }
    )));
    assert!(sent_to(&pool, "update_request").await.is_empty());
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM schedule_jobs WHERE kind = 'update_request' AND status = 'expired'"
        )
        .await,
        expected.len() as i64
    );
    // The chasers still help before the meeting; they say the update is overdue.
    let overdue: Vec<Value> =
        sqlx::query_scalar("SELECT context->'overdue' FROM outbox WHERE kind = 'chaser'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(!overdue.is_empty());
    assert!(overdue.iter().all(|o| o == &Value::Bool(true)));

    // After the meeting has started, whatever is left expires.
    let (_url, pool) = database().await;
    let clock = Clock::manual(at("2023-12-01T09:00:00Z"));
    pass(&pool, &clock, "a").await;
    clock.set(at("2023-12-13T10:30:00Z"));
    let summary = pass(&pool, &clock, "a").await;
    assert!(summary.fired.is_empty(), "{summary:?}");
    assert_eq!(summary.expired.len(), 1 + 2 * expected.len());
    // (Only the invitations, sent at once on 1 December, and the secretariat's daily
    // digests went.)
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind NOT IN ('invitation', 'digest')"
        )
        .await,
        0
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM meeting_packs").await, 0);
}

/// The open pack approval requests: (token, approver, request Message-ID).
async fn pack_requests(pool: &PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT o.reply_token, r.approver_address, o.message_id FROM approval_requests r
         JOIN outbox o ON o.id = r.outbox_id
         WHERE r.what = 'meeting_pack' AND r.status = 'open' ORDER BY r.id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn reply(from: &str, token: &str, in_reply_to: &str, id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: LCJB <lcjb+{token}@board.example>\r\n\
Subject: Re: Approval needed: the meeting pack\r\nDate: Wed, 06 Dec 2023 17:30:00 +0000\r\n\
Message-ID: <{id}>\r\nIn-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n\r\n\
On Wed, 6 Dec 2023 at 17:00, LCJB wrote:\r\n> Please review the meeting pack.\r\n"
    )
    .into_bytes()
}

async fn answer(pool: &PgPool, clock: &Clock, raw: Vec<u8>) -> ReplyOutcome {
    deliver(pool, clock, &[raw]).await;
    handle_next_reply(pool, &settings(), clock, KEY)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_pack_is_compiled_at_the_deadline_approved_by_reply_and_circulated_with_the_update() {
    let (url, pool, clock) = with_probation_update().await;
    let reference = String::from_utf8(minuted_ok(
        &url,
        &[
            "actions",
            "add",
            "--meeting",
            "LCJB-2023-09-20",
            "--owner",
            "HMCTS",
            "Report on the use of other courts",
        ],
    ))
    .unwrap();
    let reference = reference.trim();
    clock.set(at("2023-12-06T17:00:00Z"));
    let summary = pass(&pool, &clock, "a").await;
    let packs: Vec<&FireOutcome> = summary
        .fired
        .iter()
        .filter(|f| {
            matches!(
                f,
                FireOutcome::Fired {
                    kind: schedule::JobKind::MeetingPack,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(packs.len(), 1, "{summary:?}");

    let content: Value = sqlx::query_scalar("SELECT content FROM meeting_packs")
        .fetch_one(&pool)
        .await
        .unwrap();
    let updates = content["updates_received"].as_array().unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["organisation"], "HMPPS Probation");
    assert!(updates[0]["text"]
        .as_str()
        .unwrap()
        .contains("seven of the ten HMIP recommendations"));
    assert_eq!(
        updates[0]["files"][0]["filename"],
        "Probation HMIP update.txt"
    );
    let outstanding: Vec<String> = serde_json::from_value(content["outstanding"].clone()).unwrap();
    assert!(!outstanding.contains(&"HMPPS Probation".to_owned()));
    // The pack lists everyone `meetings status` expects, the secretariat's own
    // organisation included (asked or not, its report is missing from the pack).
    let status = meeting_status::meeting_status(&pool, MEETING)
        .await
        .unwrap();
    assert_eq!(outstanding, status.outstanding);
    assert_eq!(outstanding.len(), status.expected.len() - 1);
    assert_eq!(content["items"].as_array().unwrap().len(), 9);

    let requests = pack_requests(&pool).await;
    assert!(!requests.is_empty());
    // The approver sees the action log in the request.
    let lines: Vec<Value> =
        sqlx::query_scalar("SELECT context->'summary' FROM outbox WHERE kind = 'approval_request'")
            .fetch_all(&pool)
            .await
            .unwrap();
    let wanted = format!("{reference} (HMCTS, open): Report on the use of other courts");
    assert!(
        lines
            .iter()
            .all(|l| l.as_array().unwrap().iter().any(|x| x == &wanted)),
        "{wanted} in {lines:?}"
    );
    // The request ends when the meeting starts (sooner than approval.token_days).
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM approval_requests
             WHERE what = 'meeting_pack' AND expires_at <> '2023-12-13T10:00:00Z'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox_attachments a JOIN outbox o ON o.id = a.outbox_id
             WHERE o.kind = 'approval_request'"
        )
        .await,
        requests.len() as i64
    );

    let (token, approver, request_id) = requests
        .iter()
        .find(|(_, a, _)| a == "lcjb-secretariat@mopac.example")
        .cloned()
        .unwrap();
    clock.set(at("2023-12-06T17:30:00Z"));
    let outcome = answer(
        &pool,
        &clock,
        reply(
            &approver,
            &token,
            &request_id,
            "ok1@mopac.example",
            "APPROVE",
        ),
    )
    .await;
    let ReplyOutcome::PackApproved { circulation, .. } = outcome else {
        panic!("expected the pack approved, got {outcome:?}");
    };
    let circulating = count(
        &pool,
        "SELECT count(*) FROM members m JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
         WHERE m.circulation AND m.active",
    )
    .await;
    assert_eq!(circulation as i64, circulating);
    let sent = sent_to(&pool, "meeting_pack").await;
    assert_eq!(sent.len() as i64, circulating);
    assert_eq!(sent.iter().collect::<BTreeSet<_>>().len(), sent.len());
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox_attachments a JOIN outbox o ON o.id = a.outbox_id
             WHERE o.kind = 'meeting_pack' AND a.filename = 'Probation HMIP update.txt'"
        )
        .await,
        circulating
    );
    let expires: Vec<Option<chrono::DateTime<chrono::Utc>>> =
        sqlx::query_scalar("SELECT DISTINCT expires_at FROM outbox WHERE kind = 'meeting_pack'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(expires, vec![Some(at("2023-12-13T10:00:00Z"))]);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM meeting_packs WHERE status = 'approved'"
        )
        .await,
        1
    );

    // A second decision, from the same approver or another, changes nothing.
    let again = answer(
        &pool,
        &clock,
        reply(
            &approver,
            &token,
            &request_id,
            "ok2@mopac.example",
            "APPROVE",
        ),
    )
    .await;
    assert!(matches!(again, ReplyOutcome::Unchanged { .. }), "{again:?}");
    let (token2, approver2, request2) = requests
        .iter()
        .find(|(_, a, _)| a != "lcjb-secretariat@mopac.example")
        .cloned()
        .unwrap();
    let other = answer(
        &pool,
        &clock,
        reply(
            &approver2,
            &token2,
            &request2,
            "no1@mopac.example",
            "REJECT too late",
        ),
    )
    .await;
    assert!(matches!(other, ReplyOutcome::Unchanged { .. }), "{other:?}");
    assert_eq!(
        sent_to(&pool, "meeting_pack").await.len() as i64,
        circulating
    );
}

#[tokio::test]
async fn a_rejected_pack_is_not_circulated_and_the_secretariat_hears_why() {
    let (_url, pool, clock) = with_probation_update().await;
    clock.set(at("2023-12-06T17:00:00Z"));
    pass(&pool, &clock, "a").await;
    let (token, approver, request_id) = pack_requests(&pool).await.remove(0);
    let results_before = count(
        &pool,
        "SELECT count(*) FROM outbox WHERE kind = 'approval_result'",
    )
    .await;
    let outcome = answer(
        &pool,
        &clock,
        reply(
            &approver,
            &token,
            &request_id,
            "no@mopac.example",
            "REJECT the MPS update is missing",
        ),
    )
    .await;
    assert!(
        matches!(&outcome, ReplyOutcome::PackRejected { reason, .. } if reason.contains("MPS update is missing")),
        "{outcome:?}"
    );
    assert!(sent_to(&pool, "meeting_pack").await.is_empty());
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM meeting_packs WHERE status = 'rejected'"
        )
        .await,
        1
    );
    let secretariat_told = count(
        &pool,
        "SELECT count(*) FROM outbox o JOIN members m ON m.id = o.member_id
         WHERE o.kind = 'approval_result' AND 'secretariat' = ANY(m.roles)
           AND o.context->>'reason' LIKE '%MPS update is missing%'",
    )
    .await;
    assert!(secretariat_told >= 1);
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'approval_result'"
        )
        .await
            > results_before
    );
}

#[tokio::test]
async fn schedule_run_once_and_list_work_through_the_binary() {
    let (url, pool) = database().await;
    let ran: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &[
            "schedule",
            "run",
            "--once",
            "--now",
            "2023-12-03T09:00:00Z",
            "--json",
        ],
    ))
    .unwrap();
    let expected = expected_organisations(&pool).await;
    assert_eq!(ran["planned"], 1 + 2 * expected.len());
    assert_eq!(ran["fired"].as_array().unwrap().len(), expected.len());
    assert!(ran["expired"].as_array().unwrap().is_empty());

    let listed: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &["schedule", "list", "--json", "--meeting", MEETING],
    ))
    .unwrap();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 1 + 2 * expected.len());
    for row in rows {
        let fired = row["status"] == "fired";
        assert_eq!(fired, row["kind"] == "update_request", "{row}");
        for key in [
            "id",
            "kind",
            "meeting",
            "organisation",
            "due_at",
            "expires_at",
            "outcome",
        ] {
            assert!(row.get(key).is_some(), "{key} in {row}");
        }
    }
    let limited: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &["schedule", "list", "--json", "--limit", "2"],
    ))
    .unwrap();
    assert_eq!(limited.as_array().unwrap().len(), 2);
    let text = String::from_utf8(minuted_ok(&url, &["schedule", "list"])).unwrap();
    assert!(
        text.contains("update_request") && text.contains("fired"),
        "{text}"
    );
}

#[tokio::test]
async fn an_organisation_expected_later_is_asked_at_the_next_tick_until_the_deadline() {
    let (_url, pool) = database().await;
    let clock = Clock::manual(at("2023-12-03T09:00:00Z"));
    pass(&pool, &clock, "a").await;
    // The agenda gains an item led by the VRU after the requests went out.
    sqlx::query(
        "INSERT INTO agenda_items (meeting_id, number, position, title, lead_organisation_id)
         SELECT m.id, '7', 99, 'Violence reduction: summer plan', o.id
         FROM meetings m, organisations o WHERE m.ref = $1 AND o.short = 'VRU'",
    )
    .bind(MEETING)
    .execute(&pool)
    .await
    .unwrap();
    clock.set(at("2023-12-05T10:00:00Z"));
    let summary = pass(&pool, &clock, "a").await;
    assert_eq!(summary.planned, 2, "{summary:?}");
    let vru: Vec<&FireOutcome> = summary
        .fired
        .iter()
        .filter(|f| matches!(f, FireOutcome::Fired { organisation: Some(o), kind: schedule::JobKind::UpdateRequest, .. } if o == "VRU"))
        .collect();
    assert_eq!(vru.len(), 1, "{summary:?}");
    assert_eq!(
        sent_to(&pool, "update_request")
            .await
            .iter()
            .filter(|a| a.ends_with("vru.london.example"))
            .count(),
        members_of(&pool, &["VRU".to_owned()]).await.len()
    );
}

#[tokio::test]
async fn a_pack_approval_from_another_address_is_refused_and_changes_nothing() {
    let (_url, pool, clock) = with_probation_update().await;
    clock.set(at("2023-12-06T17:00:00Z"));
    pass(&pool, &clock, "a").await;
    let (token, _approver, request_id) = pack_requests(&pool).await.remove(0);
    let outcome = answer(
        &pool,
        &clock,
        reply(
            "sophie.linden@mopac.example",
            &token,
            &request_id,
            "forged@mopac.example",
            "APPROVE",
        ),
    )
    .await;
    assert!(
        matches!(outcome, ReplyOutcome::Refused { .. }),
        "{outcome:?}"
    );
    assert!(sent_to(&pool, "meeting_pack").await.is_empty());
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM meeting_packs WHERE status = 'draft'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_job_that_fails_is_put_back_for_later_and_fires_once_it_can() {
    let (_url, pool) = database().await;
    // No approval key configured and none can be made (data_dir is a file): compiling
    // the pack fails.
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"").unwrap();
    let mut broken = helpers::settings();
    broken.data_dir = not_a_dir;
    let clock = Clock::manual(at("2023-12-06T17:00:00Z"));
    let first = schedule::run_pass(&pool, &broken, &clock, "a")
        .await
        .unwrap();
    assert_eq!(first.failed.len(), 1, "{first:?}");
    let FireOutcome::Failed { kind, retry_at, .. } = &first.failed[0] else {
        panic!("{first:?}");
    };
    assert_eq!(kind.as_str(), "meeting_pack");
    assert_eq!(*retry_at, at("2023-12-06T17:01:00Z"));
    // The other jobs due were not held up by it.
    assert_eq!(
        first.fired.len() + first.skipped.len() + first.expired.len(),
        2 * expected_organisations(&pool).await.len()
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM meeting_packs").await, 0);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM events WHERE kind = 'schedule.failed'"
        )
        .await,
        1
    );
    // Not due again within the minute; a second failure waits four.
    assert!(schedule::run_pass(&pool, &broken, &clock, "a")
        .await
        .unwrap()
        .failed
        .is_empty());
    clock.set(at("2023-12-06T17:01:00Z"));
    let second = schedule::run_pass(&pool, &broken, &clock, "a")
        .await
        .unwrap();
    let FireOutcome::Failed { retry_at, .. } = &second.failed[0] else {
        panic!("{second:?}");
    };
    assert_eq!(*retry_at, at("2023-12-06T17:05:00Z"));
    let outcome: Value = sqlx::query_scalar(
        "SELECT outcome FROM schedule_jobs WHERE kind = 'meeting_pack' AND status = 'pending'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(outcome["attempts"], 2);
    assert!(
        outcome["error"].as_str().unwrap().contains("approval"),
        "{outcome}"
    );

    // Mended: it fires at its next time, once.
    clock.set(at("2023-12-06T17:05:00Z"));
    let mended = pass(&pool, &clock, "a").await;
    assert_eq!(mended.fired.len(), 1, "{mended:?}");
    assert!(mended.failed.is_empty());
    assert_eq!(count(&pool, "SELECT count(*) FROM meeting_packs").await, 1);
}

#[tokio::test]
async fn a_papers_deadline_moved_in_the_registry_moves_the_jobs_not_yet_fired() {
    let (_url, pool) = database().await;
    let clock = Clock::manual(at("2023-12-03T09:00:00Z"));
    let first = pass(&pool, &clock, "a").await;
    assert!(!first.fired.is_empty(), "update requests fired: {first:?}");

    // The deadline brought forward a day, by importing the registry changed.
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml"),
    )
    .unwrap();
    let moved = example.replace(
        "papers_deadline = \"2023-12-06\"",
        "papers_deadline = \"2023-12-05\"",
    );
    assert_ne!(moved, example);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lcjb.toml");
    std::fs::write(&path, moved).unwrap();
    let registry = minuted::registry::load(&path).unwrap();
    minuted::store::registry::import(&pool, &registry, "test")
        .await
        .unwrap();

    let planned = schedule::plan(&pool, &settings().schedule, &clock)
        .await
        .unwrap();
    assert_eq!(planned.added, 0);
    let times = |kind: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<
                _,
                (
                    String,
                    chrono::DateTime<chrono::Utc>,
                    chrono::DateTime<chrono::Utc>,
                ),
            >(
                "SELECT DISTINCT status, due_at, expires_at FROM schedule_jobs WHERE kind = $1"
            )
            .bind(kind)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    // Chasers two days before the new deadline, the pack at it; the update requests
    // that fired keep the times they fired at.
    assert_eq!(
        times("chaser").await,
        [(
            "pending".to_owned(),
            at("2023-12-03T09:00:00Z"),
            at("2023-12-13T10:00:00Z")
        )]
    );
    assert_eq!(
        times("meeting_pack").await,
        [(
            "pending".to_owned(),
            at("2023-12-05T17:00:00Z"),
            at("2023-12-13T10:00:00Z")
        )]
    );
    assert_eq!(
        times("update_request").await,
        [(
            "fired".to_owned(),
            at("2023-12-03T09:00:00Z"),
            at("2023-12-06T17:00:00Z")
        )]
    );
    assert_eq!(
        planned.retimed,
        1 + expected_organisations(&pool).await.len()
    );
}

#[tokio::test]
async fn files_beyond_the_packs_budget_are_named_but_not_attached() {
    let (_url, pool, clock) = with_probation_update().await;
    // The MPS's update carries a 16 MiB spreadsheet: more than the pack may carry.
    let big = "QUJD".repeat(16 * 1024 * 1024 / 3 + 1);
    let lines: String = big
        .as_bytes()
        .chunks(76)
        .map(|l| format!("{}\r\n", std::str::from_utf8(l).unwrap()))
        .collect();
    let raw = format!(
        "From: Mark Rowley <mark.rowley@met.example>\r\n\
To: LCJB <lcjb@board.example>\r\n\
Subject: [LCJB 2023-12-13] Item 3 written update\r\n\
Date: Mon, 04 Dec 2023 12:00:00 +0000\r\n\
Message-ID: <mps-big-update@met.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Our update for item 3; the data is attached.\r\n\
--b1\r\n\
Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\
Content-Disposition: attachment; filename=\"Case file data.xlsx\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
{lines}--b1--\r\n"
    );
    deliver(&pool, &clock, &[raw.into_bytes()]).await;
    clock.set(at("2023-12-06T17:00:00Z"));
    pass(&pool, &clock, "a").await;

    let content: Value = sqlx::query_scalar("SELECT content FROM meeting_packs")
        .fetch_one(&pool)
        .await
        .unwrap();
    let files: Vec<(String, bool)> = content["updates_received"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["files"].as_array().unwrap().clone())
        .map(|f| {
            (
                f["filename"].as_str().unwrap().to_owned(),
                f["attached"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("Probation HMIP update.txt".to_owned(), true),
            ("Case file data.xlsx".to_owned(), false)
        ]
    );
    let attached = minuted::approval::request::pack_attachments(&content);
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].filename, "Probation HMIP update.txt");
    // Each approval request carries the same one file.
    let per_request: Vec<i64> = sqlx::query_scalar(
        "SELECT count(a.outbox_id) FROM outbox o
         LEFT JOIN outbox_attachments a ON a.outbox_id = o.id
         WHERE o.kind = 'approval_request' GROUP BY o.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!per_request.is_empty());
    assert!(per_request.iter().all(|n| *n == 1), "{per_request:?}");
}
