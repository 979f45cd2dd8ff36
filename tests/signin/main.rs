//! OAuth 2.0 sign-in against the real Dovecot (its oauth2 passdb introspects every token)
//! and Postfix (SMTP AUTH through Dovecot's SASL), with the identity provider's endpoints
//! as the one stand-in ([`idp`]). Client credentials, device code, refresh with rotation,
//! a token revoked while the daemon idles, a withdrawn grant, the provider down; STARTTLS
//! and implicit TLS; XOAUTH2 and OAUTHBEARER.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod idp;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use lettre::address::Envelope;
use minuted::alerts::{self, Service};
use minuted::clock::Clock;
use minuted::config::{
    AlertsSettings, AuthKind, MailboxSettings, MailboxSource, OAuth2Settings, OAuthFlow,
    OAuthProvider, OutgoingSettings, SaslMechanism, Secret, Security, Transport as TransportKind,
};
use minuted::ingest::{self, imap::ImapSource, IngestOutcome, MailboxSource as _};
use minuted::oauth::{Account, AuthError, Sealer, TokenSource};
use minuted::outbox::transport::{self, SendError};
use minuted::shutdown::Shutdown;
use minuted::store;
use sqlx::PgPool;

use idp::Idp;

const BIN: &str = env!("CARGO_BIN_EXE_minuted");
const KEY: &str = "the sign-in test key, at least thirty-two characters";

async fn database() -> (String, PgPool) {
    let (url, pool) = support::fresh_database().await;
    store::migrate(&pool).await.unwrap();
    (url, pool)
}

/// A mailbox user of its own and a client at the provider whose tokens sign in as it.
fn account(expires_in: i64) -> (Idp, String, String) {
    let idp = Idp::shared();
    let user = format!("{}@test.example", support::unique_name("signin"));
    let client_id = format!("client-{}", support::unique_name("app"));
    idp.register(&client_id, Some("s3cret"), &user, expires_in);
    (idp, user, client_id)
}

fn oauth2(idp: &Idp, client_id: &str, flow: OAuthFlow) -> OAuth2Settings {
    OAuth2Settings {
        provider: OAuthProvider::Custom,
        tenant: None,
        client_id: Some(client_id.to_owned()),
        client_secret: (flow == OAuthFlow::ClientCredentials).then(|| Secret::new("s3cret")),
        flow,
        token_url: Some(idp.url("token")),
        device_authorization_url: Some(idp.url("device")),
        scope: Some("mail".into()),
        mechanism: None,
    }
}

fn mailbox(user: &str, security: Security, oauth2: OAuth2Settings) -> MailboxSettings {
    let port = match security {
        Security::Tls => support::env_port("MINUTED_TEST_IMAPS_PORT"),
        _ => support::env_port("MINUTED_TEST_IMAP_PORT"),
    };
    MailboxSettings {
        source: MailboxSource::Imap,
        host: Some(support::env("MINUTED_TEST_IMAP_HOST")),
        port: Some(port),
        security,
        username: Some(user.to_owned()),
        password: None,
        auth: AuthKind::Oauth2,
        oauth2: Some(oauth2),
        tls_ca_file: Some(support::env("MINUTED_TEST_TLS_CA").into()),
        ..MailboxSettings::default()
    }
}

fn source(
    account: Account,
    settings: &OAuth2Settings,
    pool: &PgPool,
) -> std::sync::Arc<TokenSource> {
    std::sync::Arc::new(TokenSource::new(
        account,
        settings,
        pool.clone(),
        Sealer::new(KEY.as_bytes()),
    ))
}

fn message(id: &str) -> Vec<u8> {
    format!(
        "From: Jo Bloggs <jo.bloggs@met.example>\r\nTo: lcjb@board.example\r\n\
         Subject: Update {id}\r\nDate: Wed, 6 Dec 2023 10:15:00 +0000\r\n\
         Message-ID: <{id}@met.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nOur update.\r\n"
    )
    .into_bytes()
}

async fn count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Drains the mailbox once through `source`; the first error is returned.
async fn drain(
    settings: &MailboxSettings,
    sign_in: std::sync::Arc<TokenSource>,
    pool: &PgPool,
) -> anyhow::Result<()> {
    let mut imap = ImapSource::new(settings, Some(sign_in), pool.clone()).unwrap();
    loop {
        match ingest::ingest_batch(&mut imap, pool, &Clock::System, settings).await {
            Ok(IngestOutcome::Drained) => break,
            Ok(IngestOutcome::Batch(_)) => {}
            Err(err) => {
                imap.disconnect().await;
                return Err(err);
            }
        }
    }
    imap.disconnect().await;
    Ok(())
}

async fn wait_for_count(pool: &PgPool, n: i64, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while count(pool).await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} messages not stored within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The ingest worker of a daemon signing in with `oauth2`.
fn daemon(
    settings: MailboxSettings,
    oauth2: &OAuth2Settings,
    pool: &PgPool,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let (stop, shutdown) = Shutdown::new();
    let worker = tokio::spawn(ingest::run_until_stopped(
        settings,
        Some(source(Account::Mailbox, oauth2, pool)),
        pool.clone(),
        Clock::System,
        shutdown,
    ));
    (stop, worker)
}

/// The server drops `user`'s connections, as Microsoft 365 drops idle ones.
fn kick(user: &str) {
    let kicked = Command::new("doveadm")
        .args([
            "-c",
            &support::env("MINUTED_TEST_DOVECOT_CONF"),
            "kick",
            user,
        ])
        .output()
        .unwrap();
    assert!(
        kicked.status.success(),
        "{}",
        String::from_utf8_lossy(&kicked.stderr)
    );
}

#[tokio::test]
async fn imap_signs_in_with_client_credentials_by_xoauth2_over_starttls_and_oauthbearer_over_tls() {
    let (_, pool) = database().await;
    for (security, mechanism) in [
        (Security::Starttls, SaslMechanism::Xoauth2),
        (Security::Tls, SaslMechanism::Oauthbearer),
    ] {
        let (idp, user, client_id) = account(3600);
        support::imap_append(&user, "INBOX", &message(&support::unique_name("m"))).await;
        let mut oauth2 = oauth2(&idp, &client_id, OAuthFlow::ClientCredentials);
        oauth2.mechanism = Some(mechanism);
        let settings = mailbox(&user, security, oauth2.clone());
        let before = count(&pool).await;
        let tokens = source(Account::Mailbox, &oauth2, &pool);
        drain(&settings, tokens.clone(), &pool).await.unwrap();
        assert_eq!(count(&pool).await, before + 1, "{security:?} {mechanism:?}");
        // A second session reuses the stored token: one request to the provider.
        drain(&settings, tokens, &pool).await.unwrap();
        assert_eq!(idp.requests(&client_id), 1);
    }
    // Tokens are stored sealed, never in clear.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT access_token FROM oauth_tokens WHERE account = 'mailbox'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        !String::from_utf8_lossy(&stored).contains("at-client"),
        "a token is stored in clear"
    );
}

#[tokio::test]
async fn a_token_revoked_while_the_daemon_idles_is_refreshed_and_mail_keeps_arriving() {
    let (_, pool) = database().await;
    let (idp, user, client_id) = account(3600);
    let oauth2 = oauth2(&idp, &client_id, OAuthFlow::ClientCredentials);
    let settings = mailbox(&user, Security::Starttls, oauth2.clone());
    support::imap_append(&user, "INBOX", &message(&support::unique_name("before"))).await;
    let (stop, worker) = daemon(settings, &oauth2, &pool);
    wait_for_count(&pool, 1, Duration::from_secs(30)).await;
    assert_eq!(idp.requests(&client_id), 1);

    // The administrator revokes the token and the server drops the idle connection.
    idp.revoke_access(&user);
    kick(&user);
    support::imap_append(&user, "INBOX", &message(&support::unique_name("after"))).await;
    wait_for_count(&pool, 2, Duration::from_secs(60)).await;
    assert_eq!(idp.requests(&client_id), 2, "one refresh after the refusal");
    let refused: Option<String> = sqlx::query_scalar("SELECT last_error FROM oauth_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(refused, None, "the refresh succeeded");
    stop.send(true).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn smtp_signs_in_with_xoauth2_over_starttls_and_implicit_tls_and_recovers_from_a_revoked_token(
) {
    let (_, pool) = database().await;
    for (security, port) in [
        (Security::Starttls, "MINUTED_TEST_SUBMISSION_PORT"),
        (Security::Tls, "MINUTED_TEST_SMTPS_PORT"),
    ] {
        let (idp, user, client_id) = account(3600);
        let oauth2 = oauth2(&idp, &client_id, OAuthFlow::ClientCredentials);
        let settings = OutgoingSettings {
            transport: TransportKind::Smtp,
            host: Some("127.0.0.1".into()),
            port: Some(support::env_port(port)),
            security,
            username: Some(user.clone()),
            auth: AuthKind::Oauth2,
            oauth2: Some(oauth2.clone()),
            tls_ca_file: Some(support::env("MINUTED_TEST_TLS_CA").into()),
            ..OutgoingSettings::default()
        };
        let tokens = source(Account::Outgoing, &oauth2, &pool);
        let to = format!("{}@test.example", support::unique_name("to"));
        let envelope =
            Envelope::new(Some(user.parse().unwrap()), vec![to.parse().unwrap()]).unwrap();
        let sender = transport::from_settings(&settings, Some(tokens.clone())).unwrap();
        let first = support::unique_name("first");
        sender
            .send(&envelope, &message(&first), &first)
            .await
            .unwrap();

        // Revoked: a new connection is refused once, marks the token and signs in again
        // with a fresh one; the message goes.
        idp.revoke_access(&user);
        sender.close_idle().await;
        let second = support::unique_name("second");
        sender
            .send(&envelope, &message(&second), &second)
            .await
            .unwrap();
        assert_eq!(idp.requests(&client_id), 2);

        // A client whose secret no longer works: refused, and said to be a sign-in.
        idp.register(&client_id, Some("rotated"), &user, 3600);
        idp.revoke_access(&user);
        sender.close_idle().await;
        let third = support::unique_name("third");
        let refused = sender
            .send(&envelope, &message(&third), &third)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, SendError::SignIn(text) if text.contains("invalid_client")),
            "{refused:?}"
        );

        let received = support::wait_for_messages(&to, "INBOX", 2, Duration::from_secs(30)).await;
        assert_eq!(received.len(), 2, "{security:?}");
    }
}

#[tokio::test]
async fn device_code_sign_in_refreshes_with_rotation_and_a_withdrawn_grant_asks_for_a_person() {
    let (url, pool) = database().await;
    // Access tokens that live a minute: each use refreshes, rotating the refresh token.
    let (idp, user, client_id) = account(60);
    let oauth2 = oauth2(&idp, &client_id, OAuthFlow::DeviceCode);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("minuted.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{data}\"\n[database]\nurl = \"{url}\"\n[secrets]\nkey = \"{KEY}\"\n\
             [mailbox]\nsource = \"imap\"\nhost = \"127.0.0.1\"\nusername = \"{user}\"\nauth = \"oauth2\"\n\
             [mailbox.oauth2]\nprovider = \"custom\"\nclient_id = \"{client_id}\"\nflow = \"device_code\"\n\
             token_url = \"{token}\"\ndevice_authorization_url = \"{device}\"\n",
            data = dir.path().display(),
            token = idp.url("token"),
            device = idp.url("device"),
        ),
    )
    .unwrap();
    let minuted = |args: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .env_remove("MINUTED_CONFIG")
            .arg("--config")
            .arg(&config)
            .args(args);
        command
    };

    // Not signed in yet: status says how to.
    let status = minuted(&["auth", "status"]).output().unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("mailbox: OAuth 2.0 (custom, device_code): not signed in"),
        "{text}"
    );
    assert!(text.contains("run `minuted auth login mailbox`"), "{text}");

    let mut login = minuted(&["auth", "login", "mailbox"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(login.stdout.take().unwrap()).lines();
    let prompt = lines.next().unwrap().unwrap();
    let code = prompt.rsplit(' ').next().unwrap().to_owned();
    assert!(prompt.contains(&idp.url("signin")), "{prompt}");
    assert!(idp.approve(&code), "{prompt}");
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(login.wait().unwrap().success(), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.starts_with("mailbox: signed in")),
        "{rest:?}"
    );
    let first_grant = idp.live_refresh_tokens(&client_id);
    assert_eq!(first_grant.len(), 1);

    // Each sign-in refreshes; the rotated refresh token is the one stored, or the second
    // refresh would be refused.
    support::imap_append(&user, "INBOX", &message(&support::unique_name("m"))).await;
    let settings = mailbox(&user, Security::Starttls, oauth2.clone());
    drain(&settings, source(Account::Mailbox, &oauth2, &pool), &pool)
        .await
        .unwrap();
    drain(&settings, source(Account::Mailbox, &oauth2, &pool), &pool)
        .await
        .unwrap();
    assert_eq!(count(&pool).await, 1);
    let live = idp.live_refresh_tokens(&client_id);
    assert_eq!(live.len(), 1);
    assert_ne!(live, first_grant, "the refresh token rotated");
    assert_eq!(idp.requests(&client_id), 3, "the sign-in and two refreshes");

    // Consent withdrawn: the sign-in is refused, the dead grant dropped, and a person
    // asked to sign in again.
    idp.revoke_grant(&client_id);
    let err = drain(&settings, source(Account::Mailbox, &oauth2, &pool), &pool)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("invalid_grant"), "{err:#}");
    let status = minuted(&["auth", "status", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let mailbox = &json[0];
    assert_eq!(mailbox["state"], "refused", "{json}");
    assert!(
        mailbox["last_error"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{json}"
    );
    let shown = String::from_utf8_lossy(&status.stdout);
    assert!(
        !shown.contains("at-client") && !shown.contains("rt-client"),
        "a token was shown: {shown}"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_for_later_and_a_wrong_secret_needs_a_person() {
    let (_, pool) = database().await;
    let (idp, _user, client_id) = account(3600);
    let settings = oauth2(&idp, &client_id, OAuthFlow::ClientCredentials);
    idp.set_down(&client_id, true);
    let err = source(Account::Mailbox, &settings, &pool)
        .access_token()
        .await
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Unreachable(_)) && !err.needs_action(),
        "{err:?}"
    );
    idp.set_down(&client_id, false);
    source(Account::Mailbox, &settings, &pool)
        .access_token()
        .await
        .unwrap();

    let mut wrong = settings.clone();
    wrong.client_secret = Some(Secret::new("not the secret"));
    wrong.client_id = Some(format!("{client_id}-other"));
    idp.register(
        &format!("{client_id}-other"),
        Some("s3cret"),
        "x@test.example",
        3600,
    );
    let err = source(Account::Mailbox, &wrong, &pool)
        .access_token()
        .await
        .unwrap_err();
    assert!(err.needs_action(), "{err:?}");
    assert!(err.to_string().contains("invalid_client"), "{err}");

    // Nothing listening at all.
    let mut nowhere = settings.clone();
    nowhere.token_url = Some(format!("http://127.0.0.1:{}/token", support::free_port()));
    nowhere.client_id = Some(format!("{client_id}-nowhere"));
    let err = source(Account::Outgoing, &nowhere, &pool)
        .access_token()
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Unreachable(_)), "{err:?}");
}

/// A board whose secretariat has two members, for the alerts.
async fn board(pool: &PgPool) {
    let text = r#"
[board]
slug = "lcjb"
name = "London Criminal Justice Board"
address = "lcjb@board.example"
timezone = "Europe/London"

[[organisations]]
short = "MOPAC"
name = "Mayor's Office for Policing and Crime"
domains = ["mopac.example"]

[[members]]
name = "LCJB Secretariat"
organisation = "MOPAC"
email = "secretariat@mopac.example"
roles = ["secretariat"]

[[members]]
name = "Deputy Secretary"
organisation = "MOPAC"
email = "deputy@mopac.example"
roles = ["secretariat"]

[[members]]
name = "Sophie Linden"
organisation = "MOPAC"
email = "sophie.linden@mopac.example"
roles = ["chair"]
"#;
    let registry = minuted::registry::parse("board.toml", text).unwrap();
    store::registry::import(pool, &registry, "test")
        .await
        .unwrap();
}

async fn alerts_queued(pool: &PgPool) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT to_address, context->>'resolved' FROM outbox WHERE kind = 'alert' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_refused_sign_in_alarms_the_secretariat_once_and_again_when_it_works_again() {
    let (url, pool) = database().await;
    board(&pool).await;
    // Tokens that live a minute: every sign-in asks the provider.
    let (idp, user, client_id) = account(60);
    let oauth2 = oauth2(&idp, &client_id, OAuthFlow::ClientCredentials);
    let settings = mailbox(&user, Security::Starttls, oauth2.clone());
    support::imap_append(&user, "INBOX", &message(&support::unique_name("one"))).await;
    let (stop, worker) = daemon(settings, &oauth2, &pool);
    wait_for_count(&pool, 1, Duration::from_secs(30)).await;
    let alerts = AlertsSettings::default();
    let checked = alerts::check(&pool, &alerts, Clock::System.now())
        .await
        .unwrap();
    assert!(checked.opened.is_empty(), "{checked:?}");

    // The client's secret is rotated at the provider without telling minuted, and the
    // server drops the connection: the next sign-in is refused.
    idp.register(&client_id, Some("rotated"), &user, 60);
    idp.revoke_access(&user);
    kick(&user);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let refused: Option<bool> =
            sqlx::query_scalar("SELECT sign_in_refused FROM mail_health WHERE service = 'mailbox'")
                .fetch_optional(&pool)
                .await
                .unwrap();
        if refused == Some(true) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the refusal was not recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Told at once (a refused sign-in does not wait for alerts.mailbox_minutes), once.
    let checked = alerts::check(&pool, &alerts, Clock::System.now())
        .await
        .unwrap();
    assert_eq!(checked.opened, vec!["mailbox"]);
    alerts::check(&pool, &alerts, Clock::System.now())
        .await
        .unwrap();
    let queued = alerts_queued(&pool).await;
    assert_eq!(
        queued,
        vec![
            ("deputy@mopac.example".to_owned(), "false".to_owned()),
            ("secretariat@mopac.example".to_owned(), "false".to_owned()),
        ]
    );
    let in_alarm = health(&url);
    assert!(!in_alarm.status.success());
    let json: serde_json::Value = serde_json::from_slice(&in_alarm.stdout).unwrap();
    assert_eq!(json["ok"], false, "{json}");
    assert_eq!(json["alarms"][0]["service"], "mailbox", "{json}");
    assert_eq!(json["alarms"][0]["notified"], true, "{json}");
    assert!(
        json["alarms"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid_client"),
        "{json}"
    );
    assert_eq!(json["folders"][0]["folder"], "INBOX", "{json}");

    // The operator puts the right secret back: the daemon signs in on its next try, reads
    // the mail that waited, and the secretariat hears it works again.
    idp.register(&client_id, Some("s3cret"), &user, 60);
    support::imap_append(&user, "INBOX", &message(&support::unique_name("two"))).await;
    wait_for_count(&pool, 2, Duration::from_secs(90)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let checked = alerts::check(&pool, &alerts, Clock::System.now())
            .await
            .unwrap();
        if checked.resolved == vec!["mailbox"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the alarm was not resolved"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resolved = alerts_queued(&pool).await;
    assert_eq!(resolved.len(), 4);
    assert!(
        resolved[2..].iter().all(|(_, r)| r == "true"),
        "{resolved:?}"
    );
    assert!(health(&url).status.success());
    stop.send(true).unwrap();
    worker.await.unwrap().unwrap();
}

#[tokio::test]
async fn outgoing_mail_failing_alarms_only_after_the_configured_minutes() {
    let (_, pool) = database().await;
    board(&pool).await;
    let alerts = AlertsSettings {
        mailbox_minutes: 30,
        outgoing_minutes: 10,
    };
    let start = Clock::System.now();
    let at = |minutes: i64| start + chrono::Duration::minutes(minutes);
    minuted::alerts::record_failure(
        &pool,
        Service::Outgoing,
        "smtp://smtp.example:587",
        "connection refused",
        false,
        at(0),
    )
    .await;
    minuted::alerts::record_failure(
        &pool,
        Service::Outgoing,
        "smtp://smtp.example:587",
        "connection refused",
        false,
        at(5),
    )
    .await;
    assert!(alerts::check(&pool, &alerts, at(9))
        .await
        .unwrap()
        .opened
        .is_empty());
    assert_eq!(
        alerts::check(&pool, &alerts, at(10)).await.unwrap().opened,
        vec!["outgoing"]
    );
    assert_eq!(alerts_queued(&pool).await.len(), 2);
    minuted::alerts::record_ok(
        &pool,
        Service::Outgoing,
        "smtp://smtp.example:587",
        &[],
        at(12),
    )
    .await;
    assert_eq!(
        alerts::check(&pool, &alerts, at(12))
            .await
            .unwrap()
            .resolved,
        vec!["outgoing"]
    );
    assert_eq!(alerts_queued(&pool).await.len(), 4);
}

/// `minuted health --json` against the database at `url`.
fn health(url: &str) -> std::process::Output {
    Command::new(BIN)
        .env_remove("MINUTED_CONFIG")
        .env("MINUTED__DATABASE__URL", url)
        .args(["health", "--json"])
        .output()
        .unwrap()
}
