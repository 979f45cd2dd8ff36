//! The IMAP source: async-imap over TLS (rustls; implicit TLS or STARTTLS) or, only when
//! configured, plain TCP.
//!
//! Reading a folder: SELECT (kept instead when the selected folder itself has just announced
//! new mail; see `scan_folder`), load the cursor for (mailbox, folder, UIDVALIDITY), then
//! `UID SEARCH UID n:*` for everything after it. The answer to `n:*` always includes the
//! last message even when it is older than `n`, so UIDs at or below the cursor are dropped.
//! Sizes come first (`RFC822.SIZE`); messages are then fetched in batches bounded by count
//! and bytes, a large one alone and in pieces (`BODY.PEEK[]<offset.length>`), and one
//! over `mailbox.max_message_bytes` as its header block only. A UID that answers nothing
//! was expunged meanwhile: it is skipped, not an error. The cursor moves in the
//! transaction that stores the batch, never before. A new UIDVALIDITY starts a new cursor
//! at 0: everything is read again and de-duplicated by the store, so nothing is re-filed.
//!
//! After commit the `after` action runs (`\Seen`, nothing, or `UID MOVE`); never EXPUNGE.
//! On each new connection the action is repeated for every message at or below the
//! cursor, which covers a crash between commit and action.
//!
//! Waiting: IDLE when offered, ended and re-issued every `mailbox.idle_seconds` (well
//! inside RFC 2177's 29 minutes), which also proves the connection alive: a dead one fails
//! the DONE within the command timeout. Without IDLE, a poll every `mailbox.poll_seconds`.
//! Every command runs under `mailbox.command_timeout_seconds`; any failure drops the
//! connection and the worker reconnects with backoff.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_imap::imap_proto::{MailboxDatum, Response};
use async_imap::types::UnsolicitedResponse;
use async_imap::{Client, Session};
use futures::TryStreamExt;
use sqlx::PgPool;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, pki_types::ServerName};
use tokio_rustls::TlsConnector;

use super::{
    parse, Batch, Committed, Content, CursorAdvance, Fetched, Locator, MailboxSource, SourceError,
    Wake,
};
use crate::config::{MailboxSettings, SaslMechanism, Security};
use crate::oauth::sasl::TokenAuth;
use crate::oauth::{AuthError, TokenSource};
use crate::shutdown::Shutdown;
use crate::store::messages as store_messages;

/// At most this many messages, or [`BATCH_BYTES`], per batch.
const BATCH_MESSAGES: usize = 100;
const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// A message at least this large is fetched alone, in pieces of this size.
const PIECE_BYTES: u64 = 4 * 1024 * 1024;
/// How many sizes are asked for at once.
const SIZE_WINDOW: usize = 500;
/// The most of an oversized message's header block that is fetched.
const MAX_HEADER_BYTES: u64 = 1024 * 1024;

/// The connection: TLS or, when configured, plain TCP.
#[derive(Debug)]
pub enum ImapStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type ImapSession = Session<ImapStream>;

/// How the `after` setting reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum After {
    Seen,
    Leave,
    Move(String),
}

/// The folder a connection has selected, and the UIDVALIDITY its SELECT answered.
#[derive(Debug)]
struct Selection {
    folder: String,
    uidvalidity: u32,
}

/// The folder being read in this round.
#[derive(Debug)]
struct FolderScan {
    folder: String,
    uidvalidity: u32,
    pending: VecDeque<u32>,
}

pub struct ImapSource {
    host: String,
    port: u16,
    security: Security,
    username: String,
    sign_in: SignIn,
    folders: Vec<String>,
    after: After,
    max_message_bytes: u64,
    poll: Duration,
    idle: Duration,
    command_timeout: Duration,
    tls: Option<TlsConnector>,
    pool: PgPool,
    name: String,

    session: Option<ImapSession>,
    /// The folder selected on `session`, with the UIDVALIDITY its SELECT answered.
    selected: Option<Selection>,
    /// The selected folder has just announced a change of its own (IDLE, or the NOOP
    /// before it): the selection is the live folder, and the next scan of it needs no
    /// SELECT. Taken by that scan.
    live: bool,
    idle_capable: bool,
    move_capable: bool,
    /// The server announced new mail (EXISTS or RECENT) while we were busy with
    /// another command; the next wait reads at once instead of idling.
    announced: bool,
    /// Folders whose `after` catch-up ran on this connection.
    caught_up: HashSet<String>,
    /// Folders still to read in this round; None between rounds.
    round: Option<VecDeque<String>>,
    scan: Option<FolderScan>,
}

/// How the source signs in: a password, or an OAuth 2.0 bearer token over SASL.
enum SignIn {
    Password(String),
    Token {
        source: Arc<TokenSource>,
        mechanism: SaslMechanism,
    },
}

impl fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSource")
            .field("name", &self.name)
            .finish()
    }
}

impl ImapSource {
    pub fn new(
        settings: &MailboxSettings,
        token_source: Option<Arc<TokenSource>>,
        pool: PgPool,
    ) -> Result<ImapSource, SourceError> {
        let missing = |key: &str| SourceError::Config(format!("mailbox.{key} is not set"));
        let host = settings.host.clone().ok_or_else(|| missing("host"))?;
        let username = settings
            .username
            .clone()
            .ok_or_else(|| missing("username"))?;
        let sign_in = match token_source {
            Some(source) => SignIn::Token {
                source,
                mechanism: settings
                    .oauth2
                    .as_ref()
                    .and_then(|o| o.mechanism)
                    .unwrap_or(SaslMechanism::Xoauth2),
            },
            None => SignIn::Password(
                settings
                    .password
                    .as_ref()
                    .ok_or_else(|| missing("password"))?
                    .expose()
                    .to_owned(),
            ),
        };
        let port = settings.port_or_default();
        let tls = match settings.security {
            Security::Plain => None,
            Security::Tls | Security::Starttls => Some(tls_connector(settings)?),
        };
        let after = match settings.after.as_str() {
            "leave" => After::Leave,
            other => match other.strip_prefix("move:") {
                Some(folder) => After::Move(folder.to_owned()),
                None => After::Seen,
            },
        };
        Ok(ImapSource {
            name: format!("imap://{username}@{host}:{port}"),
            host,
            port,
            security: settings.security,
            username,
            sign_in,
            folders: settings.folders.clone(),
            after,
            max_message_bytes: settings.max_message_bytes,
            poll: Duration::from_secs(settings.poll_seconds.max(1)),
            idle: Duration::from_secs(settings.idle_seconds.max(1)),
            command_timeout: Duration::from_secs(settings.command_timeout_seconds.max(1)),
            tls,
            pool,
            session: None,
            selected: None,
            live: false,
            idle_capable: false,
            move_capable: false,
            announced: false,
            caught_up: HashSet::new(),
            round: None,
            scan: None,
        })
    }

    fn source_name(&self, folder: &str) -> String {
        format!("{}/{folder}", self.name)
    }

    /// Runs `future` under the command timeout; any failure is a connection error.
    async fn timed<T, E: fmt::Display>(
        &self,
        what: &str,
        future: impl Future<Output = Result<T, E>>,
    ) -> Result<T, SourceError> {
        match tokio::time::timeout(self.command_timeout, future).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(SourceError::Connection(format!("{what}: {err}"))),
            Err(_) => Err(SourceError::Timeout(what.to_owned())),
        }
    }

    async fn connect(&self) -> Result<(ImapSession, bool, bool), SourceError> {
        let address = format!("{}:{}", self.host, self.port);
        let tcp = self
            .timed(
                &format!("connect to {address}"),
                TcpStream::connect((self.host.as_str(), self.port)),
            )
            .await?;
        tcp.set_nodelay(true).ok();
        let stream = match (self.security, &self.tls) {
            (Security::Tls, Some(tls)) => {
                ImapStream::Tls(Box::new(self.handshake(tls, tcp).await?))
            }
            (Security::Starttls, Some(tls)) => {
                let mut client = Client::new(ImapStream::Plain(tcp));
                self.greeting(&mut client).await?;
                self.timed(
                    "STARTTLS",
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await?;
                let ImapStream::Plain(tcp) = client.into_inner() else {
                    return Err(SourceError::Connection("STARTTLS on a TLS stream".into()));
                };
                ImapStream::Tls(Box::new(self.handshake(tls, tcp).await?))
            }
            _ => ImapStream::Plain(tcp),
        };
        let mut client = Client::new(stream);
        if !matches!(self.security, Security::Starttls) {
            self.greeting(&mut client).await?;
        }
        let mut session = self.sign_in(client, &address).await?;
        let capabilities = self.timed("CAPABILITY", session.capabilities()).await?;
        let idle = capabilities.has_str("IDLE");
        let mv = capabilities.has_str("MOVE");
        if let After::Move(folder) = &self.after {
            // The target may exist already: a NO here is fine.
            let _ = self.timed("CREATE", session.create(folder)).await;
        }
        Ok((session, idle, mv))
    }

    /// Signs in with the password, or with a token (refreshed and tried once more when
    /// the server refuses the one held).
    async fn sign_in(
        &self,
        client: Client<ImapStream>,
        address: &str,
    ) -> Result<ImapSession, SourceError> {
        let user = &self.username;
        let (source, mechanism) = match &self.sign_in {
            SignIn::Password(password) => {
                return match tokio::time::timeout(
                    self.command_timeout,
                    client.login(user, password),
                )
                .await
                {
                    Ok(Ok(session)) => Ok(session),
                    Ok(Err((async_imap::error::Error::No(text), _)))
                        if text.to_ascii_uppercase().contains("[UNAVAILABLE]") =>
                    {
                        Err(SourceError::Connection(format!(
                            "the IMAP server could not check the login of {user} at {address}: {text}"
                        )))
                    }
                    Ok(Err((err @ async_imap::error::Error::No(_), _))) => {
                        Err(SourceError::SignIn(format!(
                            "IMAP login as {user} at {address} was refused: {err}"
                        )))
                    }
                    Ok(Err((err, _))) => Err(SourceError::Connection(format!(
                        "IMAP login as {user} at {address} failed: {err}"
                    ))),
                    Err(_) => Err(SourceError::Timeout("LOGIN".into())),
                };
            }
            SignIn::Token { source, mechanism } => (source, *mechanism),
        };
        let mut client = client;
        for attempt in 1..=2 {
            let token = source
                .access_token()
                .await
                .map_err(|err| sign_in_error(&err))?;
            let auth = TokenAuth::new(mechanism, user, &self.host, self.port, &token);
            let refusal = auth.refusal.clone();
            match tokio::time::timeout(
                self.command_timeout,
                client.authenticate(mechanism.name(), auth),
            )
            .await
            {
                Ok(Ok(session)) => return Ok(session),
                Ok(Err((async_imap::error::Error::No(text), _)))
                    if text.to_ascii_uppercase().contains("[UNAVAILABLE]") =>
                {
                    // The server could not check the token (its identity provider is
                    // away): nothing is wrong with the token; later.
                    return Err(SourceError::Connection(format!(
                        "the IMAP server could not check the sign-in token for {user} at {address}: {text}"
                    )));
                }
                Ok(Err((async_imap::error::Error::No(text), returned))) => {
                    source.refused(&token).await;
                    let said = refusal
                        .lock()
                        .ok()
                        .and_then(|r| r.clone())
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default();
                    if attempt == 2 {
                        return Err(SourceError::SignIn(format!(
                            "the IMAP server refused the {} token for {user} at {address}: {text}{said}",
                            mechanism.name()
                        )));
                    }
                    tracing::warn!(
                        mailbox = %self.name, mechanism = mechanism.name(),
                        "the IMAP server refused the sign-in token{said}; refreshing it and trying again"
                    );
                    client = returned;
                }
                Ok(Err((err, _))) => {
                    return Err(SourceError::Connection(format!(
                        "IMAP AUTHENTICATE {} as {user} at {address} failed: {err}",
                        mechanism.name()
                    )))
                }
                Err(_) => return Err(SourceError::Timeout("AUTHENTICATE".into())),
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    async fn handshake(
        &self,
        tls: &TlsConnector,
        tcp: TcpStream,
    ) -> Result<TlsStream<TcpStream>, SourceError> {
        let name = ServerName::try_from(self.host.clone()).map_err(|err| {
            SourceError::Config(format!(
                "mailbox.host {:?} is not a valid TLS name: {err}",
                self.host
            ))
        })?;
        self.timed("TLS handshake", tls.connect(name, tcp)).await
    }

    async fn greeting(&self, client: &mut Client<ImapStream>) -> Result<(), SourceError> {
        match tokio::time::timeout(self.command_timeout, client.read_response()).await {
            Ok(Some(Ok(_))) => Ok(()),
            Ok(Some(Err(err))) => Err(SourceError::Connection(format!("IMAP greeting: {err}"))),
            Ok(None) => Err(SourceError::Connection(
                "the server closed the connection before its greeting".into(),
            )),
            Err(_) => Err(SourceError::Timeout("greeting".into())),
        }
    }

    async fn ensure_session(&mut self) -> Result<(), SourceError> {
        if self.session.is_none() {
            let (session, idle, mv) = self.connect().await?;
            tracing::info!(mailbox = %self.name, idle, r#move = mv, "connected to the IMAP server");
            self.session = Some(session);
            self.selected = None;
            self.idle_capable = idle;
            self.move_capable = mv;
            self.caught_up.clear();
        }
        Ok(())
    }

    fn session(&mut self) -> Result<&mut ImapSession, SourceError> {
        self.session
            .as_mut()
            .ok_or_else(|| SourceError::Connection("not connected".into()))
    }

    /// Selects `folder`; returns its UIDVALIDITY and whether it holds any message.
    async fn select(&mut self, folder: &str) -> Result<(u32, u32), SourceError> {
        let timeout = self.command_timeout;
        let session = self.session()?;
        let mailbox = match tokio::time::timeout(timeout, session.select(folder)).await {
            Ok(Ok(mailbox)) => mailbox,
            Ok(Err(err)) => {
                self.selected = None;
                return Err(SourceError::Connection(format!("SELECT {folder}: {err}")));
            }
            Err(_) => return Err(SourceError::Timeout(format!("SELECT {folder}"))),
        };
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        self.selected = Some(Selection {
            folder: folder.to_owned(),
            uidvalidity,
        });
        self.live = false;
        Ok((uidvalidity, mailbox.exists))
    }

    fn is_selected(&self, folder: &str) -> bool {
        self.selected.as_ref().is_some_and(|s| s.folder == folder)
    }

    async fn uid_search(&mut self, query: String) -> Result<Vec<u32>, SourceError> {
        let timeout = self.command_timeout;
        let session = self.session()?;
        let found = match tokio::time::timeout(timeout, session.uid_search(&query)).await {
            Ok(Ok(found)) => found,
            Ok(Err(err)) => {
                return Err(SourceError::Connection(format!(
                    "UID SEARCH {query}: {err}"
                )))
            }
            Err(_) => return Err(SourceError::Timeout(format!("UID SEARCH {query}"))),
        };
        let mut uids: Vec<u32> = found.into_iter().collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// `UID FETCH set query`, collected; each answer as (uid, size, body, header).
    async fn uid_fetch(
        &mut self,
        set: &str,
        query: &str,
    ) -> Result<Vec<FetchedParts>, SourceError> {
        let timeout = self.command_timeout;
        let started = std::time::Instant::now();
        let session = self.session()?;
        let collect = async {
            let mut stream = session.uid_fetch(set, query).await?;
            let mut out = Vec::new();
            while let Some(fetch) = stream.try_next().await? {
                // Unsolicited FETCH responses (flag changes) carry no UID: skip them.
                let Some(uid) = fetch.uid else { continue };
                out.push(FetchedParts {
                    uid,
                    size: fetch.size,
                    body: fetch.body().map(<[u8]>::to_vec),
                    header: fetch.header().map(<[u8]>::to_vec),
                });
            }
            Ok::<_, async_imap::error::Error>(out)
        };
        match tokio::time::timeout(timeout, collect).await {
            Ok(Ok(out)) => {
                tracing::trace!(
                    query,
                    answers = out.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "UID FETCH"
                );
                Ok(out)
            }
            Ok(Err(err)) => Err(SourceError::Connection(format!("UID FETCH {query}: {err}"))),
            Err(_) => Err(SourceError::Timeout(format!("UID FETCH {query}"))),
        }
    }

    /// Whether the server has announced new mail in the selected folder since the last
    /// command, or does in answer to a NOOP now.
    async fn mail_announced(&mut self) -> Result<bool, SourceError> {
        let timeout = self.command_timeout;
        let Some(session) = self.session.as_mut() else {
            return Ok(false);
        };
        match tokio::time::timeout(timeout, session.noop()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(SourceError::Connection(format!("NOOP: {err}"))),
            Err(_) => return Err(SourceError::Timeout("NOOP".into())),
        }
        self.drain_unsolicited().await;
        Ok(std::mem::take(&mut self.announced))
    }

    /// Empties the server's unsolicited responses, remembering whether any of them
    /// announced new mail: one that arrives during a FETCH must still wake the next wait.
    async fn drain_unsolicited(&mut self) {
        if let Some(session) = self.session.as_mut() {
            while let Ok(response) = session.unsolicited_responses.try_recv() {
                self.announced |= matches!(
                    response,
                    UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
                );
            }
        }
    }

    /// Starts reading `folder`: select it, find what is after the cursor.
    async fn scan_folder(&mut self, folder: String) -> Result<FolderScan, SourceError> {
        let started = std::time::Instant::now();
        // A folder deleted and created again under an open selection is not always
        // announced, and the server's STATUS may answer from the stale selection, so the
        // folder is selected afresh every round, with one exception: a round woken by the
        // selected folder's own announcement (new mail in IDLE). A stale selection hears
        // nothing of the new folder, so that announcement proves the selection live, and
        // a 10,000-message folder is not opened again for every message. The periodic
        // re-issue of IDLE selects afresh, which bounds how long a recreated folder waits.
        let kept = std::mem::take(&mut self.live)
            .then(|| self.selected.as_ref().filter(|s| s.folder == folder))
            .flatten()
            .map(|s| s.uidvalidity);
        let (uidvalidity, exists) = match kept {
            // It announced new mail: it holds some.
            Some(uidvalidity) => (uidvalidity, 1),
            None => self.select(&folder).await?,
        };
        let selected = started.elapsed();
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(crate::store::Error::from)?;
        let previous = store_messages::latest_uidvalidity(&mut conn, &self.name, &folder).await?;
        if previous.is_some_and(|p| p != uidvalidity) {
            tracing::warn!(
                mailbox = %self.name, %folder, uidvalidity, previous = ?previous,
                "UIDVALIDITY changed: reading the folder again; stored messages are recognised and skipped"
            );
        }
        let last = store_messages::cursor(&mut conn, &self.name, &folder, uidvalidity).await?;
        drop(conn);

        if !self.caught_up.contains(&folder) && last > 0 && exists > 0 {
            self.catch_up_after(&folder, last).await?;
        }
        self.caught_up.insert(folder.clone());

        let pending: VecDeque<u32> = if exists == 0 {
            VecDeque::new()
        } else {
            // `n:*` also answers the last message when it is below n: drop it.
            self.uid_search(format!("UID {}:*", u64::from(last) + 1))
                .await?
                .into_iter()
                .filter(|&uid| uid > last)
                .collect()
        };
        tracing::debug!(
            mailbox = %self.name, %folder, uidvalidity, after = last, new = pending.len(),
            kept = kept.is_some(),
            select_ms = selected.as_millis() as u64,
            scan_ms = started.elapsed().as_millis() as u64,
            "folder scanned"
        );
        Ok(FolderScan {
            folder,
            uidvalidity,
            pending,
        })
    }

    /// Applies `after` to every stored message still in the folder: those a crash caught
    /// between commit and action.
    async fn catch_up_after(&mut self, folder: &str, last: u32) -> Result<(), SourceError> {
        let uids = match &self.after {
            After::Leave => return Ok(()),
            After::Seen => self.uid_search(format!("UNSEEN UID 1:{last}")).await?,
            After::Move(target) if target == folder => return Ok(()),
            After::Move(_) => self.uid_search(format!("UID 1:{last}")).await?,
        };
        let uids: Vec<u32> = uids.into_iter().filter(|&u| u <= last).collect();
        if !uids.is_empty() {
            tracing::info!(mailbox = %self.name, %folder, count = uids.len(), "applying mailbox.after to messages stored before");
            self.apply_after(&uids).await?;
        }
        Ok(())
    }

    async fn apply_after(&mut self, uids: &[u32]) -> Result<(), SourceError> {
        if uids.is_empty() {
            return Ok(());
        }
        let timeout = self.command_timeout;
        let move_capable = self.move_capable;
        let after = self.after.clone();
        for chunk in uids.chunks(500) {
            let set = uid_set(chunk);
            let session = self.session()?;
            let result = match &after {
                After::Leave => return Ok(()),
                After::Seen => tokio::time::timeout(timeout, store_flags(session, &set)).await,
                After::Move(target) if move_capable => {
                    tokio::time::timeout(timeout, session.uid_mv(&set, target)).await
                }
                After::Move(target) => {
                    // Without MOVE: copy and flag, never delete. The original stays, read.
                    tokio::time::timeout(timeout, async {
                        session
                            .run_command_and_check_ok(&format!("UID COPY {set} {}", quote(target)))
                            .await?;
                        store_flags(session, &set).await
                    })
                    .await
                }
            };
            // A MOVE fills the unsolicited-response channel with EXPUNGEs; empty it now,
            // remembering any new mail announced, before it overflows.
            self.drain_unsolicited().await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    return Err(SourceError::Connection(format!(
                        "mailbox.after on {set}: {err}"
                    )))
                }
                Err(_) => return Err(SourceError::Timeout("mailbox.after".into())),
            }
        }
        Ok(())
    }

    /// Builds the next batch from the current folder's pending UIDs.
    async fn fetch_batch(&mut self) -> Result<Option<Batch>, SourceError> {
        let Some(scan) = self.scan.as_ref() else {
            return Ok(None);
        };
        let folder = scan.folder.clone();
        let uidvalidity = scan.uidvalidity;
        let window: Vec<u32> = scan.pending.iter().take(SIZE_WINDOW).copied().collect();
        if window.is_empty() {
            return Ok(None);
        }
        let sizes: BTreeMap<u32, u64> = self
            .uid_fetch(&uid_set(&window), "(UID RFC822.SIZE)")
            .await?
            .into_iter()
            .filter_map(|f| f.size.map(|s| (f.uid, u64::from(s))))
            .collect();

        // Choose this batch: small messages together, a large one alone.
        let mut small: Vec<u32> = Vec::new();
        let mut oversized: Vec<u32> = Vec::new();
        let mut large: Option<(u32, u64)> = None;
        let mut last_uid = 0;
        let mut bytes = 0u64;
        for &uid in &window {
            let Some(&size) = sizes.get(&uid) else {
                // Expunged since the search: nothing to read, but the cursor may pass it.
                last_uid = uid;
                continue;
            };
            let count = small.len() + oversized.len() + usize::from(large.is_some());
            if size > self.max_message_bytes {
                if count >= BATCH_MESSAGES {
                    break;
                }
                oversized.push(uid);
            } else if size >= PIECE_BYTES {
                if count > 0 {
                    break;
                }
                large = Some((uid, size));
                last_uid = uid;
                break;
            } else {
                if count > 0 && (count >= BATCH_MESSAGES || bytes + size > BATCH_BYTES) {
                    break;
                }
                bytes += size;
                small.push(uid);
            }
            last_uid = uid;
        }
        if let Some(scan) = self.scan.as_mut() {
            while scan.pending.front().is_some_and(|&u| u <= last_uid) {
                scan.pending.pop_front();
            }
        }

        let mut messages: BTreeMap<u32, Content> = BTreeMap::new();
        if !small.is_empty() {
            for f in self
                .uid_fetch(&uid_set(&small), "(UID BODY.PEEK[])")
                .await?
            {
                if let Some(body) = f.body {
                    messages.insert(f.uid, Content::Whole(body));
                }
            }
        }
        if !oversized.is_empty() {
            let query = format!("(UID BODY.PEEK[HEADER]<0.{MAX_HEADER_BYTES}>)");
            for f in self.uid_fetch(&uid_set(&oversized), &query).await? {
                let mut header = f.header.or(f.body).unwrap_or_default();
                header.truncate(parse::header_end(&header));
                let size = sizes.get(&f.uid).copied().unwrap_or(0);
                messages.insert(f.uid, Content::HeadersOnly { header, size });
            }
        }
        if let Some((uid, size)) = large {
            if let Some(raw) = self.fetch_in_pieces(uid, size).await? {
                messages.insert(uid, Content::Whole(raw));
            }
        }
        self.drain_unsolicited().await;

        let messages = messages
            .into_iter()
            .map(|(uid, content)| Fetched {
                locator: Locator::Uid(uid),
                source_ref: format!("{uidvalidity}:{uid}"),
                content,
            })
            .collect();
        Ok(Some(Batch {
            source: self.source_name(&folder),
            cursor: (last_uid > 0).then(|| CursorAdvance {
                mailbox: self.name.clone(),
                folder: folder.clone(),
                uidvalidity,
                last_uid,
            }),
            folder,
            messages,
        }))
    }

    /// A large message, in pieces, so no single response holds all of it. None when it
    /// was expunged meanwhile.
    async fn fetch_in_pieces(
        &mut self,
        uid: u32,
        size: u64,
    ) -> Result<Option<Vec<u8>>, SourceError> {
        let mut raw: Vec<u8> = Vec::with_capacity(size as usize);
        loop {
            let offset = raw.len() as u64;
            let query = format!("(UID BODY.PEEK[]<{offset}.{PIECE_BYTES}>)");
            let answer = self.uid_fetch(&uid.to_string(), &query).await?;
            let Some(piece) = answer
                .into_iter()
                .find(|f| f.uid == uid)
                .and_then(|f| f.body)
            else {
                return Ok(if offset == 0 { None } else { Some(raw) });
            };
            let got = piece.len() as u64;
            raw.extend_from_slice(&piece);
            // A short piece is the end; the size is a hint, not a promise.
            if got < PIECE_BYTES || raw.len() as u64 > size + PIECE_BYTES {
                return Ok(Some(raw));
            }
        }
    }

    async fn ensure_selected(&mut self, folder: &str) -> Result<(), SourceError> {
        if !self.is_selected(folder) {
            self.select(folder).await?;
        }
        Ok(())
    }

    async fn idle_wait(
        &mut self,
        shutdown: &mut Shutdown,
        limit: Duration,
    ) -> Result<Wake, SourceError> {
        let timeout = self.command_timeout;
        let session = self
            .session
            .take()
            .ok_or_else(|| SourceError::Connection("not connected".into()))?;
        let mut idle = session.idle();
        match tokio::time::timeout(timeout, idle.init()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(SourceError::Connection(format!("IDLE: {err}"))),
            Err(_) => return Err(SourceError::Timeout("IDLE".into())),
        }
        let woke = {
            // The library's own timeout restarts on every server keepalive; ours bounds
            // the whole IDLE so it is re-issued in time.
            let (wait, _interrupt) = idle.wait_with_timeout(limit);
            tokio::select! {
                result = wait => match result {
                    Ok(IdleResponse::NewData(data)) => {
                        // Only new mail proves the selection live: a stale one may still
                        // hear of the old folder's messages going (EXPUNGE, flags).
                        self.live = matches!(
                            data.parsed(),
                            Response::MailboxData(MailboxDatum::Exists(_) | MailboxDatum::Recent(_))
                        );
                        Ok(Wake::MaybeNewMail)
                    }
                    Ok(IdleResponse::Timeout | IdleResponse::ManualInterrupt) => Ok(Wake::MaybeNewMail),
                    Err(err) => Err(SourceError::Connection(format!("IDLE: {err}"))),
                },
                _ = tokio::time::sleep(limit) => Ok(Wake::MaybeNewMail),
                _ = shutdown.stopped() => Ok(Wake::Stopped),
            }
        };
        let woke = woke?;
        tracing::debug!(?woke, "IDLE ended");
        match tokio::time::timeout(timeout, idle.done()).await {
            Ok(Ok(session)) => {
                self.session = Some(session);
                self.drain_unsolicited().await;
                // Whatever IDLE announced, the round that follows reads it.
                self.announced = false;
                Ok(woke)
            }
            Ok(Err(err)) if woke == Wake::Stopped => {
                tracing::debug!(error = %err, "DONE failed while stopping");
                Ok(woke)
            }
            Ok(Err(err)) => Err(SourceError::Connection(format!("DONE: {err}"))),
            Err(_) if woke == Wake::Stopped => Ok(woke),
            Err(_) => Err(SourceError::Timeout("DONE".into())),
        }
    }
}

/// A token that could not be had: a person must act, or the provider is away.
fn sign_in_error(err: &AuthError) -> SourceError {
    if err.needs_action() {
        SourceError::SignIn(err.to_string())
    } else {
        SourceError::Connection(err.to_string())
    }
}

struct FetchedParts {
    uid: u32,
    size: Option<u32>,
    body: Option<Vec<u8>>,
    header: Option<Vec<u8>>,
}

async fn store_flags(session: &mut ImapSession, set: &str) -> async_imap::error::Result<()> {
    let responses = session.uid_store(set, "+FLAGS.SILENT (\\Seen)").await?;
    let _: Vec<_> = responses.try_collect().await?;
    Ok(())
}

/// An IMAP quoted string.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `1:3,5,7:9` for a sorted list of UIDs.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// The TLS client: web PKI roots plus `mailbox.tls_ca_file`, if set.
fn tls_connector(settings: &MailboxSettings) -> Result<TlsConnector, SourceError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &settings.tls_ca_file {
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|err| {
                SourceError::Config(format!(
                    "mailbox.tls_ca_file {}: cannot read it: {err}",
                    path.display()
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| {
                SourceError::Config(format!(
                    "mailbox.tls_ca_file {}: not a PEM certificate file: {err}",
                    path.display()
                ))
            })?;
        if certificates.is_empty() {
            return Err(SourceError::Config(format!(
                "mailbox.tls_ca_file {}: holds no certificate",
                path.display()
            )));
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|err| {
                SourceError::Config(format!(
                    "mailbox.tls_ca_file {}: a certificate is not usable: {err}",
                    path.display()
                ))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| SourceError::Config(format!("TLS set-up: {err}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

impl MailboxSource for ImapSource {
    fn mailbox(&self) -> &str {
        &self.name
    }

    async fn next_batch(&mut self) -> Result<Option<Batch>, SourceError> {
        self.ensure_session().await?;
        if self.round.is_none() {
            self.round = Some(self.folders.iter().cloned().collect());
            self.scan = None;
        }
        loop {
            if self.scan.as_ref().is_some_and(|s| !s.pending.is_empty()) {
                let folder = self
                    .scan
                    .as_ref()
                    .map(|s| s.folder.clone())
                    .unwrap_or_default();
                self.ensure_selected(&folder).await?;
                if let Some(batch) = self.fetch_batch().await? {
                    return Ok(Some(batch));
                }
            }
            self.scan = None;
            let Some(folder) = self.round.as_mut().and_then(VecDeque::pop_front) else {
                self.round = None;
                return Ok(None);
            };
            self.scan = Some(self.scan_folder(folder).await?);
        }
    }

    async fn finish(&mut self, done: Committed) -> Result<(), SourceError> {
        if self.after == After::Leave {
            return Ok(());
        }
        let uids: Vec<u32> = done
            .locators
            .iter()
            .filter_map(|l| match l {
                Locator::Uid(uid) => Some(*uid),
                Locator::File(_) => None,
            })
            .collect();
        if uids.is_empty() {
            return Ok(());
        }
        self.ensure_session().await?;
        self.ensure_selected(&done.folder).await?;
        self.apply_after(&uids).await
    }

    async fn wait_for_mail(&mut self, shutdown: &mut Shutdown) -> Result<Wake, SourceError> {
        self.ensure_session().await?;
        let Some(first) = self.folders.first().cloned() else {
            return Ok(Wake::Stopped);
        };
        if !self.idle_capable {
            let woke = tokio::select! {
                _ = tokio::time::sleep(self.poll) => Wake::MaybeNewMail,
                _ = shutdown.stopped() => Wake::Stopped,
            };
            return Ok(woke);
        }
        self.ensure_selected(&first).await?;
        // Mail delivered between the last look and IDLE is announced before IDLE starts,
        // and IDLE does not announce it again: ask now, and read it at once.
        if self.mail_announced().await? {
            self.live = true;
            return Ok(Wake::MaybeNewMail);
        }
        // IDLE watches one folder; with several, come back at the poll interval for the
        // others.
        let limit = if self.folders.len() > 1 {
            self.idle.min(self.poll)
        } else {
            self.idle
        };
        self.idle_wait(shutdown, limit).await
    }

    fn backlog(&self) -> usize {
        self.scan.as_ref().map_or(0, |s| s.pending.len())
    }

    async fn disconnect(&mut self) {
        if let Some(mut session) = self.session.take() {
            // A polite LOGOUT when the connection still answers; never wait long for it.
            let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
        }
        self.selected = None;
        self.live = false;
        self.round = None;
        self.scan = None;
        self.caught_up.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compressed_into_ranges() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8, 9]), "1:3,5,7:9");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[9, 8, 8, 1]), "1,8:9");
    }

    #[test]
    fn folder_names_are_quoted() {
        assert_eq!(quote("Filed \"x\""), "\"Filed \\\"x\\\"\"");
    }
}
