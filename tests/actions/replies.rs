//! Replies filed as action updates, applied by the worker step.

use minuted::actions::{apply_next, drain, UpdateOutcome};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_done_reply_to_an_action_pack_closes_the_action_once_even_with_two_workers() {
    let (url, pool) = database().await;
    let clock = clock();
    let reference = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let pack = action_pack(&pool, &reference, "mark.rowley@met.example").await;
    deliver(
        &pool,
        &clock,
        &[email(
            "Mark Rowley <mark.rowley@met.example>",
            "Re: Your LCJB actions",
            "done-1@met.example",
            Some(&pack),
            &format!("Done - shared on 1 Dec\r\n\r\nMark\r\n\r\n> {reference} Share the custody data\r\n> Reply to this email with Done or progress."),
        )],
    )
    .await;
    let (status, kind, meeting, action, reasons) = filing_of(&pool, "done-1@met.example").await;
    assert_eq!(
        (status.as_str(), kind.as_str()),
        ("filed", "action_update"),
        "{reasons}"
    );
    assert_eq!(action.as_deref(), Some(reference.as_str()));
    // Reported at the next meeting, not the held one that raised the action.
    assert_eq!(meeting.as_deref(), Some("LCJB-2023-12-13"), "{reasons}");

    let settings = settings();
    let (a, b) = tokio::join!(
        apply_next(&pool, &settings, &clock),
        apply_next(&pool, &settings, &clock)
    );
    let outcomes = [
        a.unwrap(),
        b.unwrap(),
        apply_next(&pool, &settings, &clock).await.unwrap(),
    ];
    let done = outcomes
        .iter()
        .filter(|o| matches!(o, UpdateOutcome::Done { .. }))
        .count();
    assert_eq!(done, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter(|o| **o == UpdateOutcome::Idle)
            .count()
            == 2
    );

    let view = listed(&url, &reference);
    assert_eq!(view["status"], "done");
    assert!(view["closed_at"].is_string());
    let updates = view["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["kind"], "done");
    assert_eq!(updates[0]["from"], "mark.rowley@met.example");
    assert_eq!(updates[0]["message_id"], "done-1@met.example");
    assert!(updates[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Done - shared on 1 Dec"));
    assert_eq!(view["latest_update"]["kind"], "done");

    // Acknowledged once, to the sender, saying what happened.
    let acks = acknowledgements(&pool).await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(acks[0].0, "mark.rowley@met.example");
    assert_eq!(acks[0].1["outcome"], format!("{reference} marked done"));
    assert!(acks[0].1["filed_against"]
        .to_string()
        .contains("marked done"));

    // A second "Done" is kept as progress on the closed action, which stays closed.
    deliver(
        &pool,
        &clock,
        &[email(
            "Mark Rowley <mark.rowley@met.example>",
            &format!("{reference} done"),
            "done-2@met.example",
            None,
            "Done.",
        )],
    )
    .await;
    let summary = drain(&pool, &settings, &clock).await.unwrap();
    assert_eq!((summary.done, summary.progress, summary.triage), (0, 1, 0));
    let view = listed(&url, &reference);
    assert_eq!(view["status"], "done");
    assert_eq!(view["updates"][1]["kind"], "progress");
    assert!(view["updates"][1]["text"]
        .as_str()
        .unwrap()
        .contains("already done"));
    let sources: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM action_update_sources ORDER BY message_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(sources, ["done", "closed"]);
    let acks = acknowledgements(&pool).await;
    assert_eq!(acks.len(), 2, "{acks:?}");
    assert!(acks[1].1["outcome"]
        .as_str()
        .unwrap()
        .contains("already closed"));
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE kind IN ('action.done', 'action.progress')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(events, 2);
}

#[tokio::test]
async fn a_progress_reply_with_a_docx_is_recorded_with_its_attachment() {
    let (url, pool) = database().await;
    let clock = clock();
    let reference = add_action(
        &url,
        "LCJB-2023-09-20",
        "CPS South",
        "Report on the DA initiative",
    );
    let pack = action_pack(&pool, &reference, "lionel.idan@south.cps.example").await;
    let raw = reply_with_docx(
        "Lionel Idan <lionel.idan@south.cps.example>",
        "progress-1@south.cps.example",
        &pack,
        "Progress on the action: our note is attached.\n\nLionel",
        "DA initiative progress note.docx",
        &[
            "Progress note",
            "Two of the three courts have started the pilot.",
        ],
    );
    deliver(&pool, &clock, &[raw]).await;
    let (status, kind, _, action, reasons) = filing_of(&pool, "progress-1@south.cps.example").await;
    assert_eq!(
        (status.as_str(), kind.as_str()),
        ("filed", "action_update"),
        "{reasons}"
    );
    assert_eq!(action.as_deref(), Some(reference.as_str()));

    let summary = drain(&pool, &settings(), &clock).await.unwrap();
    assert_eq!((summary.done, summary.progress, summary.triage), (0, 1, 0));
    let view = listed(&url, &reference);
    assert_eq!(view["status"], "open");
    let update = &view["updates"][0];
    assert_eq!(update["kind"], "progress");
    assert!(
        update["text"]
            .as_str()
            .unwrap()
            .contains("our note is attached"),
        "{update}"
    );
    assert_eq!(
        update["attachments"],
        json!(["DA initiative progress note.docx"])
    );
    assert!(update["message"].is_i64());
    let table = minuted_ok(&url, &["actions", "list"]);
    assert!(
        table.contains("DA initiative progress note.docx"),
        "{table}"
    );
    let acks = acknowledgements(&pool).await;
    assert_eq!(acks.len(), 1);
    assert_eq!(
        acks[0].1["outcome"],
        format!("{reference}: recorded as progress")
    );
}

#[tokio::test]
async fn a_reply_from_outside_the_owner_organisation_goes_to_triage_and_changes_nothing() {
    let (url, pool) = database().await;
    let clock = clock();
    let reference = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let pack = action_pack(&pool, &reference, "mark.rowley@met.example").await;
    deliver(
        &pool,
        &clock,
        &[email(
            "Lionel Idan <lionel.idan@south.cps.example>",
            &format!("Re: {reference}"),
            "outsider@south.cps.example",
            Some(&pack),
            "Done",
        )],
    )
    .await;
    let summary = drain(&pool, &settings(), &clock).await.unwrap();
    assert_eq!(summary.done, 0);
    let (status, _, _, _, reasons) = filing_of(&pool, "outsider@south.cps.example").await;
    assert_eq!(status, "triage", "{reasons}");
    assert!(reasons.to_string().contains("owned by MPS"), "{reasons}");
    let view = listed(&url, &reference);
    assert_eq!(view["status"], "open");
    assert_eq!(view["updates"], json!([]));
    assert_eq!(
        acknowledgements(&pool).await,
        [],
        "nothing sent to triage is acknowledged"
    );
}

#[tokio::test]
async fn an_update_the_filer_accepted_from_a_non_owner_is_refused_by_the_worker() {
    let (url, pool) = database().await;
    let clock = clock();
    let reference = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    // Filed by hand as this action's update, as a person might from triage by mistake.
    deliver(
        &pool,
        &clock,
        &[email(
            "Lionel Idan <lionel.idan@south.cps.example>",
            "Our progress",
            "byhand@south.cps.example",
            None,
            "Done",
        )],
    )
    .await;
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM messages WHERE message_id = 'byhand@south.cps.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    minuted_ok(
        &url,
        &[
            "triage",
            "file",
            &id.to_string(),
            "--kind",
            "action_update",
            "--action",
            &reference,
            "--meeting",
            "LCJB-2023-12-13",
        ],
    );
    let outcome = apply_next(&pool, &settings(), &clock).await.unwrap();
    let UpdateOutcome::Triage { reason, .. } = outcome else {
        panic!("expected triage, got {outcome:?}");
    };
    assert!(
        reason.contains("owned by MPS") && reason.contains("lionel.idan@south.cps.example"),
        "{reason}"
    );
    let (status, ..) = filing_of(&pool, "byhand@south.cps.example").await;
    assert_eq!(status, "triage");
    assert_eq!(listed(&url, &reference)["status"], "open");
    assert_eq!(
        apply_next(&pool, &settings(), &clock).await.unwrap(),
        UpdateOutcome::Idle
    );
    // Only its first filing, as a written update, was acknowledged; the refusal is not.
    let acks = acknowledgements(&pool).await;
    assert!(
        acks.iter()
            .all(|(_, context)| context.get("outcome").is_none()),
        "{acks:?}"
    );
    let refused: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'action.update_refused'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(refused, 1);
}

#[tokio::test]
async fn the_secretariat_may_update_any_action() {
    let (url, pool) = database().await;
    let clock = clock();
    let reference = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    deliver(
        &pool,
        &clock,
        &[email(
            "LCJB Secretariat <lcjb-secretariat@mopac.example>",
            &format!("{reference} closed"),
            "secretariat-1@mopac.example",
            None,
            &format!("{reference} Closed - the data was shared at the working group."),
        )],
    )
    .await;
    let (status, kind, _, _, reasons) = filing_of(&pool, "secretariat-1@mopac.example").await;
    assert_eq!(
        (status.as_str(), kind.as_str()),
        ("filed", "action_update"),
        "{reasons}"
    );
    let summary = drain(&pool, &settings(), &clock).await.unwrap();
    assert_eq!(summary.done, 1);
    let view = listed(&url, &reference);
    assert_eq!(view["status"], "done");
    assert_eq!(view["updates"][0]["from"], "lcjb-secretariat@mopac.example");
}

#[tokio::test]
async fn ingest_once_files_and_applies_an_action_update() {
    let (url, _pool) = database().await;
    let reference = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let dir = tempfile::tempdir().unwrap();
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    std::fs::write(
        dir.path().join("new").join("1.test"),
        email(
            "Nick John <nick.john@met.example>",
            &format!("{reference} complete"),
            "cli-1@met.example",
            None,
            "Completed.\n\nNick",
        ),
    )
    .unwrap();
    let output = std::process::Command::new(BIN)
        .args(["ingest", "--once"])
        .env("DATABASE_URL", &url)
        .env_remove("MINUTED_CONFIG")
        .env("MINUTED__MAILBOX__SOURCE", "maildir")
        .env("MINUTED__MAILBOX__PATH", dir.path())
        .env("MINUTED__DATA_DIR", dir.path().join("var"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let view = listed(&url, &reference);
    assert_eq!(view["status"], "done", "{view}");
    assert_eq!(view["updates"][0]["message_id"], "cli-1@met.example");
}

#[tokio::test]
async fn done_to_an_update_request_naming_one_open_action_closes_that_action() {
    let (url, pool) = database().await;
    let clock = clock();
    let reference = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let request = update_request(&pool, &[&reference], "mark.rowley@met.example").await;
    deliver(
        &pool,
        &clock,
        &[email(
            "Mark Rowley <mark.rowley@met.example>",
            "RE: [LCJB 2023-12-13] Written updates due by 6 December",
            "one-action@met.example",
            Some(&request),
            "Done.\r\n\r\nMark\r\n\r\n-----Original Message-----\r\nFrom: LCJB <lcjb@board.example>\r\nSent: 28 November 2023 10:00\r\nTo: Mark Rowley\r\nSubject: [LCJB 2023-12-13] Written updates due by 6 December\r\n\r\nPlease send a written update.",
        )],
    )
    .await;
    let (status, kind, _, action, reasons) = filing_of(&pool, "one-action@met.example").await;
    assert_eq!(
        (status.as_str(), kind.as_str()),
        ("filed", "action_update"),
        "{reasons}"
    );
    assert_eq!(action.as_deref(), Some(reference.as_str()), "{reasons}");
    let summary = drain(&pool, &settings(), &clock).await.unwrap();
    assert_eq!(summary.done, 1);
    assert_eq!(listed(&url, &reference)["status"], "done");
    // Its acknowledgement says what happened and offers no WRONG ITEM.
    let acks = acknowledgements(&pool).await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(acks[0].1["kind"], "action_update");
}

#[tokio::test]
async fn done_to_a_request_listing_two_actions_is_asked_which_and_applied_once_filed_by_hand() {
    let (url, pool) = database().await;
    let clock = clock();
    let first = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let second = add_action(&url, "LCJB-2023-09-20", "MPS", "Report on the IOM uplift");
    let request = update_request(&pool, &[&first, &second], "mark.rowley@met.example").await;
    deliver(
        &pool,
        &clock,
        &[email(
            "Mark Rowley <mark.rowley@met.example>",
            "RE: [LCJB 2023-12-13] Written updates due by 6 December",
            "which@met.example",
            Some(&request),
            "Done\r\n\r\nSent from Outlook for Android",
        )],
    )
    .await;
    let (status, kind, _, _, reasons) = filing_of(&pool, "which@met.example").await;
    assert_eq!(
        (status.as_str(), kind.as_str()),
        ("triage", "action_update"),
        "{reasons}"
    );
    assert!(reasons.to_string().contains("must say which"), "{reasons}");

    // The sender is told, within the same step, which replies would work.
    let answers = queued(&pool, "reply_help").await;
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].0, "mark.rowley@met.example");
    let would_work = answers[0].1["would_work"].to_string();
    assert!(
        would_work.contains(&format!("{first} Done"))
            && would_work.contains(&format!("{second} Done")),
        "{would_work}"
    );
    // The secretariat hears that something waits, once.
    let notices = queued(&pool, "triage_notice").await;
    assert!(!notices.is_empty());
    assert!(notices.iter().all(|(_, c)| c["count"] == 1), "{notices:?}");

    // Filed by hand against the second action: applied as if filed by rule.
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM messages WHERE message_id = 'which@met.example'")
            .fetch_one(&pool)
            .await
            .unwrap();
    minuted_ok(
        &url,
        &[
            "triage",
            "file",
            &id.to_string(),
            "--action",
            &second,
            "--by",
            "shobnam.islam@mopac.example",
        ],
    );
    let summary = drain(&pool, &settings(), &clock).await.unwrap();
    assert_eq!(summary.done, 1, "{summary:?}");
    assert_eq!(listed(&url, &second)["status"], "done");
    assert_eq!(listed(&url, &first)["status"], "open");
    let acks = acknowledgements(&pool).await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert!(
        acks[0].1["outcome"].to_string().contains(&second),
        "{acks:?}"
    );
    // Answered once, however it was filed.
    assert_eq!(queued(&pool, "reply_help").await.len(), 1);
}

#[tokio::test]
async fn one_address_gets_at_most_three_answers_an_hour_however_often_it_writes() {
    let (url, pool) = database().await;
    let clock = clock();
    let first = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let second = add_action(&url, "LCJB-2023-09-20", "MPS", "Report on the IOM uplift");
    let request = update_request(&pool, &[&first, &second], "mark.rowley@met.example").await;
    // A responder that ignores Auto-Submitted, answering the same request again and again.
    let replies: Vec<Vec<u8>> = (0..5)
        .map(|n| {
            email(
                "Mark Rowley <mark.rowley@met.example>",
                "RE: [LCJB 2023-12-13] Written updates due by 6 December",
                &format!("again-{n}@met.example"),
                Some(&request),
                "Done",
            )
        })
        .collect();
    deliver(&pool, &clock, &replies).await;
    assert_eq!(queued(&pool, "reply_help").await.len(), 3);
    let withheld: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'filing.answer_withheld'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(withheld, 2);
}
