//! Replies to approval requests: genuine ones applied exactly once, the rest refused.

use chrono::Duration;
use minuted::approval::apply::{handle_next_reply, ReplyOutcome};
use minuted::clock::Clock;
use minuted::minutes::{process_next_draft, DraftOutcome};
use sqlx::PgPool;

use crate::helpers::*;

/// An open request: (token, approver address, request Message-ID).
async fn requests(pool: &PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT o.reply_token, r.approver_address, o.message_id FROM approval_requests r
         JOIN outbox o ON o.id = r.outbox_id WHERE r.status = 'open' ORDER BY r.id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn reply(from: &str, token: &str, in_reply_to: &str, id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: LCJB <lcjb+{token}@board.example>\r\n\
Subject: Re: Approval needed: the draft minutes\r\nDate: Mon, 27 Nov 2023 15:30:00 +0000\r\n\
Message-ID: <{id}>\r\nIn-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n\r\n\
On Mon, 27 Nov 2023 at 15:00, LCJB wrote:\r\n> Please review the draft minutes.\r\n"
    )
    .into_bytes()
}

async fn with_request() -> (String, PgPool, Clock) {
    let (url, pool) = database().await;
    let clock = clock();
    deliver(&pool, &clock, &[fixture("draft_minutes.eml")]).await;
    assert!(matches!(
        process_next_draft(&pool, &settings(), &clock, KEY)
            .await
            .unwrap(),
        DraftOutcome::Revision { .. }
    ));
    (url, pool, clock)
}

async fn answer(pool: &PgPool, clock: &Clock, raw: Vec<u8>) -> ReplyOutcome {
    deliver(pool, clock, &[raw]).await;
    handle_next_reply(pool, &settings(), clock, KEY)
        .await
        .unwrap()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn an_approval_is_applied_once_and_a_replay_changes_nothing() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    let outcome = answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "a1@x", "Approved, thanks"),
    )
    .await;
    let ReplyOutcome::Approved {
        circulation,
        actions,
        ..
    } = outcome
    else {
        panic!("expected an approval, got {outcome:?}");
    };
    let members = count(&pool, "SELECT count(*) FROM members m JOIN member_addresses a ON a.member_id = m.id AND a.is_primary WHERE m.active AND m.circulation").await;
    assert_eq!(circulation as i64, members);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation' AND status = 'held'"
        )
        .await,
        members
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM actions").await as usize,
        actions.len()
    );
    if let Some(first) = actions.first() {
        assert_eq!(first, "LCJB-A1");
    }
    assert_eq!(
        count(&pool, "SELECT count(*) FROM meetings WHERE ref = 'LCJB-2023-09-20' AND status = 'minutes_approved'").await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM events WHERE kind = 'approval.approved'"
        )
        .await,
        1
    );

    // The same token again, in another message: nothing changes.
    let again = answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "a2@x", "APPROVE"),
    )
    .await;
    assert!(matches!(again, ReplyOutcome::Unchanged { .. }), "{again:?}");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        members
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM actions").await as usize,
        actions.len()
    );
}

#[tokio::test]
async fn undo_within_the_window_cancels_the_held_circulation() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    assert!(matches!(
        answer(
            &pool,
            &clock,
            reply(&approver, &token, &request_id, "u1@x", "APPROVE")
        )
        .await,
        ReplyOutcome::Approved { .. }
    ));
    clock.advance(Duration::minutes(5));
    let undone = answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "u2@x", "UNDO"),
    )
    .await;
    assert!(
        matches!(undone, ReplyOutcome::Undone { cancelled, .. } if cancelled > 0),
        "{undone:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation' AND status = 'held'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn undo_after_the_window_changes_nothing() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "w1@x", "APPROVE"),
    )
    .await;
    clock.advance(Duration::minutes(11));
    let late = answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "w2@x", "UNDO"),
    )
    .await;
    assert!(matches!(late, ReplyOutcome::Unchanged { .. }), "{late:?}");
    assert!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation' AND status = 'held'"
        )
        .await
            > 0
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    clock.advance(Duration::days(15));
    let outcome = answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "e1@x", "APPROVE"),
    )
    .await;
    assert!(
        matches!(&outcome, ReplyOutcome::Refused { reason } if reason.contains("expired")),
        "{outcome:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM events WHERE kind = 'approval.refused'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_approval_from_another_member_with_the_token_is_refused() {
    let (_url, pool, clock) = with_request().await;
    let (token, _approver, request_id) = requests(&pool).await.remove(0);
    let other = "sophie.linden@mopac.example";
    let outcome = answer(
        &pool,
        &clock,
        reply(other, &token, &request_id, "o1@x", "APPROVE"),
    )
    .await;
    assert!(
        matches!(&outcome, ReplyOutcome::Refused { reason } if reason.contains("not from")),
        "{outcome:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_forged_or_altered_token_is_refused() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    let mut forged = token.into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'a' { b'b' } else { b'a' };
    let forged = String::from_utf8(forged).unwrap();
    let outcome = answer(
        &pool,
        &clock,
        reply(&approver, &forged, &request_id, "f1@x", "APPROVE"),
    )
    .await;
    assert!(
        matches!(&outcome, ReplyOutcome::Refused { reason } if reason.contains("signature")),
        "{outcome:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn reject_with_a_reason_and_a_comment_change_nothing_else() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    let comment = answer(
        &pool,
        &clock,
        reply(
            &approver,
            &token,
            &request_id,
            "c1@x",
            "I don't approve yet, checking item 3",
        ),
    )
    .await;
    assert_eq!(comment, ReplyOutcome::Comment);
    let rejected = answer(
        &pool,
        &clock,
        reply(
            &approver,
            &token,
            &request_id,
            "r1@x",
            "REJECT the attendance list is wrong",
        ),
    )
    .await;
    assert!(
        matches!(&rejected, ReplyOutcome::Rejected { reason, .. } if reason.contains("attendance")),
        "{rejected:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM minutes_revisions WHERE status = 'rejected'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_approval_for_a_superseded_revision_changes_nothing() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    deliver(
        &pool,
        &clock,
        &[draft_with_text(
            "v2@mopac.example",
            "Present:\nSophie Linden\n\n1. Welcome\nNew text.\n",
        )],
    )
    .await;
    assert!(matches!(
        process_next_draft(&pool, &settings(), &clock, KEY)
            .await
            .unwrap(),
        DraftOutcome::Revision { n: 2, .. }
    ));
    let outcome = answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "s1@x", "APPROVE"),
    )
    .await;
    assert!(
        matches!(outcome, ReplyOutcome::Unchanged { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn two_daemons_apply_one_approval_once() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    deliver(
        &pool,
        &clock,
        &[
            reply(&approver, &token, &request_id, "t1@x", "APPROVE"),
            reply(&approver, &token, &request_id, "t2@x", "Yes"),
        ],
    )
    .await;
    let settings = settings();
    let (a, b) = tokio::join!(
        async {
            let mut out = Vec::new();
            loop {
                match handle_next_reply(&pool, &settings, &clock, KEY)
                    .await
                    .unwrap()
                {
                    ReplyOutcome::Idle => break out,
                    o => out.push(o),
                }
            }
        },
        async {
            let mut out = Vec::new();
            loop {
                match handle_next_reply(&pool, &settings, &clock, KEY)
                    .await
                    .unwrap()
                {
                    ReplyOutcome::Idle => break out,
                    o => out.push(o),
                }
            }
        }
    );
    let all: Vec<ReplyOutcome> = a.into_iter().chain(b).collect();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        all.iter()
            .filter(|o| matches!(o, ReplyOutcome::Approved { .. }))
            .count(),
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM events WHERE kind = 'approval.approved'"
        )
        .await,
        1
    );
}

fn dkim_settings() -> minuted::config::Settings {
    let mut settings = settings();
    settings.approval.require_dkim = true;
    settings.approval.authserv_id = Some("mx.board.example".into());
    settings
}

/// `raw` as our server would receive it: its `Received` hop from outside, and above it
/// (added by our server) `ours`; below it (already in the message) `theirs`.
fn through_our_server(raw: Vec<u8>, ours: Option<&str>, theirs: Option<&str>) -> Vec<u8> {
    let mut out = String::new();
    if let Some(ours) = ours {
        out.push_str(&format!("Authentication-Results: {ours}\r\n"));
    }
    out.push_str("Received: from mail.mopac.example (mail.mopac.example [192.0.2.10])\r\n\tby mx.board.example (Postfix) with ESMTPS id 4Sx; Mon, 27 Nov 2023 15:30:01 +0000\r\n");
    if let Some(theirs) = theirs {
        out.push_str(&format!("Authentication-Results: {theirs}\r\n"));
    }
    let mut bytes = out.into_bytes();
    bytes.extend(raw);
    bytes
}

#[tokio::test]
async fn with_dkim_required_a_reply_without_our_servers_pass_is_refused() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    let settings = dkim_settings();
    // No results at all, then a forged pass added before our server, then a failure.
    let cases = [
        (None, None),
        (None, Some("mx.board.example; dkim=pass header.d=mopac.example; dmarc=pass header.from=mopac.example")),
        (Some("mx.board.example; dkim=fail header.d=mopac.example; dmarc=fail header.from=mopac.example"), None),
    ];
    for (i, (ours, theirs)) in cases.into_iter().enumerate() {
        let raw = reply(
            &approver,
            &token,
            &request_id,
            &format!("k{i}@x"),
            "APPROVE",
        );
        deliver(&pool, &clock, &[through_our_server(raw, ours, theirs)]).await;
        let outcome = handle_next_reply(&pool, &settings, &clock, KEY)
            .await
            .unwrap();
        let refused = matches!(&outcome, ReplyOutcome::Refused { reason } if reason.contains("not authenticated"));
        // Filing already quarantines a sender whose authentication our server failed, so
        // the message never reaches the approval step: nothing to handle.
        let not_filed = i == 2 && outcome == ReplyOutcome::Idle;
        assert!(refused || not_filed, "case {i}: {outcome:?}");
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );

    let raw = reply(&approver, &token, &request_id, "k9@x", "APPROVE");
    let pass =
        "mx.board.example; dkim=pass header.d=mopac.example; dmarc=pass header.from=mopac.example";
    deliver(&pool, &clock, &[through_our_server(raw, Some(pass), None)]).await;
    let outcome = handle_next_reply(&pool, &settings, &clock, KEY)
        .await
        .unwrap();
    assert!(
        matches!(outcome, ReplyOutcome::Approved { .. }),
        "{outcome:?}"
    );
    let evidence: String = sqlx::query_scalar(
        "SELECT detail->'evidence'->'authentication'->>'verdict' FROM events WHERE kind = 'approval.approved'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(evidence, "pass");
}

#[tokio::test]
async fn html_replies_from_outlook_and_gmail_approve() {
    for (n, html) in [
        "<html><body><div>Approved</div><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> LCJB<br><b>Sent:</b> 27 November 2023<br>Please review</div></body></html>",
        "<div dir=\"ltr\">I approve</div><br><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, 27 Nov 2023 at 15:00, LCJB &lt;lcjb@board.example&gt; wrote:<br></div><blockquote class=\"gmail_quote\">Please review</blockquote></div>",
    ]
    .into_iter()
    .enumerate()
    {
        let (_url, pool, clock) = with_request().await;
        let (token, approver, request_id) = requests(&pool).await.remove(0);
        let raw = format!(
            "From: {approver}\r\nTo: lcjb+{token}@board.example\r\nSubject: RE: Approval needed\r\n\
Date: Mon, 27 Nov 2023 15:30:00 +0000\r\nMessage-ID: <h{n}@x>\r\nIn-Reply-To: <{request_id}>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
        );
        let outcome = answer(&pool, &clock, raw.into_bytes()).await;
        assert!(matches!(outcome, ReplyOutcome::Approved { .. }), "reply {n}: {outcome:?}");
    }
}

#[tokio::test]
async fn a_reply_without_the_token_is_refused_even_from_the_approver() {
    let (_url, pool, clock) = with_request().await;
    let (_token, approver, request_id) = requests(&pool).await.remove(0);
    // To the board's plain address, threaded under the request: the token is missing.
    let raw = format!(
        "From: {approver}\r\nTo: LCJB <lcjb@board.example>\r\nSubject: Re: Approval needed\r\n\
Date: Mon, 27 Nov 2023 15:30:00 +0000\r\nMessage-ID: <nt1@x>\r\nIn-Reply-To: <{request_id}>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAPPROVE\r\n"
    );
    let outcome = answer(&pool, &clock, raw.into_bytes()).await;
    assert!(
        matches!(&outcome, ReplyOutcome::Refused { reason } if reason.contains("token")),
        "{outcome:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_token_issued_to_another_approver_is_refused() {
    let (_url, pool) = database().await;
    let clock = clock();
    let mut settings = settings();
    settings.approval.require_chair = true;
    deliver(&pool, &clock, &[fixture("draft_minutes.eml")]).await;
    assert!(matches!(
        process_next_draft(&pool, &settings, &clock, KEY)
            .await
            .unwrap(),
        DraftOutcome::Revision { requests: 2.., .. }
    ));
    let open = requests(&pool).await;
    let (theirs, _, request_id) = &open[0];
    let (_, other, _) = &open[1];
    let raw = reply(other, theirs, request_id, "x1@x", "APPROVE");
    deliver(&pool, &clock, &[raw]).await;
    let outcome = handle_next_reply(&pool, &settings, &clock, KEY)
        .await
        .unwrap();
    assert!(
        matches!(&outcome, ReplyOutcome::Refused { reason } if reason.contains("not from")),
        "{outcome:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn after_an_undo_another_approver_can_still_approve() {
    let (_url, pool) = database().await;
    let clock = clock();
    let mut settings = settings();
    settings.approval.require_chair = true;
    deliver(&pool, &clock, &[fixture("draft_minutes.eml")]).await;
    process_next_draft(&pool, &settings, &clock, KEY)
        .await
        .unwrap();
    let open = requests(&pool).await;
    assert!(open.len() >= 2, "{open:?}");
    let (first_token, first, first_request) = &open[0];
    let (second_token, second, second_request) = &open[1];
    deliver(
        &pool,
        &clock,
        &[reply(first, first_token, first_request, "au1@x", "APPROVE")],
    )
    .await;
    assert!(matches!(
        handle_next_reply(&pool, &settings, &clock, KEY)
            .await
            .unwrap(),
        ReplyOutcome::Approved { .. }
    ));
    deliver(
        &pool,
        &clock,
        &[reply(first, first_token, first_request, "au2@x", "UNDO")],
    )
    .await;
    assert!(matches!(
        handle_next_reply(&pool, &settings, &clock, KEY)
            .await
            .unwrap(),
        ReplyOutcome::Undone { .. }
    ));
    deliver(
        &pool,
        &clock,
        &[reply(
            second,
            second_token,
            second_request,
            "au3@x",
            "APPROVE",
        )],
    )
    .await;
    let outcome = handle_next_reply(&pool, &settings, &clock, KEY)
        .await
        .unwrap();
    assert!(
        matches!(outcome, ReplyOutcome::Approved { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM actions WHERE status = 'open'").await,
        count(
            &pool,
            "SELECT count(*) FROM actions WHERE status = 'dropped'"
        )
        .await
    );
}

/// The confirmations of an approval: (to, reply token, Message-ID, context).
async fn confirmations(pool: &PgPool) -> Vec<(String, String, String, serde_json::Value)> {
    sqlx::query_as(
        "SELECT to_address, reply_token, message_id, context FROM outbox
         WHERE kind = 'approval_result' AND context->>'decision' = 'approved' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn undo_in_reply_to_the_confirmation_stops_circulation_and_only_the_approver_is_offered_it() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    let outlook = format!(
        "Approved, thanks.\r\n\r\n-----Original Message-----\r\nFrom: LCJB <lcjb@board.example>\r\n\
Sent: 27 November 2023 15:00\r\nTo: {approver}\r\nSubject: Approval needed\r\n\r\nReply APPROVE to approve."
    );
    assert!(matches!(
        answer(
            &pool,
            &clock,
            reply(&approver, &token, &request_id, "o1@x", &outlook)
        )
        .await,
        ReplyOutcome::Approved { .. }
    ));
    let confirmations = confirmations(&pool).await;
    let (offered, others): (Vec<_>, Vec<_>) =
        confirmations.iter().partition(|(to, ..)| *to == approver);
    assert_eq!(offered.len(), 1, "{confirmations:?}");
    let (_, undo_token, confirmation_id, context) = offered[0];
    assert_eq!(context["undo_offered"], true);
    assert!(context["next_step"].as_str().unwrap().contains("UNDO"));
    for (to, _, _, context) in &others {
        let next = context["next_step"].as_str().unwrap();
        assert!(
            !next.contains("UNDO") && next.contains("Nothing is needed"),
            "{to}: {next}"
        );
    }

    // UNDO from a phone, in reply to the confirmation rather than the request.
    clock.advance(Duration::minutes(3));
    let undo = format!(
        "From: {approver}\r\nTo: LCJB <lcjb+{undo_token}@board.example>\r\n\
Subject: Re: Approved: the draft minutes\r\nDate: Mon, 27 Nov 2023 15:33:00 +0000\r\n\
Message-ID: <undo-1@x>\r\nIn-Reply-To: <{confirmation_id}>\r\nReferences: <{confirmation_id}>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nUNDO\r\n\r\nSent from my iPhone\r\n\r\n\
> On 27 Nov 2023, at 15:30, LCJB wrote:\r\n> To stop them, reply UNDO.\r\n"
    );
    let undone = answer(&pool, &clock, undo.into_bytes()).await;
    assert!(
        matches!(undone, ReplyOutcome::Undone { cancelled, .. } if cancelled > 0),
        "{undone:?}"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation' AND status <> 'expired'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_conditional_approval_is_answered_to_the_approver_and_circulates_nothing() {
    let (_url, pool, clock) = with_request().await;
    let (token, approver, request_id) = requests(&pool).await.remove(0);
    for (id, body) in [
        (
            "k1@x",
            "Can't approve until CPS confirm the figures in item 4.",
        ),
        (
            "k2@x",
            "Approved subject to the correction of Lionel Idan's title.",
        ),
        ("k3@x", "Approved, but item 3 needs the date."),
    ] {
        let outcome = answer(
            &pool,
            &clock,
            reply(&approver, &token, &request_id, id, body),
        )
        .await;
        assert_eq!(outcome, ReplyOutcome::Comment, "{body}");
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'circulation'"
        )
        .await,
        0
    );
    let told: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT context FROM outbox WHERE kind = 'approval_result' AND to_address = $1 ORDER BY id",
    )
    .bind(&approver)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(told.len(), 3, "{told:?}");
    for context in &told {
        let next = context["next_step"].as_str().unwrap();
        assert!(
            next.contains("APPROVE") && next.contains("Nothing was approved"),
            "{next}"
        );
    }
}

/// Draft minutes pasted into the body of an email under a covering note, with three
/// actions written as actions.
fn body_draft() -> Vec<u8> {
    "From: Shobnam Islam <shobnam.islam@mopac.example>\r\nTo: LCJB <lcjb@board.example>\r\n\
Subject: Draft minutes - LCJB 20 September 2023\r\nDate: Mon, 27 Nov 2023 11:20:14 +0000\r\n\
Message-ID: <body-draft-1@mopac.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
Hi all,\r\n\r\nPlease find below the draft minutes of the September meeting.\r\n\r\n\
Thanks\r\nShobnam\r\n\r\n\
LONDON CRIMINAL JUSTICE BOARD\r\nMinutes of the meeting held on Wednesday 20 September 2023\r\nDRAFT\r\n\r\n\
Present\r\n- Sophie Linden, DMPC (Chair)\r\n- Tamara Barnett, MOPAC\r\n- Kris Venkatasami, CPS South\r\n\r\n\
Apologies\r\n- Claire Waxman, Independent Victims' Commissioner for London\r\n\r\n\
Item 1 - Welcome and previous actions\r\nThe Chair welcomed members.\r\n\
ACTION: MOPAC to circulate the revised terms of reference by October.\r\n\
ACTION: CPS South to share the charging data with the board.\r\n\
ACTION: MPS to report on the custody pilot at the next meeting.\r\n\r\n\
Item 2 - Any other business\r\nThere was no other business.\r\n"
        .as_bytes()
        .to_vec()
}

#[tokio::test]
async fn a_body_draft_is_sent_as_a_document_and_approve_without_leaves_out_what_it_names() {
    let (_url, pool) = database().await;
    let clock = clock();
    deliver(&pool, &clock, &[body_draft()]).await;
    let outcome = process_next_draft(&pool, &settings(), &clock, KEY)
        .await
        .unwrap();
    assert!(
        matches!(outcome, DraftOutcome::Revision { .. }),
        "{outcome:?}"
    );

    // Every request carries the minutes as a .docx named for what it is, made of the
    // minutes without the covering note.
    let files: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT a.filename, a.content_type, c.content FROM outbox_attachments a
         JOIN outbox o ON o.id = a.outbox_id JOIN attachments c ON c.id = a.attachment_id
         WHERE o.kind = 'approval_request'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let requests_sent = requests(&pool).await;
    assert_eq!(files.len(), requests_sent.len());
    assert!(!files.is_empty());
    for (filename, content_type, content) in &files {
        assert_eq!(
            filename,
            "LCJB minutes 20 September 2023 (draft, version 1).docx"
        );
        assert!(content_type.contains("wordprocessingml"), "{content_type}");
        let text = minuted::minutes::extract::extract(content, Some(filename), None)
            .unwrap()
            .text;
        assert!(text.starts_with("LONDON CRIMINAL JUSTICE BOARD"), "{text}");
        assert!(!text.contains("Please find below"), "{text}");
        assert!(
            text.contains("ACTION: CPS South to share the charging data"),
            "{text}"
        );
    }
    // The request numbers the candidates and says how to leave some out.
    let context: serde_json::Value = sqlx::query_scalar(
        "SELECT context FROM outbox WHERE kind = 'approval_request' ORDER BY id LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let numbered: Vec<(i64, String)> = context["candidate_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["number"].as_i64().unwrap(),
                a["owner"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        numbered,
        vec![
            (1, "MOPAC".to_owned()),
            (2, "CPS South".to_owned()),
            (3, "MPS".to_owned())
        ]
    );
    assert_eq!(context["items"].as_array().unwrap().len(), 2);

    // A number the request did not give changes nothing and says which numbers exist.
    let (token, approver, request_id) = requests_sent[0].clone();
    let unknown = answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "w1@x", "APPROVE without 7"),
    )
    .await;
    let ReplyOutcome::Unchanged { reason } = unknown else {
        panic!("expected no change, got {unknown:?}");
    };
    assert!(
        reason.contains("no action 7") && reason.contains("1 to 3"),
        "{reason}"
    );
    assert_eq!(count(&pool, "SELECT count(*) FROM actions").await, 0);

    // APPROVE without 2: every candidate but the second enters the register.
    let approved = answer(
        &pool,
        &clock,
        reply(&approver, &token, &request_id, "w2@x", "APPROVE without 2"),
    )
    .await;
    let ReplyOutcome::Approved { actions, .. } = approved else {
        panic!("expected an approval, got {approved:?}");
    };
    assert_eq!(actions.len(), 2);
    let texts: Vec<String> = sqlx::query_scalar("SELECT text FROM actions ORDER BY id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(texts.len(), 2);
    assert!(texts[0].contains("revised terms of reference"), "{texts:?}");
    assert!(texts[1].contains("custody pilot"), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("charging data")));
    let left_out: serde_json::Value = sqlx::query_scalar(
        "SELECT evidence->'actions_left_out' FROM approval_requests WHERE status = 'approved'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left_out, serde_json::json!([2]));
    // Circulation carries the same document, named as approved.
    let circulated: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT a.filename FROM outbox_attachments a JOIN outbox o ON o.id = a.outbox_id
         WHERE o.kind = 'circulation'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        circulated,
        vec!["LCJB minutes 20 September 2023 (approved).docx".to_owned()]
    );
}
