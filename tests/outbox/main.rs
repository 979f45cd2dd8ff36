//! The outbox end to end: queueing, rendering, sending through real Postfix into real
//! Dovecot (read back over IMAP), `smtp-sink` fault modes, crashes mid-batch, bounces,
//! expiry, holds, the rate limit, and the command line. Workers run on a manual clock and
//! are driven step by step (`send_batch`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod helpers;

use minuted::store::bounces;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use helpers::*;
use mail_parser::{MessageParser, MimeHeaders};
use minuted::clock::Clock;
use minuted::config::{Security, Transport as TransportKind};
use minuted::domain::outbound::MailKind;
use minuted::domain::verp;
use minuted::outbox::transport::FileTransport;
use minuted::outbox::worker::SendOutcome;
use minuted::shutdown::{Shutdown, Wakeups};
use minuted::store::bounces::BounceTarget;
use minuted::store::outbox::{self as outbox_store, NewAttachment, NewOutboxMessage};
use serde_json::json;

const DELIVERY_TIMEOUT: StdDuration = StdDuration::from_secs(30);

#[tokio::test]
async fn queued_mail_is_rendered_written_as_eml_files_and_recorded() {
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
    assert_eq!(board.status(ids[0]).await, "pending");
    assert!(
        board.row(ids[0]).await["subject"].is_null(),
        "rendered only when sent"
    );

    let dir = tempfile::tempdir().unwrap();
    let worker = file_worker(&board, &clock, dir.path());
    let summary = drain(&worker).await;
    assert_eq!((summary.sent, summary.failed), (2, 0), "{summary:?}");

    for id in &ids {
        let row = board.row(*id).await;
        assert_eq!(row["status"], "sent");
        assert_eq!(row["attempts"], 1);
        let message_id = row["message_id"].as_str().unwrap();
        assert!(
            message_id.starts_with(&format!("outbox.{id}."))
                && message_id.ends_with(&format!("@{}", board.domain)),
            "{message_id}"
        );
        let subject = row["subject"].as_str().unwrap();
        assert_eq!(
            subject,
            "Approved minutes: London Criminal Justice Board, Wednesday 13 December 2023"
        );
        let file = FileTransport::new(dir.path().to_owned()).path_for(message_id);
        let raw = std::fs::read(&file).unwrap();
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.message_id(), Some(message_id));
        assert_eq!(parsed.subject(), Some(subject));
        assert_eq!(
            board.attempts(*id).await,
            vec![(1, Some("sent".to_owned()))]
        );
    }
    let events = board.event_kinds().await;
    assert_eq!(events, vec!["outbox.enqueued"], "one event for the batch");
    // Nothing left, no stray temporary files.
    assert_eq!(worker.send_batch().await.unwrap(), SendOutcome::Idle);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// The bodies of a parsed message: (text, html).
fn bodies(message: &mail_parser::Message<'_>) -> (String, String) {
    (
        message.body_text(0).unwrap().into_owned(),
        message.body_html(0).unwrap().into_owned(),
    )
}

#[tokio::test]
async fn mail_through_postfix_reaches_each_members_mailbox_threaded_with_reply_to_verp_and_attachment(
) {
    let board = board().await;
    let clock = Clock::manual(start());
    let minutes: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let attachment_id = board.attachment(&minutes).await;
    let rows: Vec<NewOutboxMessage> = [&board.chair, &board.probation]
        .into_iter()
        .map(|member| {
            let mut row = board.circulation(member);
            row.in_reply_to = Some("<approval.1@mopac.example>".to_owned());
            row.references = vec!["draft.1@mopac.example".to_owned()];
            row.attachments = vec![NewAttachment {
                attachment_id,
                filename: "LCJB minutes 13 December 2023.docx".to_owned(),
                content_type:
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                        .to_owned(),
            }];
            row
        })
        .collect();
    let ids = board.enqueue(rows, &clock).await;

    let mut settings = smtp(support::env_port("MINUTED_TEST_SMTP_PORT"));
    settings.host = Some("localhost".to_owned());
    settings.security = Security::Starttls;
    settings.tls_ca_file = Some(support::env("MINUTED_TEST_TLS_CA").into());
    let worker = smtp_worker(&board, &clock, &settings);
    let summary = drain(&worker).await;
    assert_eq!(summary.sent, 2, "{summary:?}");

    for (id, member) in ids.iter().zip([&board.chair, &board.probation]) {
        let row = board.row(*id).await;
        let reply = row["server_reply"].as_str().unwrap();
        assert!(reply.starts_with("250"), "{reply}");
        let delivered =
            support::wait_for_messages(&member.address, "INBOX", 1, DELIVERY_TIMEOUT).await;
        assert_eq!(
            delivered.len(),
            1,
            "exactly one message for {}",
            member.address
        );
        let message = MessageParser::default().parse(&delivered[0]).unwrap();
        let token = row["reply_token"].as_str().unwrap();

        assert_eq!(message.message_id(), row["message_id"].as_str());
        assert_eq!(
            message.in_reply_to().as_text(),
            Some("approval.1@mopac.example")
        );
        let references: Vec<String> = message
            .references()
            .as_text_list()
            .unwrap_or_default()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            references,
            vec!["draft.1@mopac.example", "approval.1@mopac.example"]
        );
        let reply_to = message.reply_to().unwrap().first().unwrap();
        assert_eq!(
            reply_to.address(),
            Some(format!("lcjb+{token}@{}", board.domain).as_str())
        );
        let return_path = message.return_path().as_text().unwrap();
        let mid = row["message_id"].as_str().unwrap();
        assert_eq!(
            return_path,
            format!(
                "lcjb+bounce-{id}-{}@{}",
                verp::bounce_tag(mid),
                board.domain
            )
        );
        let (row_id, tag) = verp::parse_bounce_address(return_path).unwrap();
        assert_eq!(row_id, *id);
        assert!(verp::tag_matches(&tag, mid));
        assert_eq!(
            message.header("Auto-Submitted").unwrap().as_text(),
            Some("auto-generated")
        );
        let to = message.to().unwrap().first().unwrap();
        assert_eq!(to.name(), Some(member.name.as_str()));

        let (text, html) = bodies(&message);
        assert!(text.contains(&format!("Dear {},", member.name)), "{text}");
        assert!(
            text.contains("Item 2.b: Probation: written update on the HMIP recommendations"),
            "{text}"
        );
        assert!(html.contains(&format!("Dear {},", member.name)), "{html}");
        assert!(html.contains("<html lang=\"en-GB\">"), "{html}");

        let attachment = message.attachment(0).expect("the minutes are attached");
        assert_eq!(
            attachment.attachment_name(),
            Some("LCJB minutes 13 December 2023.docx")
        );
        assert_eq!(attachment.contents(), minutes.as_slice());
    }
}

#[tokio::test]
async fn hostile_names_subjects_and_bodies_never_add_headers_or_end_the_message_early() {
    let board = board().await;
    let clock = Clock::manual(start());
    let victim = format!("victim@{}", board.domain);
    let mut recipient = board.recipient(&board.probation);
    recipient.name = Some(format!("Kilvinder\r\nBcc: {victim}\r\n"));
    let hostile_subject = format!("Update\r\nBcc: {victim}\r\n\r\n.\r\nMAIL FROM:<x@evil.example>");
    let mut row = NewOutboxMessage::new(
        MailKind::Acknowledgement,
        board.id,
        recipient,
        json!({
            "original_subject": hostile_subject,
            "received_text": "Monday 4 December 2023 at 14:12",
            "kind": "written_update",
            "filed_as": "a written update",
            "filed_against": [
                "first line\n.\nsecond line after a lone dot",
                "crlf\r\n.\r\nstill the body",
                ".leading dot",
            ],
        }),
    );
    row.meeting_id = Some(board.meeting_id);
    let ids = board.enqueue(vec![row], &clock).await;

    let worker = smtp_worker(
        &board,
        &clock,
        &smtp(support::env_port("MINUTED_TEST_SMTP_PORT")),
    );
    assert_eq!(drain(&worker).await.sent, 1);
    let delivered =
        support::wait_for_messages(&board.probation.address, "INBOX", 1, DELIVERY_TIMEOUT).await;
    assert_eq!(delivered.len(), 1);
    let message = MessageParser::default().parse(&delivered[0]).unwrap();
    assert!(message.bcc().is_none());
    assert_eq!(message.header_values("Bcc").count(), 0);
    let subject = message.subject().unwrap();
    assert!(!subject.contains(['\r', '\n']), "{subject:?}");
    assert!(
        subject.starts_with("Received: Update Bcc: victim@"),
        "{subject}"
    );
    assert_eq!(
        message.to().unwrap().first().unwrap().address(),
        Some(board.probation.address.as_str())
    );
    let (text, html) = bodies(&message);
    for expected in [
        "first line\n.\nsecond line after a lone dot",
        "crlf\n.\nstill the body",
        ".leading dot",
        "If that is not right",
    ] {
        assert!(
            text.replace("\r\n", "\n").contains(expected),
            "{expected:?} in {text}"
        );
    }
    assert!(html.contains("second line after a lone dot"), "{html}");
    assert_eq!(board.status(ids[0]).await, "sent");

    // Postfix delivers what it queued together; a marker sent now arrives after anything
    // the injection could have queued, so the victim's mailbox must hold the marker only.
    support::smtp_send(
        "marker@test.example",
        &[&victim],
        b"From: marker@test.example\r\nSubject: marker\r\n\r\nmarker\r\n",
    )
    .await;
    let at_victim = support::wait_for_messages(&victim, "INBOX", 1, DELIVERY_TIMEOUT).await;
    assert_eq!(
        at_victim.len(),
        1,
        "the victim received more than the marker"
    );
}

#[tokio::test]
async fn a_4xx_is_retried_with_backoff_and_then_sent_with_the_same_message_id() {
    let board = board().await;
    let clock = Clock::manual(start());
    let ids = board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await;
    let id = ids[0];
    let sink = Sink::start(&["-r", "RCPT"]).await;
    let worker = smtp_worker(&board, &clock, &smtp(sink.port));

    let summary = drain(&worker).await;
    assert_eq!(summary.retrying, 1, "{summary:?}");
    let row = board.row(id).await;
    assert_eq!(row["status"], "retrying");
    assert!(
        row["last_error"].as_str().unwrap().contains("RCPT TO: 4"),
        "{row}"
    );
    let subject_after_first = row["subject"].clone();
    assert!(subject_after_first.is_string());
    // Not due before its backoff has passed.
    assert_eq!(worker.send_batch().await.unwrap(), SendOutcome::Idle);

    let sink = sink.restart(&[]).await;
    clock.advance(Duration::minutes(2));
    let summary = drain(&worker).await;
    assert_eq!(summary.sent, 1, "{summary:?}");
    let row = board.row(id).await;
    assert_eq!(row["status"], "sent");
    assert_eq!(row["subject"], subject_after_first, "rendered once");
    assert_eq!(sink.message_ids(), vec![message_id(&board, id).await]);
    assert_eq!(
        board.attempts(id).await,
        vec![(1, Some("transient".into())), (2, Some("sent".into()))]
    );
}

#[tokio::test]
async fn a_transient_failure_that_outlasts_the_retry_window_fails_and_tells_the_secretariat() {
    let board = board().await;
    let clock = Clock::manual(start());
    let id = board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await[0];
    let sink = Sink::start(&["-r", "MAIL"]).await;
    let mut settings = smtp(sink.port);
    settings.max_retry_hours = 1;
    let worker = smtp_worker(&board, &clock, &settings);
    let mut rounds = 0;
    while board.status(id).await != "failed" {
        drain(&worker).await;
        clock.advance(Duration::minutes(20));
        rounds += 1;
        assert!(rounds < 20, "never gave up");
    }
    let row = board.row(id).await;
    let error = row["last_error"].as_str().unwrap();
    assert!(error.starts_with("gave up after"), "{error}");
    assert_eq!(board.notices().await.len(), 1);
}

#[tokio::test]
async fn a_5xx_fails_the_row_and_the_secretariat_hears_at_most_once_an_hour() {
    let board = board().await;
    let clock = Clock::manual(start());
    let first = board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await[0];
    let sink = Sink::start(&["-f", "RCPT"]).await;
    let worker = smtp_worker(&board, &clock, &smtp(sink.port));

    worker.send_batch().await.unwrap();
    let row = board.row(first).await;
    assert_eq!(row["status"], "failed");
    assert!(
        row["last_error"].as_str().unwrap().contains("RCPT TO: 5"),
        "{row}"
    );
    let notices = board.notices().await;
    assert_eq!(notices.len(), 1, "one notice to the one secretariat member");
    assert_eq!(notices[0].1, board.secretariat.address);
    assert_eq!(notices[0].2["count"], 1);
    assert_eq!(
        notices[0].2["failures"][0]["to"],
        board.chair.address.as_str()
    );
    assert!(board
        .event_kinds()
        .await
        .contains(&"outbox.failed".to_owned()));

    // A second failure within the hour waits; the notice itself fails too (the sink
    // refuses everyone) but a failed notice never causes another.
    clock.advance(Duration::minutes(10));
    let second = board
        .enqueue(vec![board.circulation(&board.probation)], &clock)
        .await[0];
    drain(&worker).await;
    assert_eq!(board.status(second).await, "failed");
    assert_eq!(
        board.notices().await.len(),
        1,
        "held back by the hourly limit"
    );

    clock.advance(Duration::minutes(51));
    drain(&worker).await;
    let notices = board.notices().await;
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert_eq!(notices[1].2["count"], 1);
    assert_eq!(
        notices[1].2["failures"][0]["to"],
        board.probation.address.as_str()
    );
    drop(sink);
}

#[tokio::test]
async fn a_disconnect_after_the_final_dot_leaves_the_row_unknown_and_it_is_resent_with_the_same_message_id(
) {
    let board = board().await;
    let clock = Clock::manual(start());
    let id = board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await[0];
    let sink = Sink::start(&["-q", "."]).await;
    let worker = smtp_worker(&board, &clock, &smtp(sink.port));

    let summary = drain(&worker).await;
    assert_eq!(summary.unknown, 1, "{summary:?}");
    let row = board.row(id).await;
    assert_eq!(row["status"], "unknown");
    assert!(
        row["last_error"]
            .as_str()
            .unwrap()
            .contains("may have accepted"),
        "{row}"
    );

    let sink = sink.restart(&[]).await;
    clock.advance(Duration::minutes(2));
    assert_eq!(drain(&worker).await.sent, 1);
    assert_eq!(sink.message_ids(), vec![message_id(&board, id).await]);
    assert_eq!(
        board.attempts(id).await,
        vec![(1, Some("unknown".into())), (2, Some("sent".into()))]
    );
}

#[tokio::test]
async fn a_slow_server_within_the_timeout_is_waited_for_and_one_beyond_it_is_retried() {
    let board = board().await;
    let clock = Clock::manual(start());
    let id = board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await[0];

    let sink = Sink::start(&["-w", "3"]).await;
    let mut settings = smtp(sink.port);
    settings.timeout_seconds = 1;
    let worker = smtp_worker(&board, &clock, &settings);
    assert_eq!(drain(&worker).await.retrying, 1);
    let row = board.row(id).await;
    assert!(
        row["last_error"]
            .as_str()
            .unwrap()
            .contains("DATA: no reply within 1 s"),
        "{row}"
    );

    settings.timeout_seconds = 10;
    let patient = smtp_worker(&board, &clock, &settings);
    clock.advance(Duration::minutes(2));
    assert_eq!(drain(&patient).await.sent, 1);
    assert_eq!(board.status(id).await, "sent");
    assert_eq!(sink.message_ids(), vec![message_id(&board, id).await]);
}

#[tokio::test]
async fn a_worker_killed_mid_batch_leaves_every_row_sent_once_or_resent_with_the_same_message_id() {
    let board = board().await;
    let clock = Clock::manual(start());
    let rows: Vec<NewOutboxMessage> = (0..24)
        .map(|i| {
            let mut row = board.circulation(&board.chair);
            row.to.name = Some(format!("Member {i}"));
            row
        })
        .collect();
    let ids = board.enqueue(rows, &clock).await;
    // Each message waits a second for its DATA reply, so the batch takes a while.
    let sink = Sink::start(&["-w", "1"]).await;
    let mut settings = smtp(sink.port);
    settings.concurrency = 2;

    let doomed = smtp_worker(&board, &clock, &settings);
    let task = tokio::spawn(async move { doomed.send_batch().await });
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(30);
    while sink.message_ids().len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "nothing was sent");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    task.abort();
    let _ = task.await;
    let sending = board
        .statuses()
        .await
        .into_iter()
        .filter(|(_, s)| s == "sending")
        .count();
    assert!(sending > 0, "the kill should leave leased rows behind");

    // A new process: nothing is taken over before the lease runs out...
    let restarted = smtp_worker(&board, &clock, &settings);
    assert_eq!(restarted.send_batch().await.unwrap(), SendOutcome::Idle);
    // ...and then everything is sent.
    clock.advance(Duration::seconds(i64::from(settings.lease_seconds) + 1));
    let summary = drain(&restarted).await;
    assert!(summary.recovered > 0, "{summary:?}");
    assert!(board.statuses().await.iter().all(|(_, s)| s == "sent"));

    let delivered = sink.message_ids();
    for id in &ids {
        let mid = message_id(&board, *id).await;
        let times = delivered.iter().filter(|d| **d == mid).count();
        let attempts = board.attempts(*id).await;
        assert!(times >= 1, "row {id} was never delivered");
        if times > 1 {
            assert_eq!(times, 2, "row {id} delivered {times} times");
            assert_eq!(
                attempts[0].1.as_deref(),
                Some("unknown"),
                "row {id} was delivered twice without an unknown attempt: {attempts:?}"
            );
        }
        assert_eq!(attempts.last().unwrap().1.as_deref(), Some("sent"));
    }
}

#[tokio::test]
async fn a_sender_waiting_for_work_wakes_when_a_row_is_queued_not_at_its_next_poll() {
    let board = board().await;
    let clock = Clock::manual(start());
    let (_stop, shutdown) = Shutdown::new();
    let channel = outbox_store::QUEUED_CHANNEL;
    let wakeups = Wakeups::start(&board.pool, &[channel], shutdown);
    let mut wakeup = wakeups.on(channel);
    let hour = StdDuration::from_secs(3600);
    // Once listening, the hub announces every channel once: whatever was queued before
    // it listened is looked for.
    tokio::time::timeout(DELIVERY_TIMEOUT, wakeup.wait(hour))
        .await
        .expect("no announcement when the listener connected");

    let waiting = tokio::spawn(async move { wakeup.wait(hour).await });
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "woke with nothing queued");
    board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await;
    tokio::time::timeout(DELIVERY_TIMEOUT, waiting)
        .await
        .expect("queueing a row did not end an hour's wait")
        .unwrap();
}

#[tokio::test]
async fn two_workers_at_once_never_send_a_row_twice() {
    let board = board().await;
    let clock = Clock::manual(start());
    let rows: Vec<NewOutboxMessage> = (0..60).map(|_| board.circulation(&board.chair)).collect();
    let ids = board.enqueue(rows, &clock).await;
    let sink = Sink::start(&[]).await;
    let settings = smtp(sink.port);
    let a = smtp_worker(&board, &clock, &settings);
    let b = smtp_worker(&board, &clock, &settings);
    let (sa, sb) = tokio::join!(drain(&a), drain(&b));
    assert_eq!(sa.sent + sb.sent, 60, "{sa:?} {sb:?}");
    let mut delivered = sink.message_ids();
    delivered.sort();
    let mut expected = Vec::new();
    for id in ids {
        expected.push(message_id(&board, id).await);
    }
    expected.sort();
    assert_eq!(delivered, expected);
}

#[tokio::test]
async fn the_rate_limit_caps_messages_per_minute_across_steps() {
    let board = board().await;
    let clock = Clock::manual(start());
    let rows: Vec<NewOutboxMessage> = (0..5).map(|_| board.circulation(&board.chair)).collect();
    board.enqueue(rows, &clock).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = outgoing(TransportKind::File);
    settings.rate_per_minute = Some(3);
    let worker = worker_with(
        &board,
        &clock,
        Arc::new(FileTransport::new(dir.path().to_owned())),
        &settings,
    );
    assert_eq!(drain(&worker).await.sent, 3);
    assert!(matches!(
        worker.send_batch().await.unwrap(),
        SendOutcome::RateLimited { .. }
    ));
    clock.advance(Duration::seconds(61));
    assert_eq!(drain(&worker).await.sent, 2);
}

#[tokio::test]
async fn a_chaser_for_a_meeting_that_has_passed_expires_instead_of_sending() {
    let board = board().await;
    let clock = Clock::manual(start());
    let mut chaser = NewOutboxMessage::new(
        MailKind::Chaser,
        board.id,
        board.recipient(&board.probation),
        json!({ "items": [], "actions": [], "deadline_text": "Wednesday 6 December 2023", "overdue": true }),
    );
    chaser.meeting_id = Some(board.meeting_id);
    chaser.not_after = Some(start() + Duration::hours(1));
    let id = board.enqueue(vec![chaser], &clock).await[0];
    // Nothing can send it: the server refuses everything for now.
    let sink = Sink::start(&["-r", "MAIL"]).await;
    let worker = smtp_worker(&board, &clock, &smtp(sink.port));
    drain(&worker).await;
    assert_eq!(board.status(id).await, "retrying");
    clock.advance(Duration::hours(2));
    let summary = drain(&worker).await;
    assert_eq!(summary.expired, 1, "{summary:?}");
    assert_eq!(board.status(id).await, "expired");
    assert!(board
        .event_kinds()
        .await
        .contains(&"outbox.expired".to_owned()));
    assert!(
        board.notices().await.is_empty(),
        "an expiry is not a failure"
    );
}

#[tokio::test]
async fn a_held_row_waits_until_its_hold_ends() {
    let board = board().await;
    let clock = Clock::manual(start());
    let mut row = board.circulation(&board.chair);
    row.hold_until = Some(start() + Duration::hours(3));
    let id = board.enqueue(vec![row], &clock).await[0];
    assert_eq!(board.status(id).await, "held");
    let dir = tempfile::tempdir().unwrap();
    let worker = file_worker(&board, &clock, dir.path());
    assert_eq!(worker.send_batch().await.unwrap(), SendOutcome::Idle);
    clock.advance(Duration::hours(3));
    assert_eq!(drain(&worker).await.sent, 1);
}

#[tokio::test]
async fn a_hard_bounce_marks_the_row_flags_the_address_and_tells_the_secretariat() {
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
    drain(&file_worker(&board, &clock, dir.path())).await;

    // The chair's bounce comes back to the VERP address; the probation one is a DSN
    // naming the Message-ID, and soft.
    let bounce_to = verp::bounce_address(
        &format!("lcjb@{}", board.domain),
        ids[0],
        &message_id(&board, ids[0]).await,
    );
    let (row_id, _) = verp::parse_bounce_address(&bounce_to).unwrap();
    let mut tx = board.pool.begin().await.unwrap();
    let marked = bounces::mark_bounced(
        &mut tx,
        BounceTarget::Row(row_id),
        true,
        "550 5.1.1 user unknown",
        clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(marked, ids[0]);

    let mid = format!("<{}>", message_id(&board, ids[1]).await);
    let mut tx = board.pool.begin().await.unwrap();
    bounces::mark_bounced(
        &mut tx,
        BounceTarget::MessageId(mid),
        false,
        "452 4.2.2 mailbox full",
        clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(board.status(ids[0]).await, "bounced");
    assert_eq!(board.status(ids[1]).await, "bounced");
    let flags: Vec<(String, String)> =
        sqlx::query_as("SELECT address, status FROM member_addresses ORDER BY address")
            .fetch_all(&board.pool)
            .await
            .unwrap();
    for (address, status) in flags {
        let expected = if address == board.chair.address {
            "bouncing"
        } else {
            "ok"
        };
        assert_eq!(status, expected, "{address}");
    }
    // The first bounce was told at once; the second waits for the hour to pass.
    let notices = board.notices().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].2["failures"][0]["status"], "bounced");
    clock.advance(Duration::minutes(61));
    drain(&file_worker(&board, &clock, dir.path())).await;
    let notices = board.notices().await;
    assert_eq!(notices.len(), 2);
    assert_eq!(
        notices[1].2["failures"][0]["reason"],
        "452 4.2.2 mailbox full"
    );

    let unknown = bounces::mark_bounced(
        &mut board.pool.acquire().await.unwrap(),
        BounceTarget::MessageId("nobody@nowhere.example".into()),
        true,
        "x",
        clock.now(),
    )
    .await;
    assert!(matches!(unknown, Err(minuted::store::Error::NotFound(_))));
}

#[tokio::test]
async fn a_row_whose_template_cannot_render_fails_visibly_without_stopping_the_others() {
    let board = board().await;
    let clock = Clock::manual(start());
    // An action pack without its actions: strict templates refuse to guess.
    let broken = NewOutboxMessage::new(
        MailKind::ActionPack,
        board.id,
        board.recipient(&board.probation),
        json!({}),
    );
    let ids = board
        .enqueue(vec![broken, board.circulation(&board.chair)], &clock)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let summary = drain(&file_worker(&board, &clock, dir.path())).await;
    assert_eq!(
        summary.sent, 2,
        "the circulation and the secretariat's notice"
    );
    let row = board.row(ids[0]).await;
    assert_eq!(row["status"], "failed");
    assert!(
        row["last_error"]
            .as_str()
            .unwrap()
            .starts_with("cannot render"),
        "{row}"
    );
    assert_eq!(board.status(ids[1]).await, "sent");
    assert_eq!(board.notices().await.len(), 1);
}

#[tokio::test]
async fn enqueue_refuses_threading_ids_that_could_break_a_header() {
    let board = board().await;
    let clock = Clock::manual(start());
    let mut row = board.circulation(&board.chair);
    row.in_reply_to = Some("a@b\r\nBcc: x@evil.example".to_owned());
    let mut tx = board.pool.begin().await.unwrap();
    let err = outbox_store::enqueue(&mut tx, row, clock.now())
        .await
        .unwrap_err();
    assert!(matches!(err, minuted::store::Error::Invalid(_)), "{err}");
}

mod cli;

#[tokio::test]
async fn the_sendmail_transport_hands_mail_to_postfix_which_delivers_it_with_the_verp_return_path()
{
    let board = board().await;
    let clock = Clock::manual(start());
    let id = board
        .enqueue(vec![board.circulation(&board.probation)], &clock)
        .await[0];
    let mut settings = outgoing(TransportKind::Sendmail);
    settings.sendmail_command = format!(
        "/usr/sbin/sendmail -C {}",
        support::env("MINUTED_TEST_POSTFIX_CONF")
    );
    let worker = smtp_worker(&board, &clock, &settings);
    assert_eq!(drain(&worker).await.sent, 1);
    let delivered =
        support::wait_for_messages(&board.probation.address, "INBOX", 1, DELIVERY_TIMEOUT).await;
    let message = MessageParser::default().parse(&delivered[0]).unwrap();
    assert_eq!(
        message.message_id(),
        Some(message_id(&board, id).await.as_str())
    );
    assert_eq!(
        message.return_path().as_text(),
        Some(
            format!(
                "lcjb+{}@{}",
                verp::bounce_token(id, &message_id(&board, id).await),
                board.domain
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn a_sendmail_that_refuses_the_recipient_fails_the_row_and_one_that_cannot_run_retries() {
    let board = board().await;
    let clock = Clock::manual(start());
    let ids = board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await;
    let dir = tempfile::tempdir().unwrap();
    // A stand-in sendmail that exits with EX_NOUSER, as a real one does for a bad address.
    let script = dir.path().join("sendmail");
    std::fs::write(
        &script,
        "#!/bin/sh\ncat >/dev/null\necho 'no such user' >&2\nexit 67\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut settings = outgoing(TransportKind::Sendmail);
    settings.sendmail_command = script.display().to_string();
    worker_with(
        &board,
        &clock,
        minuted::outbox::transport::from_settings(&settings, None).unwrap(),
        &settings,
    )
    .send_batch()
    .await
    .unwrap();
    let row = board.row(ids[0]).await;
    assert_eq!(row["status"], "failed");
    assert!(
        row["last_error"]
            .as_str()
            .unwrap()
            .contains("exited 67: no such user"),
        "{row}"
    );

    let id = board
        .enqueue(vec![board.circulation(&board.probation)], &clock)
        .await[0];
    settings.sendmail_command = dir.path().join("missing").display().to_string();
    let worker = smtp_worker(&board, &clock, &settings);
    worker.send_batch().await.unwrap();
    let row = board.row(id).await;
    assert_eq!(row["status"], "retrying");
    assert!(
        row["last_error"].as_str().unwrap().contains("cannot run"),
        "{row}"
    );
}

#[tokio::test]
async fn a_message_refused_a_connection_is_retried_into_postfix_with_the_message_id_chosen_at_enqueue(
) {
    let board = board().await;
    let clock = Clock::manual(start());
    let id = board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await[0];
    let chosen = message_id(&board, id).await;

    // Nothing listens here: connection refused, a transient failure.
    let nowhere = smtp_worker(&board, &clock, &smtp(support::free_port()));
    assert_eq!(drain(&nowhere).await.retrying, 1);
    let row = board.row(id).await;
    assert!(
        row["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot open an SMTP session"),
        "{row}"
    );

    clock.advance(Duration::minutes(5));
    let postfix = smtp_worker(
        &board,
        &clock,
        &smtp(support::env_port("MINUTED_TEST_SMTP_PORT")),
    );
    assert_eq!(drain(&postfix).await.sent, 1);
    let delivered =
        support::wait_for_messages(&board.chair.address, "INBOX", 1, DELIVERY_TIMEOUT).await;
    assert_eq!(delivered.len(), 1);
    let message = MessageParser::default().parse(&delivered[0]).unwrap();
    assert_eq!(message.message_id(), Some(chosen.as_str()));
    assert_eq!(board.row(id).await["attempts"], 2);
}

#[tokio::test]
async fn smtp_auth_is_used_when_credentials_are_configured() {
    let board = board().await;
    let clock = Clock::manual(start());
    let id = board
        .enqueue(vec![board.circulation(&board.chair)], &clock)
        .await[0];
    let sink = Sink::start(&["-v"]).await;
    let mut settings = smtp(sink.port);
    settings.username = Some("lcjb@board.example".to_owned());
    settings.password = Some(minuted::config::Secret::new("not-a-real-password"));
    assert_eq!(drain(&smtp_worker(&board, &clock, &settings)).await.sent, 1);
    assert_eq!(sink.message_ids(), vec![message_id(&board, id).await]);
    let log = sink.log();
    assert!(log.contains("AUTH PLAIN"), "{log}");
}
