//! End to end through the real services: draft minutes mailed in through Postfix, read
//! from the board's Dovecot mailbox over IMAP, the approval request sent through Postfix
//! into the approver's mailbox, the reply appended to the board's mailbox, and the
//! circulation delivered to every member exactly once after the undo window.

use std::sync::Arc;
use std::time::Duration;

use mail_parser::MessageParser;
use minuted::clock::Clock;
use minuted::config::{
    MailboxSettings, MailboxSource, OutgoingSettings, Secret, Security, Settings,
};
use minuted::ingest::{self, IngestOutcome, MailboxSource as _};
use minuted::outbox::transport;
use minuted::outbox::worker::{SendOutcome, Worker, WorkerSettings};
use minuted::templates::Templates;
use sqlx::PgPool;

use crate::helpers::*;
use crate::support;

const DELIVERY: Duration = Duration::from_secs(30);

fn mail_settings(board: &str) -> Settings {
    let mut settings = settings();
    settings.mailbox = MailboxSettings {
        source: MailboxSource::Imap,
        host: Some(support::env("MINUTED_TEST_IMAP_HOST")),
        port: Some(support::env_port("MINUTED_TEST_IMAPS_PORT")),
        security: Security::Tls,
        username: Some(board.to_owned()),
        password: Some(Secret::new(support::env("MINUTED_TEST_IMAP_PASSWORD"))),
        tls_ca_file: Some(support::env("MINUTED_TEST_TLS_CA").into()),
        ..MailboxSettings::default()
    };
    settings.outgoing = OutgoingSettings {
        transport: minuted::config::Transport::Smtp,
        from: format!("LCJB Secretariat <{board}>"),
        host: Some("127.0.0.1".to_owned()),
        port: Some(support::env_port("MINUTED_TEST_SMTP_PORT")),
        security: Security::Plain,
        timeout_seconds: 10,
        ..OutgoingSettings::default()
    };
    settings.approval.secret = Some(Secret::new(String::from_utf8(KEY.to_vec()).unwrap()));
    settings
}

/// Reads the board's mailbox, files what came, and runs the approval step.
async fn ingest_and_handle(pool: &PgPool, settings: &Settings, clock: &Clock) {
    let mut source = ingest::imap::ImapSource::new(&settings.mailbox, None, pool.clone()).unwrap();
    loop {
        match ingest::ingest_batch(&mut source, pool, clock, &settings.mailbox)
            .await
            .unwrap()
        {
            IngestOutcome::Drained => break,
            IngestOutcome::Batch(_) => {}
        }
    }
    source.disconnect().await;
    minuted::filing::worker::drain(pool, settings, clock)
        .await
        .unwrap();
    minuted::minutes::worker::drain(pool, settings, clock)
        .await
        .unwrap();
    minuted::approval::worker::drain(pool, settings, clock)
        .await
        .unwrap();
}

async fn send_all(pool: &PgPool, settings: &Settings, clock: &Clock) {
    let worker = Worker::new(
        pool.clone(),
        clock.clone(),
        transport::from_settings(&settings.outgoing, None).unwrap(),
        Arc::new(Templates::embedded().unwrap()),
        WorkerSettings::from_outgoing(&settings.outgoing).unwrap(),
    );
    while let SendOutcome::Worked(_) = worker.send_batch().await.unwrap() {}
}

fn subjects(messages: &[Vec<u8>]) -> Vec<String> {
    messages
        .iter()
        .map(|raw| {
            MessageParser::default()
                .parse(raw)
                .and_then(|m| m.subject().map(str::to_owned))
                .unwrap_or_default()
        })
        .collect()
}

/// The example board in a fresh database, every address and domain made unique to the
/// test (`.example` becomes `.<unique>.example`) so tests share the mail servers.
struct Board {
    unique: String,
    pool: PgPool,
    board: String,
    secretariat: String,
    settings: Settings,
}

async fn board(prefix: &str) -> Board {
    let unique = support::unique_name(prefix).replace('_', "-");
    let localise = |text: &str| text.replace(".example", &format!(".{unique}.example"));
    let (_url, pool) = support::fresh_database().await;
    minuted::store::migrate(&pool).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let registry_path = dir.path().join("lcjb.toml");
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml"),
    )
    .unwrap();
    std::fs::write(&registry_path, localise(&example)).unwrap();
    let registry = minuted::registry::load(&registry_path).unwrap();
    minuted::store::registry::import(&pool, &registry, "test")
        .await
        .unwrap();
    let board = localise("lcjb@board.example");
    Board {
        secretariat: localise("lcjb-secretariat@mopac.example"),
        settings: mail_settings(&board),
        board,
        pool,
        unique,
    }
}

/// A reply as Outlook writes it in plain-text mode: the words, a signature, then the
/// request quoted unmarked under `-----Original Message-----` and its header block.
fn outlook_reply(from: &str, to: &str, in_reply_to: &str, unique: &str, words: &str) -> String {
    format!(
        "From: LCJB Secretariat <{from}>\r\nTo: {to}\r\n\
Subject: RE: Approval needed: the draft minutes\r\nDate: Mon, 27 Nov 2023 15:10:00 +0000\r\n\
Message-ID: <outlook-{n}.{unique}@x>\r\nIn-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n\
Thread-Topic: Approval needed\r\nX-Mailer: Microsoft Outlook 16.0\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
{words}\r\n\r\nLCJB Secretariat\r\nMOPAC\r\n\r\n-----Original Message-----\r\n\
From: LCJB Secretariat <lcjb@board.example>\r\nSent: 27 November 2023 15:00\r\n\
To: LCJB Secretariat <{from}>\r\nSubject: Approval needed: the draft minutes\r\n\r\n\
Reply APPROVE to approve these minutes, or REJECT and your reason.\r\n",
        n = words.len()
    )
}

/// The messages in `user`'s inbox whose subject starts with `prefix`, once at least `n`
/// of them have arrived.
async fn wait_for_subject(
    user: &str,
    prefix: &str,
    n: usize,
) -> Vec<mail_parser::Message<'static>> {
    let deadline = tokio::time::Instant::now() + DELIVERY;
    loop {
        let found: Vec<mail_parser::Message<'static>> = support::imap_fetch_all(user, "INBOX")
            .await
            .into_iter()
            .filter_map(|raw| MessageParser::default().parse(&raw).map(|m| m.into_owned()))
            .filter(|m| m.subject().is_some_and(|s| s.starts_with(prefix)))
            .collect();
        if found.len() >= n {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{user}: {} of {n} messages \"{prefix}...\"",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn reply_address(message: &mail_parser::Message<'_>) -> String {
    message
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_conditional_reply_is_answered_and_undo_in_reply_to_the_confirmation_stops_circulation() {
    let Board {
        unique,
        pool,
        board,
        secretariat,
        settings,
    } = board("u").await;
    let localise = |text: &str| text.replace(".example", &format!(".{unique}.example"));
    let clock = clock();

    let draft = localise(&String::from_utf8(fixture("draft_minutes.eml")).unwrap());
    support::smtp_send(&secretariat, &[&board], draft.as_bytes()).await;
    support::wait_for_messages(&board, "INBOX", 1, DELIVERY).await;
    ingest_and_handle(&pool, &settings, &clock).await;
    send_all(&pool, &settings, &clock).await;
    let request = wait_for_subject(&secretariat, "Approval needed", 1)
        .await
        .remove(0);
    let token_address = reply_address(&request);
    let request_id = request.message_id().unwrap().to_owned();

    // A condition is not an approval: nothing circulates, and the approver is told what
    // would work.
    let conditional = outlook_reply(
        &secretariat,
        &token_address,
        &request_id,
        &unique,
        "Can't approve until CPS confirm the figures in item 4.",
    );
    support::imap_append(&board, "INBOX", conditional.as_bytes()).await;
    ingest_and_handle(&pool, &settings, &clock).await;
    send_all(&pool, &settings, &clock).await;
    let answer = wait_for_subject(&secretariat, "Comment", 1).await.remove(0);
    let text = answer.body_text(0).unwrap().into_owned();
    assert!(
        text.contains("Nothing was approved") && text.contains("APPROVE"),
        "{text}"
    );
    let circulation: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'circulation'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(circulation, 0);

    // Approved from Outlook; the confirmation offers UNDO to this approver alone.
    let approve = outlook_reply(
        &secretariat,
        &token_address,
        &request_id,
        &unique,
        "Approved.",
    );
    support::imap_append(&board, "INBOX", approve.as_bytes()).await;
    ingest_and_handle(&pool, &settings, &clock).await;
    send_all(&pool, &settings, &clock).await;
    let confirmation = wait_for_subject(&secretariat, "Approved", 1)
        .await
        .remove(0);
    let undo_address = reply_address(&confirmation);
    assert_ne!(undo_address, token_address);
    assert!(confirmation.body_text(0).unwrap().contains("UNDO"));
    let colleague = localise("tamara.barnett@mopac.example");
    let told = wait_for_subject(&colleague, "Approved", 1).await.remove(0);
    assert!(!told.body_text(0).unwrap().contains("UNDO"));

    // UNDO from a phone, in reply to the confirmation.
    let confirmation_id = confirmation.message_id().unwrap().to_owned();
    let undo = format!(
        "From: {secretariat}\r\nTo: {undo_address}\r\nSubject: Re: Approved\r\n\
Date: Mon, 27 Nov 2023 15:12:00 +0000\r\nMessage-ID: <undo.{unique}@x>\r\n\
In-Reply-To: <{confirmation_id}>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nUNDO\r\n\r\nSent from my iPhone\r\n"
    );
    support::imap_append(&board, "INBOX", undo.as_bytes()).await;
    ingest_and_handle(&pool, &settings, &clock).await;
    clock.advance(chrono::Duration::minutes(11));
    send_all(&pool, &settings, &clock).await;
    let sent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind IN ('circulation', 'action_pack') AND status <> 'expired'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(sent, 0, "nothing of the approval is sent once it is undone");
    let undone: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE kind = 'approval.undone'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(undone, 1);
}

#[tokio::test]
async fn draft_minutes_by_mail_are_approved_by_reply_and_circulated_to_every_member_once() {
    let Board {
        unique,
        pool,
        board,
        secretariat,
        settings,
    } = board("a").await;
    let localise = |text: &str| text.replace(".example", &format!(".{unique}.example"));
    let clock = clock();

    // The draft, through Postfix into the board's mailbox.
    let draft = localise(&String::from_utf8(fixture("draft_minutes.eml")).unwrap());
    support::smtp_send(&secretariat, &[&board], draft.as_bytes()).await;
    support::wait_for_messages(&board, "INBOX", 1, DELIVERY).await;
    ingest_and_handle(&pool, &settings, &clock).await;
    send_all(&pool, &settings, &clock).await;

    // The approval request in the approver's mailbox; its Reply-To carries the token.
    let inbox = support::wait_for_messages(&secretariat, "INBOX", 1, DELIVERY).await;
    let request = inbox
        .iter()
        .map(|raw| MessageParser::default().parse(raw).unwrap())
        .find(|m| {
            m.subject()
                .is_some_and(|s| s.starts_with("Approval needed"))
        })
        .expect("an approval request");
    let reply_to = request
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap()
        .to_owned();
    assert!(reply_to.starts_with("lcjb+"), "{reply_to}");
    let request_id = request.message_id().unwrap().to_owned();

    // Outlook in plain-text mode, appended to the board's mailbox: the quoted request
    // sits unmarked below `-----Original Message-----`.
    let reply = outlook_reply(
        &secretariat,
        &reply_to,
        &request_id,
        &unique,
        "Approved, thanks.",
    );
    support::imap_append(&board, "INBOX", reply.as_bytes()).await;
    ingest_and_handle(&pool, &settings, &clock).await;

    // Held for the undo window, then sent.
    send_all(&pool, &settings, &clock).await;
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE kind = 'circulation' AND status = 'held'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(held > 0);
    clock.advance(chrono::Duration::minutes(11));
    send_all(&pool, &settings, &clock).await;
    send_all(&pool, &settings, &clock).await;

    let members: Vec<String> = sqlx::query_scalar(
        "SELECT a.address FROM members m JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
         WHERE m.active AND m.circulation ORDER BY a.address",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(members.len() as i64, held);
    for member in &members {
        let delivered = support::wait_for_messages(member, "INBOX", 1, DELIVERY).await;
        let circulations = subjects(&delivered)
            .iter()
            .filter(|s| s.starts_with("Approved minutes"))
            .count();
        assert_eq!(circulations, 1, "{member}: {:?}", subjects(&delivered));
    }
}
