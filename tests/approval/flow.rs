//! Revisions and approval requests.

use minuted::approval::token::ApprovalToken;
use minuted::minutes::{process_next_draft, DraftOutcome};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_filed_draft_becomes_a_revision_with_a_signed_request_to_each_approver() {
    let (url, pool) = database().await;
    let clock = clock();
    deliver(&pool, &clock, &[fixture("draft_minutes.eml")]).await;
    let outcome = process_next_draft(&pool, &settings(), &clock, KEY)
        .await
        .unwrap();
    let DraftOutcome::Revision {
        meeting_ref,
        n,
        requests,
    } = outcome
    else {
        panic!("expected a revision, got {outcome:?}");
    };
    assert_eq!((meeting_ref.as_str(), n), ("LCJB-2023-09-20", 1));
    assert!(requests >= 1);
    assert_eq!(
        process_next_draft(&pool, &settings(), &clock, KEY)
            .await
            .unwrap(),
        DraftOutcome::Idle
    );

    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT o.reply_token, r.approver_address, r.id FROM approval_requests r
         JOIN outbox o ON o.id = r.outbox_id WHERE o.kind = 'approval_request'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), requests);
    for (reply_token, _, id) in &rows {
        let token = ApprovalToken::parse(reply_token).unwrap();
        assert_eq!(token.request_id(), *id);
    }
    let attached: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox_attachments a JOIN outbox o ON o.id = a.outbox_id
         WHERE o.kind = 'approval_request'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(attached as usize, requests);

    let shown: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &["minutes", "show", "LCJB-2023-09-20", "--json"],
    ))
    .unwrap();
    assert_eq!(shown["meeting"], "LCJB-2023-09-20");
    assert_eq!(shown["revision"], 1);
    assert_eq!(shown["status"], "draft");
    for key in ["attendees", "apologies", "items", "actions", "unmatched"] {
        assert!(shown[key].is_array(), "{key} in {shown}");
    }
    // A stored revision's names were checked against the board: the summary never says
    // they were not, whatever it lists as unmatched.
    let text =
        String::from_utf8(minuted_ok(&url, &["minutes", "show", "LCJB-2023-09-20"])).unwrap();
    assert!(!text.contains("names not checked"), "{text}");
    assert!(text.contains("not in the registry"), "{text}");
}

#[tokio::test]
async fn identical_content_is_not_a_new_revision_and_a_new_one_supersedes_the_last() {
    let (_url, pool) = database().await;
    let clock = clock();
    let text = "Present:\nSophie Linden (Chair)\n\n1. Welcome\nThe board noted the update.\n";
    deliver(&pool, &clock, &[draft_with_text("d1@mopac.example", text)]).await;
    assert!(matches!(
        process_next_draft(&pool, &settings(), &clock, KEY)
            .await
            .unwrap(),
        DraftOutcome::Revision { n: 1, .. }
    ));
    deliver(&pool, &clock, &[draft_with_text("d2@mopac.example", text)]).await;
    assert!(matches!(
        process_next_draft(&pool, &settings(), &clock, KEY)
            .await
            .unwrap(),
        DraftOutcome::Identical { n: 1, .. }
    ));
    let changed = format!("{text}The board asked for data by December.\n");
    deliver(
        &pool,
        &clock,
        &[draft_with_text("d3@mopac.example", &changed)],
    )
    .await;
    assert!(matches!(
        process_next_draft(&pool, &settings(), &clock, KEY)
            .await
            .unwrap(),
        DraftOutcome::Revision { n: 2, .. }
    ));
    let statuses: Vec<(i32, String)> =
        sqlx::query_as("SELECT n, status FROM minutes_revisions ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        vec![(1, "superseded".into()), (2, "draft".into())]
    );
    let open: Vec<(i64, String)> =
        sqlx::query_as("SELECT revision_id, status FROM approval_requests ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(open.iter().any(|(_, s)| s == "superseded"));
    assert!(open.iter().any(|(_, s)| s == "open"));
    // The change is shown as the words added, not the whole paragraph twice.
    let changes: Value = sqlx::query_scalar(
        "SELECT context->'changes' FROM outbox WHERE kind = 'approval_request' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let added: Vec<&str> = changes
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["words"].as_array().unwrap())
        .filter(|w| w["added"] == true)
        .map(|w| w["text"].as_str().unwrap())
        .collect();
    assert!(
        added
            .iter()
            .any(|w| w.contains("asked for data by December")),
        "{changes}"
    );
}

#[tokio::test]
async fn a_file_that_cannot_be_read_is_an_error_on_the_revision_and_the_secretariat_is_told() {
    let (_url, pool) = database().await;
    let clock = clock();
    let raw = String::from_utf8(fixture("draft_minutes.eml")).unwrap();
    // Break the .docx: keep its name, replace its bytes with something that is not a zip.
    let start = raw.find("UEsDB").unwrap();
    let end = raw[start..].find("\n--").unwrap() + start;
    let broken = format!(
        "{}bm90IGEgemlwIGZpbGUgYXQgYWxs\n{}",
        &raw[..start],
        &raw[end + 1..]
    );
    deliver(&pool, &clock, &[broken.into_bytes()]).await;
    let outcome = process_next_draft(&pool, &settings(), &clock, KEY)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DraftOutcome::Unreadable { .. }),
        "{outcome:?}"
    );
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'approval_result' AND context->>'reason' LIKE 'cannot read%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(told >= 1);
    // The message is recorded as handled, with the same reason as the revision.
    let (outcome, reason, error): (String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT s.outcome, s.reason, r.error
         FROM minutes_sources s JOIN minutes_revisions r ON r.id = s.revision_id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(outcome, "error");
    assert!(reason.is_some(), "no reason recorded");
    assert_eq!(reason, error);
    let requests: i64 = sqlx::query_scalar("SELECT count(*) FROM approval_requests")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(requests, 0);
}

#[tokio::test]
async fn the_approval_request_names_where_the_minutes_disagree_with_the_attendance_register() {
    let (_url, pool) = database().await;
    let clock = clock();
    // Sophie Linden, who chaired, had sent apologies; Lynne Owens said she would come.
    for (member, response) in [("Sophie Linden", "apologies"), ("Lynne Owens", "attending")] {
        sqlx::query(
            "INSERT INTO attendance (meeting_id, member_id, response, via, responded_at, recorded_at)
             SELECT m.id, mb.id, $2, 'cli', now(), now()
             FROM meetings m, members mb WHERE m.ref = 'LCJB-2023-09-20' AND mb.name = $1",
        )
        .bind(member)
        .bind(response)
        .execute(&pool)
        .await
        .unwrap();
    }
    deliver(&pool, &clock, &[fixture("draft_minutes.eml")]).await;
    process_next_draft(&pool, &settings(), &clock, KEY)
        .await
        .unwrap();
    let summaries: Vec<Value> =
        sqlx::query_scalar("SELECT context->'summary' FROM outbox WHERE kind = 'approval_request'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(!summaries.is_empty());
    for summary in summaries {
        let lines: Vec<&str> = summary
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            lines.contains(
                &"attendance register: Sophie Linden is listed as present but sent apologies"
            ),
            "{lines:#?}"
        );
        assert!(
            lines.contains(
                &"attendance register: Lynne Owens said they would attend but is not listed as present"
            ),
            "{lines:#?}"
        );
    }
}
