//! How a composed message leaves: SMTP submission, a `.eml` file per message, or the
//! local `sendmail` program. Each classifies what went wrong the same way, because the
//! worker's decision depends only on that:
//!
//! - [`SendError::Transient`]: nothing was delivered and trying later may work (a 4xx
//!   reply, a refused or dropped connection before the message was handed over, a
//!   timeout, a full disk);
//! - [`SendError::Permanent`]: the server refused this message for good (a 5xx reply to
//!   MAIL, RCPT, DATA or the message itself);
//! - [`SendError::Unknown`]: the message was handed over but no reply came (the
//!   connection was lost or timed out after the final `.`): the server may have accepted
//!   it. Retried with the same Message-ID, so delivery is at least once.
//!
//! A 5xx reply that says the sender is being throttled (Exchange Online's `554 5.2.0
//! ...SubmissionQuotaExceeded` past about 30 messages a minute, and similar `5.2.0`
//! quota replies) is transient: the message is fine, the rate is not.
//!
//! Errors setting up a session (connect, TLS, EHLO, AUTH) are transient whatever their
//! code: they concern our configuration or the server, not the message, and retrying
//! after the operator fixes them must still be possible.
//!
//! The SMTP transport keeps up to `outgoing.concurrency` connections open and reuses
//! them; a semaphore bounds them (lettre's pool `max_size` would not). Where the server
//! offers `PIPELINING` (RFC 2920), MAIL, RCPT and DATA go in one write and their replies
//! are read in order, and the message goes with its final `.` in one more: two round
//! trips a message instead of four. Each step of the conversation has
//! `outgoing.timeout_seconds`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::future::BoxFuture;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Quit, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use rand::RngCore;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, Semaphore};

use crate::config::{OutgoingSettings, Security, Transport as TransportKind};
use crate::oauth::TokenSource;

/// What the receiving side said when it took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub reply: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
    #[error("{0}")]
    Unknown(String),
    /// The server or the identity provider refused our credentials: nothing was sent,
    /// retried like a transient failure, and the secretariat alerted at once.
    #[error("{0}")]
    SignIn(String),
}

/// A way to send mail. Three real implementations: [`SmtpTransport`], [`FileTransport`],
/// [`SendmailTransport`].
pub trait Transport: Send + Sync {
    /// Sends `message` (complete RFC 5322 bytes) to the envelope's recipients.
    /// `message_id` (bare) names the message where a transport needs a name.
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        message: &'a [u8],
        message_id: &'a str,
    ) -> BoxFuture<'a, Result<Delivered, SendError>>;

    /// Closes idle connections (the worker has nothing to send for now).
    fn close_idle(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// Where mail goes, as `health` and the alarms name it.
    fn name(&self) -> String {
        "outgoing mail".to_owned()
    }
}

/// The transport `outgoing.transport` names, ready to send. `sign_in`: the token source
/// when SMTP signs in with OAuth 2.0.
pub fn from_settings(
    settings: &OutgoingSettings,
    sign_in: Option<Arc<TokenSource>>,
) -> anyhow::Result<Arc<dyn Transport>> {
    Ok(match settings.transport {
        TransportKind::File => Arc::new(FileTransport::new(settings.path.clone())),
        TransportKind::Smtp => Arc::new(SmtpTransport::from_settings(settings, sign_in)?),
        TransportKind::Sendmail => Arc::new(SendmailTransport::from_settings(settings)?),
    })
}

// ---------------------------------------------------------------------------------------
// file

/// One `.eml` file per message, named after its Message-ID, written atomically (a
/// temporary file, synced, then renamed), so a reader never sees half a message and a
/// resend replaces rather than duplicates.
pub struct FileTransport {
    dir: PathBuf,
}

impl FileTransport {
    pub fn new(dir: PathBuf) -> Self {
        FileTransport { dir }
    }

    /// The file a message with this Message-ID is written to.
    pub fn path_for(&self, message_id: &str) -> PathBuf {
        let safe: String = message_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-+@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.eml"))
    }

    fn write(dir: &Path, target: &Path, message: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(dir)?;
        let mut random = [0u8; 6];
        rand::thread_rng().fill_bytes(&mut random);
        let temporary = dir.join(format!(".tmp-{}", hex::encode(random)));
        let result = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(message)?;
            file.sync_all()?;
            std::fs::rename(&temporary, target)?;
            // The rename is durable once the directory is synced.
            std::fs::File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result
    }
}

impl Transport for FileTransport {
    fn send<'a>(
        &'a self,
        _envelope: &'a Envelope,
        message: &'a [u8],
        message_id: &'a str,
    ) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            let dir = self.dir.clone();
            let target = self.path_for(message_id);
            let bytes = message.to_vec();
            let shown = target.display().to_string();
            match tokio::task::spawn_blocking(move || FileTransport::write(&dir, &target, &bytes))
                .await
            {
                Ok(Ok(())) => Ok(Delivered {
                    reply: format!("written to {shown}"),
                }),
                Ok(Err(err)) => Err(SendError::Transient(format!("cannot write {shown}: {err}"))),
                Err(err) => Err(SendError::Transient(format!("cannot write {shown}: {err}"))),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// sendmail

/// The local `sendmail` program (`outgoing.sendmail_command`), run once per message as
/// `COMMAND -i -f <return path> -- <recipient>` with the message on standard input.
pub struct SendmailTransport {
    program: String,
    args: Vec<String>,
    timeout: Duration,
}

impl SendmailTransport {
    pub fn from_settings(settings: &OutgoingSettings) -> anyhow::Result<Self> {
        let mut words = settings
            .sendmail_command
            .split_whitespace()
            .map(str::to_owned);
        let program = words
            .next()
            .context("outgoing.sendmail_command is empty; name the sendmail program")?;
        Ok(SendmailTransport {
            program,
            args: words.collect(),
            timeout: Duration::from_secs(u64::from(settings.timeout_seconds)),
        })
    }

    /// sysexits.h: these mean the message or its recipient is wrong; anything else
    /// (EX_TEMPFAIL, EX_UNAVAILABLE, EX_OSERR, ...) may pass on a later try.
    fn is_permanent_exit(code: i32) -> bool {
        matches!(code, 64..=68 | 77)
    }

    async fn run(&self, envelope: &Envelope, message: &[u8]) -> Result<Delivered, SendError> {
        let mut command = tokio::process::Command::new(&self.program);
        command.args(&self.args).arg("-i");
        if let Some(from) = envelope.from() {
            command.arg("-f").arg(from);
        }
        command.arg("--");
        for to in envelope.to() {
            command.arg(to);
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|err| SendError::Transient(format!("cannot run {}: {err}", self.program)))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| SendError::Transient("sendmail's standard input is missing".into()))?;
        // A failed write means sendmail exited early; its exit status says why.
        let written = stdin.write_all(message).await;
        drop(stdin);
        let output = child
            .wait_with_output()
            .await
            .map_err(|err| SendError::Unknown(format!("lost track of {}: {err}", self.program)))?;
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        match output.status.code() {
            Some(0) if written.is_ok() => Ok(Delivered {
                reply: format!("{} exited 0", self.program),
            }),
            Some(0) => Err(SendError::Unknown(format!(
                "{} exited 0 but did not read the whole message",
                self.program
            ))),
            Some(code) if Self::is_permanent_exit(code) => Err(SendError::Permanent(format!(
                "{} exited {code}: {stderr}",
                self.program
            ))),
            Some(code) => Err(SendError::Transient(format!(
                "{} exited {code}: {stderr}",
                self.program
            ))),
            None => Err(SendError::Unknown(format!(
                "{} was killed by a signal: {stderr}",
                self.program
            ))),
        }
    }
}

impl Transport for SendmailTransport {
    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        message: &'a [u8],
        _message_id: &'a str,
    ) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.run(envelope, message)).await {
                Ok(result) => result,
                // The child is killed on drop; it may have queued the message already.
                Err(_) => Err(SendError::Unknown(format!(
                    "{} did not finish within {} s",
                    self.program,
                    self.timeout.as_secs()
                ))),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// smtp

/// An open session and how much it has been used.
struct Session {
    connection: AsyncSmtpConnection,
    messages: u32,
    /// The server's EHLO reply offered `PIPELINING`.
    pipelining: bool,
}

/// SMTP submission with lettre's connection (rustls for TLS), driven command by command
/// so that a failure after the final `.` is told apart from one before it.
pub struct SmtpTransport {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    /// OAuth 2.0: a fresh token per connection, signed in with XOAUTH2 as `username`.
    token: Option<(Arc<TokenSource>, String)>,
    tls: Option<TlsParameters>,
    timeout: Duration,
    hello: ClientId,
    /// One permit per message in flight, hence per open connection.
    permits: Semaphore,
    idle: Mutex<Vec<Session>>,
}

/// Messages sent on one connection before it is closed and a fresh one opened: servers
/// limit this, and a long-lived session hides a server restart.
const MESSAGES_PER_CONNECTION: u32 = 100;

impl SmtpTransport {
    pub fn from_settings(
        settings: &OutgoingSettings,
        sign_in: Option<Arc<TokenSource>>,
    ) -> anyhow::Result<Self> {
        let host = settings
            .host
            .clone()
            .context("outgoing.host is required when outgoing.transport = \"smtp\"")?;
        let port = settings.port.unwrap_or(match settings.security {
            Security::Tls => 465,
            Security::Starttls => 587,
            Security::Plain => 25,
        });
        let tls = match settings.security {
            Security::Plain => None,
            Security::Tls | Security::Starttls => {
                let mut builder = TlsParameters::builder(host.clone());
                if let Some(path) = &settings.tls_ca_file {
                    let pem = std::fs::read(path).with_context(|| {
                        format!("cannot read outgoing.tls_ca_file {}", path.display())
                    })?;
                    let certificate = Certificate::from_pem(&pem).with_context(|| {
                        format!(
                            "outgoing.tls_ca_file {} is not a PEM certificate",
                            path.display()
                        )
                    })?;
                    builder = builder.add_root_certificate(certificate);
                }
                Some(
                    builder
                        .build_rustls()
                        .context("cannot set up TLS for outgoing mail")?,
                )
            }
        };
        let token = match (sign_in, &settings.username) {
            (Some(source), Some(user)) => Some((source, user.clone())),
            (Some(_), None) => {
                anyhow::bail!("outgoing.username is required with outgoing.auth = \"oauth2\"")
            }
            (None, _) => None,
        };
        let credentials = match (&settings.username, &settings.password) {
            (Some(user), Some(password)) if token.is_none() => {
                Some(Credentials::new(user.clone(), password.expose().to_owned()))
            }
            _ => None,
        };
        let concurrency = usize::try_from(settings.concurrency.max(1)).unwrap_or(1);
        Ok(SmtpTransport {
            host,
            port,
            security: settings.security,
            credentials,
            token,
            tls,
            timeout: Duration::from_secs(u64::from(settings.timeout_seconds)),
            hello: ClientId::default(),
            permits: Semaphore::new(concurrency),
            idle: Mutex::new(Vec::new()),
        })
    }

    async fn step<T>(
        &self,
        what: &str,
        future: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, StepError> {
        match tokio::time::timeout(self.timeout, future).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(StepError::Smtp(what.to_owned(), err)),
            Err(_) => Err(StepError::Timeout(what.to_owned(), self.timeout)),
        }
    }

    /// A TCP connection with Nagle's algorithm off: lettre writes the message and its
    /// final `.` separately, and with Nagle on the `.` waits for the server's delayed
    /// acknowledgement of the message (40 ms on Linux), for every message.
    async fn open_tcp(&self) -> Result<tokio::net::TcpStream, StepError> {
        let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
        let tcp = match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(err)) => return Err(StepError::Io("connect".into(), err)),
            Err(_) => return Err(StepError::Timeout("connect".into(), self.timeout)),
        };
        tcp.set_nodelay(true)
            .map_err(|err| StepError::Io("connect".into(), err))?;
        Ok(tcp)
    }

    /// A session, signed in. A token the server refuses is marked (never offered again)
    /// and the sign-in tried once more with a fresh one, as IMAP does.
    async fn connect(&self) -> Result<Session, SendError> {
        match self.connect_attempt().await {
            Err(SendError::SignIn(first)) if self.token.is_some() => {
                tracing::warn!(error = %first, "the SMTP server refused the sign-in token; refreshing it and trying again");
                self.connect_attempt().await
            }
            other => other,
        }
    }

    async fn connect_attempt(&self) -> Result<Session, SendError> {
        let setup = |err: StepError| {
            SendError::Transient(format!(
                "cannot open an SMTP session with {}:{}: {}",
                self.host,
                self.port,
                err.describe()
            ))
        };
        let mut connection = match self.security {
            // lettre's own connect does the TLS handshake before the greeting.
            Security::Tls => self
                .step(
                    "connect",
                    AsyncSmtpConnection::connect_tokio1(
                        (self.host.as_str(), self.port),
                        Some(self.timeout),
                        &self.hello,
                        self.tls.clone(),
                        None,
                    ),
                )
                .await
                .map_err(setup)?,
            Security::Starttls | Security::Plain => {
                let tcp = self.open_tcp().await.map_err(setup)?;
                self.step(
                    "greeting",
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello),
                )
                .await
                .map_err(setup)?
            }
        };
        if self.security == Security::Starttls {
            let Some(tls) = self.tls.clone() else {
                return Err(SendError::Transient(
                    "STARTTLS without TLS parameters".into(),
                ));
            };
            if !connection.can_starttls() {
                connection.abort().await;
                return Err(SendError::Transient(format!(
                    "{}:{} does not offer STARTTLS (outgoing.security = \"starttls\")",
                    self.host, self.port
                )));
            }
            if let Err(err) = self
                .step("STARTTLS", connection.starttls(tls, &self.hello))
                .await
            {
                connection.abort().await;
                return Err(setup(err));
            }
        }
        // lettre keeps only the EHLO keywords it knows, and PIPELINING is not one: ask
        // again (before AUTH, which a second EHLO would undo on some servers).
        let pipelining = match self
            .step("EHLO", connection.command(Ehlo::new(self.hello.clone())))
            .await
        {
            Ok(reply) => offers_pipelining(&reply),
            Err(err) => {
                connection.abort().await;
                return Err(setup(err));
            }
        };
        if let Some(credentials) = &self.credentials {
            let mechanisms = [Mechanism::Plain, Mechanism::Login];
            if let Err(err) = self
                .step("AUTH", connection.auth(&mechanisms, credentials))
                .await
            {
                connection.abort().await;
                return Err(setup(err));
            }
        }
        if let Some((source, user)) = &self.token {
            let token = match source.access_token().await {
                Ok(token) => token,
                Err(err) => {
                    connection.abort().await;
                    return Err(if err.needs_action() {
                        SendError::SignIn(err.to_string())
                    } else {
                        SendError::Transient(err.to_string())
                    });
                }
            };
            let credentials = Credentials::new(user.clone(), token.clone());
            if let Err(err) = self
                .step("AUTH", connection.auth(&[Mechanism::Xoauth2], &credentials))
                .await
            {
                connection.abort().await;
                // A refused XOAUTH2 token comes back as a 334 challenge holding the
                // error, which lettre reports as a client error, then a 5xx. A 4xx
                // (`454 4.7.0 Temporary authentication failure`: the server could not
                // check it) says nothing against the token: later.
                let refused = matches!(&err, StepError::Smtp(_, e)
                    if e.is_permanent() || e.is_client());
                if refused {
                    // Not offered again; the next connection asks for a fresh one.
                    source.refused(&token).await;
                    return Err(SendError::SignIn(format!(
                        "the SMTP server {}:{} refused the XOAUTH2 token for {user}: {}",
                        self.host,
                        self.port,
                        err.describe()
                    )));
                }
                return Err(setup(err));
            }
        }
        Ok(Session {
            connection,
            messages: 0,
            pipelining,
        })
    }

    fn describe_server(&self) -> String {
        format!("smtp://{}:{}", self.host, self.port)
    }

    /// One mail transaction on an open session.
    async fn transaction(
        &self,
        session: &mut Session,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Response, (StepError, Phase)> {
        let connection = &mut session.connection;
        let mail = Mail::new(envelope.from().cloned(), vec![]);
        if session.pipelining {
            let mut group = mail.to_string();
            for to in envelope.to() {
                group.push_str(&Rcpt::new(to.clone(), vec![]).to_string());
            }
            group.push_str(&Data.to_string());
            // `command` writes the group and reads MAIL's reply; the others follow in order.
            // A server may hold every reply of a group until the last (DATA's) is ready.
            self.step("MAIL FROM, RCPT TO and DATA", connection.command(group))
                .await
                .map_err(|e| (e, Phase::Mail))?;
            for _ in envelope.to() {
                self.step("RCPT TO", connection.read_response())
                    .await
                    .map_err(|e| (e, Phase::BeforeData))?;
            }
            self.step("DATA", connection.read_response())
                .await
                .map_err(|e| (e, Phase::BeforeData))?;
        } else {
            self.step("MAIL FROM", connection.command(mail))
                .await
                .map_err(|e| (e, Phase::Mail))?;
            for to in envelope.to() {
                self.step("RCPT TO", connection.command(Rcpt::new(to.clone(), vec![])))
                    .await
                    .map_err(|e| (e, Phase::BeforeData))?;
            }
            self.step("DATA", connection.command(Data))
                .await
                .map_err(|e| (e, Phase::BeforeData))?;
        }
        let sent = match data_with_final_dot(message) {
            Some(data) => self.step("the message", connection.command(data)).await,
            None => self.step("the message", connection.message(message)).await,
        };
        sent.map_err(|e| (e, Phase::AfterData))
    }

    async fn send_message(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Delivered, SendError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SendError::Transient("the SMTP transport is shutting down".into()))?;
        let reused = self.idle.lock().await.pop();
        let (mut session, was_reused) = match reused {
            Some(session) if !session.connection.has_broken() => (session, true),
            _ => (self.connect().await?, false),
        };
        let mut result = self.transaction(&mut session, envelope, message).await;
        // A reused connection the server has meanwhile closed fails at MAIL FROM without
        // a reply: nothing was sent, so try once more on a fresh connection.
        if was_reused {
            if let Err((StepError::Smtp(_, err), Phase::Mail)) = &result {
                if !err.is_transient() && !err.is_permanent() {
                    session.connection.abort().await;
                    session = self.connect().await?;
                    result = self.transaction(&mut session, envelope, message).await;
                }
            }
        }
        match result {
            Ok(response) => {
                session.messages += 1;
                if session.messages < MESSAGES_PER_CONNECTION {
                    self.idle.lock().await.push(session);
                } else {
                    let _ = tokio::time::timeout(self.timeout, session.connection.quit()).await;
                }
                Ok(Delivered {
                    reply: describe_response(&response),
                })
            }
            Err((err, phase)) => {
                // After a refusal the session could continue with RSET, but a fresh one
                // is simpler and failures are rare.
                session.connection.abort().await;
                Err(err.classify(phase))
            }
        }
    }
}

impl Transport for SmtpTransport {
    fn name(&self) -> String {
        self.describe_server()
    }

    fn send<'a>(
        &'a self,
        envelope: &'a Envelope,
        message: &'a [u8],
        _message_id: &'a str,
    ) -> BoxFuture<'a, Result<Delivered, SendError>> {
        Box::pin(self.send_message(envelope, message))
    }

    fn close_idle(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let sessions: Vec<Session> = std::mem::take(&mut *self.idle.lock().await);
            for mut session in sessions {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), session.connection.command(Quit))
                        .await;
            }
        })
    }
}

/// Whether an EHLO reply offers `PIPELINING` (one keyword a line after the greeting).
fn offers_pipelining(reply: &Response) -> bool {
    reply.message().skip(1).any(|line| {
        line.split_whitespace()
            .next()
            .is_some_and(|keyword| keyword.eq_ignore_ascii_case("PIPELINING"))
    })
}

/// The message as DATA sends it, in one piece: a `.` starting a line doubled (RFC 5321
/// 4.5.2), then CRLF `.` CRLF, exactly as lettre's own `message` writes it in two. `None`
/// when the message is not UTF-8 (lettre's way then writes the bytes).
fn data_with_final_dot(message: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(message).ok()?;
    let mut data = String::with_capacity(text.len() + 64);
    for (n, line) in text.split("\r\n").enumerate() {
        if n > 0 {
            data.push_str("\r\n");
        }
        if line.starts_with('.') {
            data.push('.');
        }
        data.push_str(line);
    }
    data.push_str("\r\n.\r\n");
    Some(data)
}

/// Where in the transaction a step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Mail,
    BeforeData,
    /// The message and its final `.` were written (or being written).
    AfterData,
}

enum StepError {
    Smtp(String, lettre::transport::smtp::Error),
    Io(String, std::io::Error),
    Timeout(String, Duration),
}

impl StepError {
    fn describe(&self) -> String {
        match self {
            StepError::Smtp(what, err) => match (err.status(), std::error::Error::source(err)) {
                (Some(code), Some(text)) => format!("{what}: {code} {text}"),
                _ => format!("{what}: {}", crate::logging::error_chain(err)),
            },
            StepError::Io(what, err) => format!("{what}: {err}"),
            StepError::Timeout(what, limit) => {
                format!("{what}: no reply within {} s", limit.as_secs())
            }
        }
    }

    fn classify(self, phase: Phase) -> SendError {
        let text = self.describe();
        match (&self, phase) {
            (StepError::Smtp(..), _) if is_throttling(&text) => SendError::Transient(format!(
                "{text} (the server is throttling our sending; retried later)"
            )),
            (StepError::Smtp(_, err), _) if err.is_permanent() => SendError::Permanent(text),
            (StepError::Smtp(_, err), _) if err.is_transient() => SendError::Transient(text),
            (_, Phase::AfterData) => SendError::Unknown(format!(
                "{text} (the message was handed over; the server may have accepted it)"
            )),
            _ => SendError::Transient(text),
        }
    }
}

/// Whether a server's reply refuses for the rate of sending rather than the message:
/// Exchange Online's submission quota (`554 5.2.0 STOREDRV.Submission.Exception:
/// SubmissionQuotaExceededException`, `5.2.0 ... ThrottlingPolicy`) and other `5.2.0`
/// replies that speak of a quota, a rate or too many messages.
pub fn is_throttling(reply: &str) -> bool {
    let lower = reply.to_ascii_lowercase();
    if lower.contains("submissionquotaexceeded") {
        return true;
    }
    let enhanced_5_2_0 = lower
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|word| word == "5.2.0");
    enhanced_5_2_0
        && [
            "quota",
            "throttl",
            "rate limit",
            "sending rate",
            "submission rate",
            "too many",
            "limit exceeded",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

fn describe_response(response: &Response) -> String {
    let message: Vec<&str> = response.message().collect();
    format!("{} {}", response.code(), message.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelining_is_used_only_when_the_ehlo_reply_offers_it() {
        let reply = |text: &str| -> Response { text.parse().unwrap() };
        assert!(offers_pipelining(&reply(
            "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
        )));
        assert!(offers_pipelining(&reply(
            "250-mx.example\r\n250 pipelining\r\n"
        )));
        assert!(!offers_pipelining(&reply(
            "250-mx.example\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
        )));
        // The greeting line names the server, not a keyword.
        assert!(!offers_pipelining(&reply("250 PIPELINING\r\n")));
    }

    #[test]
    fn the_message_goes_with_dots_doubled_at_line_starts_and_the_final_dot() {
        assert_eq!(
            data_with_final_dot(b".first\r\nmiddle.\r\n..two\r\n.\r\nend\r\n").as_deref(),
            Some("..first\r\nmiddle.\r\n...two\r\n..\r\nend\r\n\r\n.\r\n")
        );
        // A bare LF does not start a line; a CR before CRLF does not hide one.
        assert_eq!(
            data_with_final_dot(b"a\n.b\r\r\n.c").as_deref(),
            Some("a\n.b\r\r\n..c\r\n.\r\n")
        );
        assert_eq!(data_with_final_dot(b"\xff\r\n"), None);
    }

    #[test]
    fn file_names_come_from_the_message_id_and_cannot_escape_the_directory() {
        let t = FileTransport::new(PathBuf::from("/var/mail/outbox"));
        assert_eq!(
            t.path_for("outbox.7.ab12@board.example"),
            PathBuf::from("/var/mail/outbox/outbox.7.ab12@board.example.eml")
        );
        assert_eq!(
            t.path_for("../../etc/passwd"),
            PathBuf::from("/var/mail/outbox/.._.._etc_passwd.eml")
        );
    }

    #[test]
    fn exchange_online_throttling_is_told_apart_from_a_refused_message() {
        for reply in [
            "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception",
            "DATA: 554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException",
            "550 5.2.0 Message rejected: sending rate limit exceeded (ThrottlingPolicy)",
            "554 5.2.0 Too many messages submitted in the last minute",
        ] {
            assert!(is_throttling(reply), "{reply}");
        }
        for reply in [
            "550 5.1.1 User unknown",
            "554 5.2.0 Message rejected as spam",
            "554 5.2.0 STOREDRV.Deliver.Exception:ConversionFailed; the generated message was moderated",
            "552 5.2.2 Mailbox full; quota exceeded",
            "554 5.7.1 Relay access denied",
        ] {
            assert!(!is_throttling(reply), "{reply}");
        }
    }

    #[test]
    fn sendmail_exit_codes_for_bad_messages_are_permanent_and_the_rest_transient() {
        for code in [64, 65, 67, 68, 77] {
            assert!(SendmailTransport::is_permanent_exit(code), "{code}");
        }
        for code in [1, 69, 71, 73, 74, 75, 78] {
            assert!(!SendmailTransport::is_permanent_exit(code), "{code}");
        }
    }
}
