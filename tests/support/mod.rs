//! Helpers shared by every integration test binary, which includes this file with
//! `#[path = "../support/mod.rs"] mod support;`.
//!
//! They reach the real services that `scripts/test.sh` starts on loopback (PostgreSQL,
//! Dovecot, Postfix) through the `MINUTED_TEST_*` variables it exports. A missing variable is
//! a panic that says to use that script: a test that needs a service never passes by
//! skipping. This module does not run migrations or build anything of the crate: callers do
//! that with the crate's own API.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::TryStreamExt;
use lettre::address::Envelope;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rand::Rng;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::net::TcpStream;

/// An authenticated IMAP session over plain TCP to the test Dovecot.
pub type ImapSession = async_imap::Session<TcpStream>;

/// The value of the environment variable `name`, set by `scripts/test.sh`.
///
/// # Panics
/// When it is not set: the tests need the services that script starts.
pub fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!("{name} is not set: run the tests with scripts/test.sh"),
    }
}

/// A port number from the environment variable `name`.
pub fn env_port(name: &str) -> u16 {
    let value = env(name);
    value
        .parse()
        .unwrap_or_else(|_| panic!("{name}={value:?} is not a port number"))
}

/// A name no other test, test binary or concurrent run uses: `<prefix>_<pid>_<n>_<random>`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random: u32 = rand::thread_rng().gen_range(0..0x100_0000);
    format!("{prefix}_{}_{n}_{random:06x}", std::process::id())
}

/// A fresh, empty database of its own for one test, created on the server named by
/// `MINUTED_TEST_DATABASE_URL`. Returns its URL (to hand to `minuted` or a config) and a
/// pool connected to it. No migrations are run.
///
/// Its name starts with `minuted_test_<run id>_`, so the test command can drop this run's
/// databases from a shared server afterwards.
pub async fn fresh_database() -> (String, PgPool) {
    let admin_url = env("MINUTED_TEST_DATABASE_URL");
    let run_id = std::env::var("MINUTED_TEST_RUN_ID").unwrap_or_else(|_| "local".to_owned());
    let name = unique_name(&format!("minuted_test_{run_id}"));
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "database name {name:?} would need quoting"
    );

    let mut conn = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to MINUTED_TEST_DATABASE_URL: {e}"));
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
    conn.close().await.ok();

    let url = with_database(&admin_url, &name);
    let pool = PgPool::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the new database {name}: {e}"));
    (url, pool)
}

/// `url` (a `postgres://` URL) with its database name replaced by `name`, everything else
/// (credentials, host, query parameters) kept as it was.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// An IMAP session logged in as `user` (any name; the password is
/// `MINUTED_TEST_IMAP_PASSWORD`), over plain TCP to `MINUTED_TEST_IMAP_PORT`.
pub async fn imap_session(user: &str) -> ImapSession {
    let host = env("MINUTED_TEST_IMAP_HOST");
    let port = env_port("MINUTED_TEST_IMAP_PORT");
    let password = env("MINUTED_TEST_IMAP_PASSWORD");
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to Dovecot at {host}:{port}: {e}"));
    let mut client = async_imap::Client::new(tcp);
    client
        .read_response()
        .await
        .expect("Dovecot closed the connection before its greeting")
        .expect("cannot read Dovecot's greeting");
    client
        .login(user, password)
        .await
        .unwrap_or_else(|(e, _)| panic!("IMAP login as {user} failed: {e}"))
}

/// Appends the message `raw` to `folder` of `user`'s mailbox, creating the folder first
/// when it is not there.
pub async fn imap_append(user: &str, folder: &str, raw: &[u8]) {
    let mut session = imap_session(user).await;
    if !folder.eq_ignore_ascii_case("INBOX") && session.examine(folder).await.is_err() {
        session
            .create(folder)
            .await
            .unwrap_or_else(|e| panic!("cannot create folder {folder} of {user}: {e}"));
    }
    session
        .append(folder, None, None, raw)
        .await
        .unwrap_or_else(|e| panic!("cannot append to {folder} of {user}: {e}"));
    session.logout().await.ok();
}

/// The raw bytes of every message in `folder` of `user`'s mailbox, in UID order, read
/// without setting `\Seen`.
pub async fn imap_fetch_all(user: &str, folder: &str) -> Vec<Vec<u8>> {
    try_fetch_all(user, folder)
        .await
        .unwrap_or_else(|e| panic!("cannot fetch {folder} of {user}: {e}"))
}

async fn try_fetch_all(user: &str, folder: &str) -> async_imap::error::Result<Vec<Vec<u8>>> {
    let mut session = imap_session(user).await;
    let mailbox = session.examine(folder).await?;
    let mut messages = Vec::new();
    if mailbox.exists > 0 {
        let fetches: Vec<_> = session
            .uid_fetch("1:*", "(UID BODY.PEEK[])")
            .await?
            .try_collect()
            .await?;
        messages = fetches
            .iter()
            .map(|fetch| {
                let uid = fetch.uid.expect("UID FETCH answered without a UID");
                let body = fetch.body().expect("UID FETCH answered without the body");
                (uid, body.to_vec())
            })
            .collect();
        messages.sort_by_key(|(uid, _)| *uid);
    }
    session.logout().await.ok();
    Ok(messages.into_iter().map(|(_, body)| body).collect())
}

/// Polls `folder` of `user`'s mailbox until it holds at least `n` messages and returns them
/// all (raw bytes, UID order): for asserting what Postfix delivered. A folder that does not
/// exist yet counts as empty.
///
/// # Panics
/// When `timeout` passes first, saying how many messages were there.
pub async fn wait_for_messages(
    user: &str,
    folder: &str,
    n: usize,
    timeout: Duration,
) -> Vec<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let found = match try_fetch_all(user, folder).await {
            Ok(messages) if messages.len() >= n => return messages,
            Ok(messages) => format!("{} message(s)", messages.len()),
            Err(e) => format!("no readable folder ({e})"),
        };
        if tokio::time::Instant::now() >= deadline {
            let log = std::env::var("MINUTED_TEST_POSTFIX_LOG").unwrap_or_default();
            panic!(
                "{folder} of {user} held {found} after {timeout:?}, expected {n} \
                 (Postfix log: {log})"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `raw` from `from` to each of `to` through the test Postfix (plain SMTP on
/// `MINUTED_TEST_SMTP_PORT`), which delivers every recipient into Dovecot.
pub async fn smtp_send(from: &str, to: &[&str], raw: &[u8]) {
    smtp_send_to_port(env_port("MINUTED_TEST_SMTP_PORT"), from, to, raw).await;
}

/// Sends `raw` over plain SMTP to whatever listens on 127.0.0.1:`port` (Postfix, or an
/// `smtp-sink` a test started).
pub async fn smtp_send_to_port(port: u16, from: &str, to: &[&str], raw: &[u8]) {
    let address = |text: &str| -> Address {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} is not an email address: {e}"))
    };
    let envelope = Envelope::new(Some(address(from)), to.iter().map(|t| address(t)).collect())
        .expect("an envelope needs at least one recipient");
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .build();
    let response = transport
        .send_raw(&envelope, raw)
        .await
        .unwrap_or_else(|e| panic!("SMTP to 127.0.0.1:{port} failed: {e}"));
    assert!(
        response.is_positive(),
        "SMTP to 127.0.0.1:{port} answered {response:?}"
    );
}

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago, for a server a test
/// starts itself.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("cannot find a free port on 127.0.0.1")
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
///
/// # Panics
/// When `timeout` passes first.
pub async fn wait_for_port(port: u16, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing listened on 127.0.0.1:{port} within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The example board (`deploy/examples/lcjb.toml`) for the real binary, under a domain of
/// its own so that its members' mailboxes are its own: a fresh database, the registry with
/// every `.example` made `.UNIQUE.example`, and a config that reads the board's mailbox over
/// IMAPS from the test Dovecot and sends through the test Postfix.
pub struct ExampleBoard {
    pub dir: tempfile::TempDir,
    pub config: std::path::PathBuf,
    pub registry: std::path::PathBuf,
    pub pool: PgPool,
    pub unique: String,
    /// The board's own address.
    pub board: String,
    /// The secretariat's address.
    pub secretariat: String,
}

impl ExampleBoard {
    /// `extra` is appended to the config (its `[approval]` and `[schedule]` sections).
    pub async fn new(prefix: &str, extra: &str) -> ExampleBoard {
        let unique = unique_name(prefix).replace('_', "-");
        let (url, pool) = fresh_database().await;
        let dir = tempfile::tempdir().unwrap();
        let localise = |text: &str| text.replace(".example", &format!(".{unique}.example"));
        let example = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml"),
        )
        .unwrap();
        let registry = dir.path().join("lcjb.toml");
        std::fs::write(&registry, localise(&example)).unwrap();
        let board = localise("lcjb@board.example");
        let secretariat = localise("lcjb-secretariat@mopac.example");
        let config = dir.path().join("minuted.toml");
        std::fs::write(
            &config,
            format!(
                r#"data_dir = "{data}"

[board]
file = "{registry}"

[database]
url = "{url}"

[mailbox]
source = "imap"
host = "{host}"
port = {imaps}
security = "tls"
tls_ca_file = "{ca}"
username = "{board}"
password = "{password}"
folders = ["INBOX"]
after = "seen"

[outgoing]
transport = "smtp"
host = "127.0.0.1"
port = {smtp}
security = "plain"
from = "LCJB Secretariat <{board}>"
timeout_seconds = 10

{extra}"#,
                data = dir.path().join("var").display(),
                registry = registry.display(),
                host = env("MINUTED_TEST_IMAP_HOST"),
                imaps = env_port("MINUTED_TEST_IMAPS_PORT"),
                ca = env("MINUTED_TEST_TLS_CA"),
                password = env("MINUTED_TEST_IMAP_PASSWORD"),
                smtp = env_port("MINUTED_TEST_SMTP_PORT"),
            ),
        )
        .unwrap();
        ExampleBoard {
            dir,
            config,
            registry,
            pool,
            unique,
            board,
            secretariat,
        }
    }

    /// The release or debug `minuted` this crate was built with, on this board's config
    /// and a rehearsal clock starting at `clock`, logging at `log` (`RUST_LOG`), with no
    /// config or database taken from the environment.
    pub fn command(&self, clock: &str, log: &str) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_minuted"));
        command
            .arg("--config")
            .arg(&self.config)
            .args(["--clock-start", clock])
            .env_remove("MINUTED_CONFIG")
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", log);
        command
    }

    /// `text` with every `.example` domain made this board's own.
    pub fn localise(&self, text: &str) -> String {
        text.replace(".example", &format!(".{}.example", self.unique))
    }
}
