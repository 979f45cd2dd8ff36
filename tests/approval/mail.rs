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
    let mut source = ingest::imap::ImapSource::new(&settings.mailbox, pool.clone()).unwrap();
    loop {
        match ingest::ingest_once(&mut source, pool, clock, &settings.mailbox)
            .await
            .unwrap()
        {
            IngestOutcome::Drained => break,
            IngestOutcome::Batch(_) => {}
        }
    }
    source.disconnect().await;
    minuted::filer::drain(pool, settings, clock).await.unwrap();
    minuted::approval::worker::drain(pool, settings, clock)
        .await
        .unwrap();
}

async fn send_all(pool: &PgPool, settings: &Settings, clock: &Clock) {
    let worker = Worker::new(
        pool.clone(),
        clock.clone(),
        transport::from_settings(&settings.outgoing).unwrap(),
        Arc::new(Templates::embedded().unwrap()),
        WorkerSettings::from_outgoing(&settings.outgoing).unwrap(),
    );
    while let SendOutcome::Worked(_) = worker.send_once().await.unwrap() {}
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

#[tokio::test]
async fn draft_minutes_by_mail_are_approved_by_reply_and_circulated_to_every_member_once() {
    let unique = support::unique_name("a").replace('_', "-");
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
    let secretariat = localise("lcjb-secretariat@mopac.example");
    let settings = mail_settings(&board);
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

    // A phone-style reply, appended to the board's mailbox.
    let reply = format!(
        "From: LCJB Secretariat <{secretariat}>\r\nTo: {reply_to}\r\n\
Subject: Re: Approval needed\r\nDate: Mon, 27 Nov 2023 15:10:00 +0000\r\n\
Message-ID: <phone-reply.{unique}@x>\r\nIn-Reply-To: <{request_id}>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Approved\r\n\r\nSent from my iPhone\r\n\r\n> On 27 Nov 2023, at 15:00, LCJB wrote:\r\n> Please review\r\n"
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
