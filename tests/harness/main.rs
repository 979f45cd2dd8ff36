//! The services `scripts/test.sh` starts, proved for real before any other test leans on
//! them: PostgreSQL hands out separate databases, Dovecot stores and returns mail over IMAP
//! with STARTTLS and implicit TLS, Postfix delivers SMTP mail into each recipient's Dovecot
//! mailbox, and Postfix's `smtp-sink` accepts mail. Nothing of minuted itself is used here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// How long Postfix gets to hand a message to Dovecot over LMTP (it takes milliseconds).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// A local part no other test or run uses, so each test reads mailboxes of its own.
fn unique_user(prefix: &str) -> String {
    support::unique_name(prefix).replace('_', "-")
}

fn message(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: <{}@test.example>\r\nDate: Wed, 13 Dec 2023 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        unique_user("msg")
    )
    .into_bytes()
}

fn count(haystack: &[u8], needle: impl AsRef<[u8]>) -> usize {
    let needle = needle.as_ref();
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle)
        .count()
}

#[tokio::test]
async fn postgres_gives_each_test_its_own_database() {
    let (first_url, first) = support::fresh_database().await;
    let (second_url, second) = support::fresh_database().await;
    assert_ne!(first_url, second_url);

    let first_name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&first)
        .await
        .unwrap();
    let second_name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&second)
        .await
        .unwrap();
    assert_ne!(first_name, second_name);
    assert!(
        first_url.contains(&first_name),
        "{first_url} names {first_name}"
    );

    sqlx::query("CREATE TABLE only_in_first (id int)")
        .execute(&first)
        .await
        .unwrap();
    let in_second: Option<String> = sqlx::query_scalar("SELECT to_regclass('only_in_first')::text")
        .fetch_one(&second)
        .await
        .unwrap();
    assert_eq!(
        in_second, None,
        "a table of one test's database leaked into another's"
    );

    // The returned URL works on its own, as `minuted --config` would use it.
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&first_url)
        .await
        .unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_first'")
            .fetch_one(&mut connection)
            .await
            .unwrap();
    assert_eq!(tables, 1);
}

#[tokio::test]
async fn dovecot_stores_an_appended_message_and_returns_it_on_fetch() {
    let user = format!("{}@lcjb.example", unique_user("clerk"));
    let first = message("a@met.example", &user, "First update", "Item 2b: on track.");
    let second = message("b@cps.example", &user, "Second update", "LCJB-A17: done.");

    assert!(support::imap_fetch_all(&user, "INBOX").await.is_empty());
    support::imap_append(&user, "INBOX", &first).await;
    support::imap_append(&user, "INBOX", &second).await;
    support::imap_append(&user, "Filed", &first).await;

    assert_eq!(
        support::imap_fetch_all(&user, "INBOX").await,
        vec![first.clone(), second]
    );
    assert_eq!(support::imap_fetch_all(&user, "Filed").await, vec![first]);
    // Dovecot keeps its Maildirs where the tests are told they are.
    let maildir = std::path::Path::new(&support::env("MINUTED_TEST_MAIL_ROOT"))
        .join("lcjb.example")
        .join(user.split('@').next().unwrap());
    assert!(maildir.join("cur").is_dir() || maildir.join("new").is_dir());
}

#[tokio::test]
async fn postfix_delivers_smtp_mail_into_the_recipients_dovecot_mailbox() {
    let police = format!("{}@met.example", unique_user("officer"));
    let probation = format!("{}@probation.example", unique_user("officer"));
    let subject = format!("Action pack {}", unique_user("pack"));
    let body = "LCJB-A17: please send your update by Friday.";
    let raw = message(
        "lcjb@board.example",
        &format!("{police}, {probation}"),
        &subject,
        body,
    );

    support::smtp_send("lcjb@board.example", &[&police, &probation], &raw).await;

    for recipient in [&police, &probation] {
        let delivered = support::wait_for_messages(recipient, "INBOX", 1, DELIVERY_TIMEOUT).await;
        assert_eq!(
            delivered.len(),
            1,
            "{recipient} received {}",
            delivered.len()
        );
        let delivered = &delivered[0];
        assert_eq!(count(delivered, format!("Subject: {subject}\r\n")), 1);
        assert_eq!(count(delivered, body), 1);
        // Behind the trace headers Postfix and Dovecot add, the message is unchanged.
        assert_eq!(
            count(delivered, &raw),
            1,
            "the message arrived changed: {}",
            String::from_utf8_lossy(delivered)
        );
    }
}

#[tokio::test]
async fn postfix_offers_starttls_with_the_test_certificate() {
    let ca = std::fs::read(support::env("MINUTED_TEST_TLS_CA")).unwrap();
    let tls = TlsParameters::builder("localhost".to_owned())
        .add_root_certificate(Certificate::from_pem(&ca).unwrap())
        .build_rustls()
        .unwrap();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(support::env_port("MINUTED_TEST_SMTP_PORT"))
        .tls(Tls::Required(tls))
        .build();
    let member = format!("{}@courts.example", unique_user("clerk"));
    let raw = message(
        "lcjb@board.example",
        &member,
        "Over TLS",
        "Sent with STARTTLS.",
    );
    let envelope = Envelope::new(
        Some("lcjb@board.example".parse().unwrap()),
        vec![member.parse().unwrap()],
    )
    .unwrap();

    transport
        .send_raw(&envelope, &raw)
        .await
        .expect("SMTP with STARTTLS required");

    let delivered = support::wait_for_messages(&member, "INBOX", 1, DELIVERY_TIMEOUT).await;
    assert_eq!(count(&delivered[0], &raw), 1);
    // Postfix records the TLS session in its Received header.
    assert_eq!(count(&delivered[0], "with ESMTPS"), 1);
}

fn tls_connector() -> TlsConnector {
    let ca = support::env("MINUTED_TEST_TLS_CA");
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(&ca).unwrap() {
        roots.add(certificate.unwrap()).unwrap();
    }
    // The provider is named so the test does not depend on which one features pick.
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn read_line<S: AsyncRead + Unpin>(reader: &mut BufReader<S>) -> String {
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line))
        .await
        .expect("no answer from Dovecot within 10 s")
        .unwrap();
    line
}

/// Sends `tag command` and returns every line up to the tagged answer.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    tag: &str,
    command: &str,
) -> Vec<String> {
    stream
        .get_mut()
        .write_all(format!("{tag} {command}\r\n").as_bytes())
        .await
        .unwrap();
    let mut lines = Vec::new();
    loop {
        let line = read_line(stream).await;
        assert!(
            !line.is_empty(),
            "Dovecot closed the connection after {command}"
        );
        let done = line.starts_with(&format!("{tag} "));
        lines.push(line);
        if done {
            return lines;
        }
    }
}

#[tokio::test]
async fn dovecot_offers_starttls_and_implicit_tls() {
    let host = support::env("MINUTED_TEST_IMAP_HOST");
    let connector = tls_connector();

    // Implicit TLS: the greeting comes over TLS, for a certificate the test CA vouches for.
    let imaps = support::env_port("MINUTED_TEST_IMAPS_PORT");
    let tcp = TcpStream::connect((host.as_str(), imaps)).await.unwrap();
    let tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake on the IMAPS port");
    let mut imaps_stream = BufReader::new(tls);
    let greeting = read_line(&mut imaps_stream).await;
    assert!(greeting.starts_with("* OK"), "IMAPS greeting: {greeting:?}");
    let login = command(&mut imaps_stream, "a1", "LOGIN alice@lcjb.example test").await;
    assert!(login.last().unwrap().starts_with("a1 OK"), "{login:?}");

    // STARTTLS on the plain port, then a login over the upgraded stream, checked by IP.
    let plain = support::env_port("MINUTED_TEST_IMAP_PORT");
    let tcp = TcpStream::connect((host.as_str(), plain)).await.unwrap();
    let mut plain_stream = BufReader::new(tcp);
    let greeting = read_line(&mut plain_stream).await;
    assert!(greeting.starts_with("* OK"), "IMAP greeting: {greeting:?}");
    assert!(
        greeting.contains("STARTTLS"),
        "no STARTTLS offered: {greeting:?}"
    );
    let answer = command(&mut plain_stream, "a1", "STARTTLS").await;
    assert!(answer.last().unwrap().starts_with("a1 OK"), "{answer:?}");
    let tcp = plain_stream.into_inner();
    let server = ServerName::try_from(host.as_str()).unwrap().to_owned();
    let tls = connector
        .connect(server, tcp)
        .await
        .expect("TLS handshake after STARTTLS");
    let mut upgraded = BufReader::new(tls);
    let capability = command(&mut upgraded, "a2", "CAPABILITY").await;
    assert!(
        capability.last().unwrap().starts_with("a2 OK"),
        "{capability:?}"
    );
    assert!(
        capability.iter().any(|line| line.contains("IDLE")),
        "no IDLE: {capability:?}"
    );
    let login = command(&mut upgraded, "a3", "LOGIN alice@lcjb.example test").await;
    assert!(login.last().unwrap().starts_with("a3 OK"), "{login:?}");
}

#[tokio::test]
async fn smtp_sink_accepts_mail() {
    let port = support::free_port();
    let mut sink = tokio::process::Command::new(support::env("MINUTED_TEST_SMTP_SINK"));
    // smtp-sink refuses to keep root's privileges once it has its socket.
    if nix::unistd::geteuid().is_root() {
        sink.args(["-u", "nobody"]);
    }
    let mut sink = sink
        .arg(format!("127.0.0.1:{port}"))
        .arg("16")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot start smtp-sink");
    support::wait_for_port(port, Duration::from_secs(10)).await;

    let raw = message(
        "lcjb@board.example",
        "member@met.example",
        "Sink",
        "Accepted and thrown away.",
    );
    support::smtp_send_to_port(port, "lcjb@board.example", &["member@met.example"], &raw).await;

    assert!(
        sink.try_wait().unwrap().is_none(),
        "smtp-sink exited while the test ran"
    );
    sink.kill().await.unwrap();
}
