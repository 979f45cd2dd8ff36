//! Settings: the TOML file, its environment overrides, defaults, and validation.
//!
//! Where a value comes from, in order of precedence: `MINUTED__SECTION__KEY` variables,
//! `DATABASE_URL` (for `database.url`), the file named by `--config` or `MINUTED_CONFIG`,
//! and the embedded defaults (which make `minuted run` work with no file at all).
//! Unknown keys are errors wherever they come from. Secrets are [`Secret`] and never
//! appear in `Debug` output or logs.
//!
//! This module does not open connections or files other than the config file itself.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod check;

/// A value that must not be printed: passwords, the approval key, a database URL that may
/// carry a password.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Private database cluster, spool and state live here.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub board: BoardSettings,
    #[serde(default)]
    pub database: DatabaseSettings,
    #[serde(default)]
    pub mailbox: MailboxSettings,
    #[serde(default)]
    pub outgoing: OutgoingSettings,
    #[serde(default)]
    pub templates: TemplatesSettings,
    #[serde(default)]
    pub approval: ApprovalSettings,
    #[serde(default)]
    pub daemon: DaemonSettings,
    #[serde(default)]
    pub filing: FilingSettings,
    #[serde(default)]
    pub schedule: ScheduleSettings,
    #[serde(default)]
    pub secrets: SecretsSettings,
    #[serde(default)]
    pub alerts: AlertsSettings,
    #[serde(default)]
    pub http: HttpSettings,
    #[serde(default)]
    pub digest: DigestSettings,
    #[serde(default)]
    pub retention: RetentionSettings,
}

/// How long each class of record is kept, in days from when it was made (0: for ever).
/// What has expired is removed by a daily run, except what a legal hold covers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Whether the daemon removes what has expired, once a day.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Messages (raw bytes, bodies, attachments) by what they were filed as, unless
    /// `kinds` says otherwise.
    #[serde(default = "default_six_years")]
    pub message_days: u32,
    /// Per filing kind, e.g. `{ auto_reply = 365, bounce = 365 }`.
    #[serde(default = "default_kind_days")]
    pub kinds: std::collections::BTreeMap<String, u32>,
    /// Mail not for the board: filed `unrelated`, or quarantined.
    #[serde(default = "default_unrelated_days")]
    pub unrelated_days: u32,
    /// The rendered bodies of outgoing mail that is done with (sent, failed, bounced,
    /// expired).
    #[serde(default = "default_six_years")]
    pub outbox_days: u32,
    /// Minutes revisions that were not approved.
    #[serde(default = "default_six_years")]
    pub revision_days: u32,
    /// Approved minutes (and the messages that brought them): a public record, kept for
    /// ever by default.
    #[serde(default)]
    pub approved_minutes_days: u32,
    /// Audit events.
    #[serde(default = "default_six_years")]
    pub event_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            enabled: true,
            message_days: default_six_years(),
            kinds: default_kind_days(),
            unrelated_days: default_unrelated_days(),
            outbox_days: default_six_years(),
            revision_days: default_six_years(),
            approved_minutes_days: 0,
            event_days: default_six_years(),
        }
    }
}

fn default_six_years() -> u32 {
    6 * 365
}

fn default_unrelated_days() -> u32 {
    90
}

fn default_kind_days() -> std::collections::BTreeMap<String, u32> {
    [("auto_reply".to_owned(), 365), ("bounce".to_owned(), 365)]
        .into_iter()
        .collect()
}

/// The daemon's HTTP server: health, metrics and the secretariat's status page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Address and port to listen on, e.g. "127.0.0.1:8025"; no server when absent. The
    /// status page shows personal data: keep it on loopback behind a TLS reverse proxy.
    pub listen: Option<String>,
    /// How long a status-page sign-in lasts.
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            listen: None,
            session_hours: default_session_hours(),
        }
    }
}

impl HttpSettings {
    /// `listen` as a socket address (None when absent or invalid: `validate` refuses the
    /// latter).
    pub fn listen_addr(&self) -> Option<std::net::SocketAddr> {
        self.listen.as_deref().and_then(|l| l.trim().parse().ok())
    }
}

fn default_session_hours() -> u32 {
    12
}

/// The secretariat's daily digest: what arrived, what waits, what failed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSettings {
    /// Whether the daemon's schedule sends it at all.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Time of day (HH:MM, the board's local time) it goes, when there is something to say.
    #[serde(default = "default_digest_time")]
    pub time: String,
}

impl Default for DigestSettings {
    fn default() -> Self {
        DigestSettings {
            enabled: true,
            time: default_digest_time(),
        }
    }
}

impl DigestSettings {
    /// `time` as a time of day (midnight if invalid: `validate` refuses that).
    pub fn time(&self) -> chrono::NaiveTime {
        parse_time_of_day(&self.time).unwrap_or_default()
    }
}

fn default_digest_time() -> String {
    "08:00".to_owned()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSettings {
    /// Key the stored sign-in tokens are encrypted with (at least 32 characters); the
    /// approval key when absent.
    pub key: Option<Secret>,
}

/// When the secretariat is emailed that mail has stopped.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSettings {
    /// The mailbox has not been read for this long.
    #[serde(default = "default_alert_minutes")]
    pub mailbox_minutes: u32,
    /// Outgoing mail has failed for this long.
    #[serde(default = "default_alert_minutes")]
    pub outgoing_minutes: u32,
}

impl Default for AlertsSettings {
    fn default() -> Self {
        AlertsSettings {
            mailbox_minutes: default_alert_minutes(),
            outgoing_minutes: default_alert_minutes(),
        }
    }
}

fn default_alert_minutes() -> u32 {
    30
}

/// How a mailbox or the submission server is signed in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    #[default]
    Password,
    Oauth2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OAuthProvider {
    Microsoft365,
    Google,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthFlow {
    /// App-only access with the client's secret.
    #[default]
    ClientCredentials,
    /// Delegated access: a person signs in once with `minuted auth login`.
    DeviceCode,
}

/// The SASL mechanism IMAP signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaslMechanism {
    Xoauth2,
    Oauthbearer,
}

/// OAuth 2.0 sign-in (`mailbox.oauth2`, `outgoing.oauth2`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Settings {
    pub provider: OAuthProvider,
    /// Microsoft 365: the directory (tenant) name or id.
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    #[serde(default)]
    pub flow: OAuthFlow,
    /// The token endpoint; the provider's when absent (required for `custom`).
    pub token_url: Option<String>,
    /// The device-authorization endpoint for `device_code`; the provider's when absent.
    pub device_authorization_url: Option<String>,
    /// Space-separated scopes; the provider's default for the flow when absent.
    pub scope: Option<String>,
    /// IMAP only: `xoauth2` or `oauthbearer`; by default XOAUTH2 when the server offers
    /// it, else OAUTHBEARER.
    pub mechanism: Option<SaslMechanism>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardSettings {
    /// Registry file imported at the start of `run` (same format as `board import`).
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Absent: minuted runs its own PostgreSQL cluster in `data_dir/postgres`.
    pub url: Option<Secret>,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: None,
            max_connections: default_max_connections(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailboxSource {
    Maildir,
    Imap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    Tls,
    Starttls,
    Plain,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSettings {
    #[serde(default = "default_mailbox_source")]
    pub source: MailboxSource,
    /// Maildir root (with `new/`, `cur/`, `tmp/`).
    #[serde(default = "default_inbox_path")]
    pub path: PathBuf,
    pub host: Option<String>,
    pub port: Option<u16>,
    #[serde(default = "default_tls")]
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `password` (default) or `oauth2` (with `[mailbox.oauth2]`).
    #[serde(default)]
    pub auth: AuthKind,
    pub oauth2: Option<OAuth2Settings>,
    #[serde(default = "default_folders")]
    pub folders: Vec<String>,
    /// What to do with a message once it is safely stored: `seen`, `leave` or `move:Folder`.
    #[serde(default = "default_after")]
    pub after: String,
    /// Larger messages are recorded with their headers only.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: u64,
    /// PEM file of extra certificate authorities trusted for the IMAP server's certificate,
    /// beside the built-in web PKI roots (a private CA, or a test server's).
    pub tls_ca_file: Option<PathBuf>,
    /// How often a mailbox without IDLE (and a Maildir) is checked for new mail.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// Longest an IMAP IDLE lasts before it is ended and re-issued: also how soon a
    /// connection that died silently is noticed (plus one command timeout).
    #[serde(default = "default_idle_seconds")]
    pub idle_seconds: u64,
    /// Longest any single IMAP command (connect, login, select, fetch of one batch) may
    /// take before the connection is dropped and re-opened.
    #[serde(default = "default_command_timeout_seconds")]
    pub command_timeout_seconds: u64,
}

impl Default for MailboxSettings {
    fn default() -> Self {
        MailboxSettings {
            source: default_mailbox_source(),
            path: default_inbox_path(),
            host: None,
            port: None,
            security: default_tls(),
            username: None,
            password: None,
            auth: AuthKind::Password,
            oauth2: None,
            folders: default_folders(),
            after: default_after(),
            max_message_bytes: default_max_message_bytes(),
            tls_ca_file: None,
            poll_seconds: default_poll_seconds(),
            idle_seconds: default_idle_seconds(),
            command_timeout_seconds: default_command_timeout_seconds(),
        }
    }
}

impl MailboxSettings {
    /// The configured port, or the usual one for the security mode.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Tls => 993,
            Security::Starttls | Security::Plain => 143,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    File,
    Smtp,
    Sendmail,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutgoingSettings {
    #[serde(default = "default_transport")]
    pub transport: Transport,
    /// File transport: one `.eml` per message.
    #[serde(default = "default_outbox_path")]
    pub path: PathBuf,
    pub host: Option<String>,
    pub port: Option<u16>,
    #[serde(default = "default_starttls")]
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `password` (default) or `oauth2` (with `[outgoing.oauth2]`).
    #[serde(default)]
    pub auth: AuthKind,
    pub oauth2: Option<OAuth2Settings>,
    /// The From of everything minuted sends.
    #[serde(default = "default_from")]
    pub from: String,
    /// At most this many messages in flight at once (and SMTP connections open) per
    /// process.
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// At most this many messages handed to the transport per minute, counted across every
    /// process sharing the database; 0 means no limit. Submission services often impose
    /// one: with `oauth2.provider = "microsoft365"` it defaults to Exchange Online's 30.
    pub rate_per_minute: Option<u32>,
    /// A message that still fails transiently this long after it was queued is failed and
    /// the secretariat told.
    #[serde(default = "default_max_retry_hours")]
    pub max_retry_hours: u32,
    /// How long a worker owns the rows it took; another process takes them over after this
    /// (and treats their outcome as unknown), so it must comfortably exceed a batch's send.
    #[serde(default = "default_lease_seconds")]
    pub lease_seconds: u32,
    /// Limit on each step of an SMTP conversation (connect, each command, the data).
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u32,
    /// Extra CA certificate (PEM) trusted for the SMTP server, e.g. a private CA.
    pub tls_ca_file: Option<PathBuf>,
    /// sendmail transport: the program and its arguments, split on whitespace.
    #[serde(default = "default_sendmail_command")]
    pub sendmail_command: String,
}

impl OutgoingSettings {
    /// Messages per minute, 0 for no limit: the configured rate, else Exchange Online's
    /// limit (30) when signing in to Microsoft 365, else none.
    pub fn rate_per_minute(&self) -> u32 {
        self.rate_per_minute.unwrap_or_else(|| {
            let microsoft = self.auth == AuthKind::Oauth2
                && self
                    .oauth2
                    .as_ref()
                    .is_some_and(|o| o.provider == OAuthProvider::Microsoft365);
            if microsoft {
                30
            } else {
                0
            }
        })
    }
}

impl Default for OutgoingSettings {
    fn default() -> Self {
        OutgoingSettings {
            transport: default_transport(),
            path: default_outbox_path(),
            host: None,
            port: None,
            security: default_starttls(),
            username: None,
            password: None,
            auth: AuthKind::Password,
            oauth2: None,
            from: default_from(),
            concurrency: default_concurrency(),
            rate_per_minute: None,
            max_retry_hours: default_max_retry_hours(),
            lease_seconds: default_lease_seconds(),
            timeout_seconds: default_timeout_seconds(),
            tls_ca_file: None,
            sendmail_command: default_sendmail_command(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatesSettings {
    /// Directory of operator overrides: any file named like one in `templates/` replaces
    /// the embedded default.
    pub dir: Option<PathBuf>,
}

impl AsRef<ApprovalSettings> for Settings {
    fn as_ref(&self) -> &ApprovalSettings {
        &self.approval
    }
}

impl AsRef<ApprovalSettings> for ApprovalSettings {
    fn as_ref(&self) -> &ApprovalSettings {
        self
    }
}

impl AsRef<FilingSettings> for Settings {
    fn as_ref(&self) -> &FilingSettings {
        &self.filing
    }
}

impl AsRef<FilingSettings> for FilingSettings {
    fn as_ref(&self) -> &FilingSettings {
        self
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSettings {
    /// HMAC key for reply tokens; at least 32 characters.
    pub secret: Option<Secret>,
    /// Whether the chair must approve minutes too, besides the secretariat.
    #[serde(default)]
    pub require_chair: bool,
    /// Whether an approval reply must be authenticated for its From domain (DKIM or
    /// DMARC pass in our own server's Authentication-Results).
    #[serde(default)]
    pub require_dkim: bool,
    /// The authserv-id our mail server writes in Authentication-Results (usually its
    /// host name); only those fields are believed.
    pub authserv_id: Option<String>,
    /// How long an approval request's reply token stays valid.
    #[serde(default = "default_token_days")]
    pub token_days: u32,
    /// How long circulation is held after an approval, for the approver to reply UNDO.
    #[serde(default = "default_undo_minutes")]
    pub undo_minutes: u32,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalSettings {
            secret: None,
            require_chair: false,
            require_dkim: false,
            authserv_id: None,
            token_days: default_token_days(),
            undo_minutes: default_undo_minutes(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSettings {
    /// How long `run` waits for its workers to finish after SIGINT/SIGTERM.
    #[serde(default = "default_shutdown_grace_seconds")]
    pub shutdown_grace_seconds: u64,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        DaemonSettings {
            shutdown_grace_seconds: default_shutdown_grace_seconds(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilingSettings {
    /// Messages decided with less confidence than this go to the triage queue.
    #[serde(default = "default_threshold")]
    pub threshold: f32,
}

impl Default for FilingSettings {
    fn default() -> Self {
        FilingSettings {
            threshold: default_threshold(),
        }
    }
}

/// When the persistent schedule asks for updates, chases and compiles the meeting pack.
/// Times of day are the board's local time (its registry `timezone`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    /// Whether the daemon runs the schedule at all (`schedule run --once` always does).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Update requests go this many days before the meeting.
    #[serde(default = "default_update_request_days")]
    pub update_request_days: u32,
    /// Chasers go this many days before the papers deadline.
    #[serde(default = "default_chaser_days")]
    pub chaser_days: u32,
    /// Invitations (iCalendar) go to members this many days before the meeting, at
    /// `send_time`; at once for a meeting added later.
    #[serde(default = "default_invitation_days")]
    pub invitation_days: u32,
    /// For a board with a quorum, the secretariat is told from this many days before a
    /// meeting (at `send_time`) if apologies put it at risk.
    #[serde(default = "default_quorum_days")]
    pub quorum_days: u32,
    /// Time of day (HH:MM, the board's local time) update requests and chasers go.
    #[serde(default = "default_send_time")]
    pub send_time: String,
    /// Time of day (HH:MM, the board's local time) on the papers-deadline day the meeting pack is compiled;
    /// updates are accepted until then.
    #[serde(default = "default_pack_time")]
    pub pack_time: String,
    /// The papers deadline of a meeting that names none: this many days before it.
    #[serde(default = "default_papers_deadline_days")]
    pub papers_deadline_days: u32,
    /// How often the daemon plans and fires what is due.
    #[serde(default = "default_tick_seconds")]
    pub tick_seconds: u64,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        ScheduleSettings {
            enabled: true,
            update_request_days: default_update_request_days(),
            chaser_days: default_chaser_days(),
            invitation_days: default_invitation_days(),
            quorum_days: default_quorum_days(),
            send_time: default_send_time(),
            pack_time: default_pack_time(),
            papers_deadline_days: default_papers_deadline_days(),
            tick_seconds: default_tick_seconds(),
        }
    }
}

impl ScheduleSettings {
    /// `send_time` as a time of day (midnight if invalid: `validate` refuses that).
    pub fn send_time(&self) -> chrono::NaiveTime {
        parse_time_of_day(&self.send_time).unwrap_or_default()
    }

    /// `pack_time` as a time of day (midnight if invalid: `validate` refuses that).
    pub fn pack_time(&self) -> chrono::NaiveTime {
        parse_time_of_day(&self.pack_time).unwrap_or_default()
    }
}

/// The problems of one account's OAuth 2.0 settings (`section` is `mailbox` or
/// `outgoing`).
fn check_oauth2(
    section: &str,
    auth: AuthKind,
    oauth2: Option<&OAuth2Settings>,
    problem: &mut impl FnMut(&str, String),
) {
    if auth != AuthKind::Oauth2 {
        return;
    }
    let Some(o) = oauth2 else {
        problem(
            &format!("{section}.oauth2"),
            format!("required with {section}.auth = \"oauth2\": provider, client_id and the flow"),
        );
        return;
    };
    let key = |k: &str| format!("{section}.oauth2.{k}");
    if o.client_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
        problem(
            &key("client_id"),
            "required: the application (client) id".into(),
        );
    }
    match o.provider {
        OAuthProvider::Microsoft365 if o.tenant.is_none() && o.token_url.is_none() => problem(
            &key("tenant"),
            "required for microsoft365: the directory name (contoso.onmicrosoft.com) or id".into(),
        ),
        OAuthProvider::Google if o.flow == OAuthFlow::ClientCredentials => problem(
            &key("flow"),
            "Google issues app-only Gmail tokens only to service accounts (a signed JWT), \
             which minuted does not do: use flow = \"device_code\""
                .into(),
        ),
        OAuthProvider::Custom if o.token_url.is_none() => problem(
            &key("token_url"),
            "required for provider = \"custom\"".into(),
        ),
        OAuthProvider::Custom
            if o.flow == OAuthFlow::DeviceCode && o.device_authorization_url.is_none() =>
        {
            problem(
                &key("device_authorization_url"),
                "required for provider = \"custom\" with flow = \"device_code\"".into(),
            )
        }
        _ => {}
    }
    if o.flow == OAuthFlow::ClientCredentials && o.client_secret.is_none() {
        problem(
            &key("client_secret"),
            format!(
                "required with flow = \"client_credentials\" (or set MINUTED__{}__OAUTH2__CLIENT_SECRET)",
                section.to_uppercase()
            ),
        );
    }
    for (k, url) in [
        ("token_url", &o.token_url),
        ("device_authorization_url", &o.device_authorization_url),
    ] {
        if let Some(url) = url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                problem(&key(k), format!("\"{url}\" is not an http(s) URL"));
            }
        }
    }
}

fn parse_time_of_day(text: &str) -> Option<chrono::NaiveTime> {
    chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

fn default_true() -> bool {
    true
}
fn default_update_request_days() -> u32 {
    10
}
fn default_chaser_days() -> u32 {
    2
}
fn default_invitation_days() -> u32 {
    28
}
fn default_quorum_days() -> u32 {
    3
}
fn default_send_time() -> String {
    "09:00".to_owned()
}
fn default_pack_time() -> String {
    "17:00".to_owned()
}
fn default_papers_deadline_days() -> u32 {
    7
}
fn default_tick_seconds() -> u64 {
    60
}

fn default_threshold() -> f32 {
    crate::filing::DEFAULT_THRESHOLD
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./var")
}
fn default_max_connections() -> u32 {
    10
}
fn default_mailbox_source() -> MailboxSource {
    MailboxSource::Maildir
}
fn default_inbox_path() -> PathBuf {
    PathBuf::from("./mail/inbox")
}
fn default_tls() -> Security {
    Security::Tls
}
fn default_starttls() -> Security {
    Security::Starttls
}
fn default_folders() -> Vec<String> {
    vec!["INBOX".to_owned()]
}
fn default_after() -> String {
    "seen".to_owned()
}
fn default_max_message_bytes() -> u64 {
    50 * 1024 * 1024
}
fn default_poll_seconds() -> u64 {
    5
}
fn default_idle_seconds() -> u64 {
    240
}
fn default_command_timeout_seconds() -> u64 {
    60
}
fn default_transport() -> Transport {
    Transport::File
}
fn default_outbox_path() -> PathBuf {
    PathBuf::from("./mail/outbox")
}
fn default_from() -> String {
    "LCJB Secretariat <lcjb@board.example>".to_owned()
}
fn default_token_days() -> u32 {
    14
}
fn default_undo_minutes() -> u32 {
    10
}
fn default_concurrency() -> u32 {
    4
}
fn default_max_retry_hours() -> u32 {
    48
}
fn default_lease_seconds() -> u32 {
    600
}
fn default_timeout_seconds() -> u32 {
    30
}
fn default_sendmail_command() -> String {
    "/usr/sbin/sendmail".to_owned()
}
fn default_shutdown_grace_seconds() -> u64 {
    8
}

/// Where the settings came from, for logs and `check-config`.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub settings: Settings,
    /// The config file read, if any.
    pub file: Option<PathBuf>,
    /// Names of the environment variables that overrode a key.
    pub overrides: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("invalid settings:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// One thing wrong with valid-looking settings: which key, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

const ENV_PREFIX: &str = "MINUTED__";

/// Loads settings from `file` (or none), then applies `env` overrides. `env` is passed in
/// rather than read here so tests can give their own.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    let (mut table, file) = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            let table = parse_file(path, &text)?;
            (table, Some(path.to_owned()))
        }
        None => (toml::Table::new(), None),
    };

    let mut overrides = Vec::new();
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX) || k == "DATABASE_URL")
        .collect();
    // `MINUTED__DATABASE__URL` wins over `DATABASE_URL`: the more specific name.
    vars.sort_by_key(|(k, _)| k != "DATABASE_URL");
    for (var, value) in vars {
        let path: Vec<String> = if var == "DATABASE_URL" {
            vec!["database".into(), "url".into()]
        } else {
            var[ENV_PREFIX.len()..]
                .split("__")
                .map(|part| part.to_ascii_lowercase())
                .collect()
        };
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Env {
                var,
                message: format!("expected {ENV_PREFIX}SECTION__KEY or {ENV_PREFIX}KEY"),
            });
        }
        set_path(&mut table, &path, env_value(&value)).map_err(|message| ConfigError::Env {
            var: var.clone(),
            message,
        })?;
        overrides.push(var);
    }

    let settings: Settings = toml::Value::Table(table).try_into().map_err(|err| {
        let message = toml_message(&err);
        match (&file, overrides.is_empty()) {
            (Some(path), true) => ConfigError::File {
                path: path.clone(),
                message,
            },
            (None, true) => ConfigError::File {
                path: PathBuf::from("(defaults)"),
                message,
            },
            _ => ConfigError::Env {
                var: overrides.join(", "),
                message,
            },
        }
    })?;
    Ok(Loaded {
        settings,
        file,
        overrides,
    })
}

/// Parses the file and checks it against [`Settings`] on its own, so an unknown key or a
/// wrong type in the file is reported with its line and column.
fn parse_file(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    let located = |err: toml::de::Error| {
        let (line, column) = err
            .span()
            .map(|span| line_column(text, span.start))
            .unwrap_or((1, 1));
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: toml_message(&err),
        }
    };
    toml::from_str::<Settings>(text).map_err(located)?;
    toml::from_str::<toml::Table>(text).map_err(located)
}

/// toml's messages carry a multi-line snippet; the first line is the useful part.
fn toml_message(err: &toml::de::Error) -> String {
    err.message().trim().to_owned()
}

/// 1-based line and column of byte offset `at` in `text`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// An override's value is read as a TOML value when it is one (`993`, `true`,
/// `["INBOX", "Updates"]`), otherwise as a plain string.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("empty key".into());
    };
    let mut current = table;
    for part in parents {
        let entry = current
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(format!("`{part}` is not a section")),
        };
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str, env: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("minuted.toml");
        std::fs::write(&path, text).unwrap();
        load(
            Some(&path),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn the_http_listen_address_and_the_digest_time_are_checked() {
        let settings = load_str("", &[]).unwrap().settings;
        assert_eq!(settings.http.listen_addr(), None);
        assert_eq!(settings.digest.time().to_string(), "08:00:00");
        let loaded = load_str(
            "[http]\nlisten = \"127.0.0.1:8025\"\n",
            &[("MINUTED__DIGEST__TIME", "07:30")],
        )
        .unwrap();
        assert_eq!(
            loaded.settings.http.listen_addr(),
            Some("127.0.0.1:8025".parse().unwrap())
        );
        assert_eq!(loaded.settings.digest.time().to_string(), "07:30:00");
        let err = load_str(
            "[http]\nlisten = \"localhost\"\nsession_hours = 0\n[digest]\ntime = \"8am\"\n",
            &[],
        )
        .unwrap()
        .settings
        .validate()
        .unwrap_err()
        .to_string();
        for key in ["http.listen", "http.session_hours", "digest.time"] {
            assert!(err.contains(key), "{key} in {err}");
        }
    }

    #[test]
    fn oauth2_settings_are_checked_per_provider_and_the_secret_can_come_from_the_environment() {
        let text = "[mailbox]\nsource = \"imap\"\nhost = \"outlook.office365.com\"\n\
                    username = \"lcjb@contoso.example\"\nauth = \"oauth2\"\n\
                    [mailbox.oauth2]\nprovider = \"microsoft365\"\n\
                    tenant = \"contoso.onmicrosoft.com\"\nclient_id = \"app\"\n\
                    [outgoing]\ntransport = \"smtp\"\nhost = \"smtp.office365.com\"\n\
                    username = \"lcjb@contoso.example\"\nauth = \"oauth2\"\n\
                    [outgoing.oauth2]\nprovider = \"microsoft365\"\n\
                    tenant = \"contoso.onmicrosoft.com\"\nclient_id = \"app\"\n\
                    client_secret = \"s\"\n";
        // No password is needed with oauth2, but client credentials need the secret.
        let loaded = load_str(text, &[]).unwrap();
        let err = loaded.settings.validate().unwrap_err().to_string();
        assert!(err.contains("mailbox.oauth2.client_secret"), "{err}");
        assert!(!err.contains("mailbox.password"), "{err}");
        let loaded = load_str(
            text,
            &[("MINUTED__MAILBOX__OAUTH2__CLIENT_SECRET", "from-env")],
        )
        .unwrap();
        loaded.settings.validate().unwrap();
        let oauth2 = loaded.settings.mailbox.oauth2.as_ref().unwrap();
        assert_eq!(oauth2.client_secret.as_ref().unwrap().expose(), "from-env");
        // Exchange Online's limit is the default rate with Microsoft 365.
        assert_eq!(loaded.settings.outgoing.rate_per_minute(), 30);
        assert_eq!(OutgoingSettings::default().rate_per_minute(), 0);

        for (from, to, key) in [
            ("tenant = \"contoso.onmicrosoft.com\"\nclient_id = \"app\"\n[outgoing]", "client_id = \"app\"\n[outgoing]", "mailbox.oauth2.tenant"),
            ("provider = \"microsoft365\"\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"app\"\n[outgoing]", "provider = \"google\"\nclient_id = \"app\"\n[outgoing]", "mailbox.oauth2.flow"),
            ("provider = \"microsoft365\"\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"app\"\n[outgoing]", "provider = \"custom\"\nclient_id = \"app\"\n[outgoing]", "mailbox.oauth2.token_url"),
            ("username = \"lcjb@contoso.example\"\nauth = \"oauth2\"\n[outgoing.oauth2]", "auth = \"oauth2\"\n[outgoing.oauth2]", "outgoing.username"),
        ] {
            assert!(text.contains(from), "{from}");
            let loaded = load_str(&text.replacen(from, to, 1), &[("MINUTED__MAILBOX__OAUTH2__CLIENT_SECRET", "x")]).unwrap();
            let err = loaded.settings.validate().unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn no_file_gives_the_embedded_defaults() {
        let loaded = load(None, Vec::new()).unwrap();
        let s = loaded.settings;
        assert_eq!(s.data_dir, PathBuf::from("./var"));
        assert!(s.database.url.is_none());
        assert_eq!(s.mailbox.source, MailboxSource::Maildir);
        assert_eq!(s.mailbox.path, PathBuf::from("./mail/inbox"));
        assert_eq!(s.outgoing.transport, Transport::File);
        assert_eq!(s.outgoing.path, PathBuf::from("./mail/outbox"));
        s.validate().unwrap();
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_line_and_column() {
        let err = load_str("data_dir = \"x\"\n[mailbox]\nfoldrs = [\"INBOX\"]\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(":3:1:"), "{err}");
        assert!(err.contains("foldrs"), "{err}");
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let err = load_str("[mailbox\npath = 1\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("minuted.toml:1:"), "{err}");
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let err = load_str("[mailbox]\nport = \"imap\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2:8:"), "{err}");
    }

    #[test]
    fn environment_overrides_win_over_the_file() {
        let loaded = load_str(
            "[mailbox]\nport = 143\n[database]\nurl = \"postgres://file/db\"\n",
            &[
                ("MINUTED__MAILBOX__PORT", "993"),
                ("MINUTED__MAILBOX__FOLDERS", "[\"INBOX\", \"Updates\"]"),
                ("MINUTED__DATA_DIR", "/srv/minuted"),
                ("DATABASE_URL", "postgres://env/db"),
                ("UNRELATED", "x"),
            ],
        )
        .unwrap();
        let s = loaded.settings;
        assert_eq!(s.mailbox.port, Some(993));
        assert_eq!(s.mailbox.folders, vec!["INBOX", "Updates"]);
        assert_eq!(s.data_dir, PathBuf::from("/srv/minuted"));
        assert_eq!(s.database.url.unwrap().expose(), "postgres://env/db");
    }

    #[test]
    fn the_specific_database_override_wins_over_database_url() {
        let loaded = load(
            None,
            [
                (
                    "MINUTED__DATABASE__URL".to_string(),
                    "postgres://a/b".to_string(),
                ),
                ("DATABASE_URL".to_string(), "postgres://c/d".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(
            loaded.settings.database.url.unwrap().expose(),
            "postgres://a/b"
        );
    }

    #[test]
    fn an_unknown_override_names_the_variable() {
        let err = load(
            None,
            [("MINUTED__MAILBOX__HOSTNAME".to_string(), "x".to_string())],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("MINUTED__MAILBOX__HOSTNAME"), "{err}");
        assert!(err.contains("hostname"), "{err}");
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let loaded = load_str(
            "[mailbox]\npassword = \"hunter2-imap\"\n[approval]\nsecret = \"0123456789abcdef0123456789abcdef-key\"\n[database]\nurl = \"postgres://u:pw-db@h/d\"\n",
            &[],
        )
        .unwrap();
        let debug = format!("{:?}", loaded.settings);
        for secret in ["hunter2-imap", "abcdef-key", "pw-db"] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn validation_names_each_key_and_what_to_do() {
        let loaded = load_str(
            "[mailbox]\nsource = \"imap\"\nafter = \"delete\"\n[outgoing]\ntransport = \"smtp\"\nfrom = \"not an address\"\n[approval]\nsecret = \"short\"\n",
            &[],
        )
        .unwrap();
        let Err(ConfigError::Invalid(problems)) = loaded.settings.validate() else {
            panic!("expected problems");
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        for key in [
            "mailbox.host",
            "mailbox.username",
            "mailbox.password",
            "mailbox.after",
            "outgoing.host",
            "outgoing.from",
            "approval.secret",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
    }

    #[test]
    fn the_filing_threshold_defaults_to_seven_tenths_and_must_be_a_fraction() {
        let loaded = load(None, Vec::new()).unwrap();
        assert_eq!(loaded.settings.filing.threshold, 0.7);
        for bad in ["0", "1.5", "-0.2", "nan"] {
            let loaded = load_str(&format!("[filing]\nthreshold = {bad}\n"), &[]).unwrap();
            let Err(ConfigError::Invalid(problems)) = loaded.settings.validate() else {
                panic!("{bad} accepted");
            };
            assert_eq!(problems[0].key, "filing.threshold", "{bad}");
        }
        let loaded = load(
            None,
            [("MINUTED__FILING__THRESHOLD".to_string(), "0.85".to_string())],
        )
        .unwrap();
        assert_eq!(loaded.settings.filing.threshold, 0.85);
    }

    #[test]
    fn approval_keys_have_defaults_and_are_checked() {
        let loaded = load(None, Vec::new()).unwrap();
        let approval = &loaded.settings.approval;
        assert!(!approval.require_chair && !approval.require_dkim);
        assert_eq!((approval.token_days, approval.undo_minutes), (14, 10));
        let loaded = load_str(
            "[approval]\nrequire_dkim = true\ntoken_days = 0\nundo_minutes = 5000\n",
            &[],
        )
        .unwrap();
        let Err(ConfigError::Invalid(problems)) = loaded.settings.validate() else {
            panic!("expected problems");
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "approval.token_days",
                "approval.undo_minutes",
                "approval.authserv_id"
            ]
        );
        let loaded = load_str(
            "[approval]\nrequire_dkim = true\nauthserv_id = \"mx.board.example\"\n",
            &[],
        )
        .unwrap();
        loaded.settings.validate().unwrap();
    }

    #[test]
    fn schedule_keys_have_defaults_and_are_checked() {
        let settings = load_str("", &[]).unwrap().settings;
        assert!(settings.schedule.enabled);
        assert_eq!(settings.schedule.update_request_days, 10);
        assert_eq!(settings.schedule.chaser_days, 2);
        assert_eq!(settings.schedule.papers_deadline_days, 7);
        assert_eq!(settings.schedule.tick_seconds, 60);
        assert_eq!(settings.schedule.send_time().to_string(), "09:00:00");
        assert_eq!(settings.schedule.pack_time().to_string(), "17:00:00");
        let bad = load_str(
            "[schedule]\nsend_time = \"9am\"\ntick_seconds = 0\nchaser_days = 400\n",
            &[],
        )
        .unwrap()
        .settings
        .validate()
        .unwrap_err()
        .to_string();
        for key in [
            "schedule.send_time",
            "schedule.tick_seconds",
            "schedule.chaser_days",
        ] {
            assert!(bad.contains(key), "{key} in {bad}");
        }
    }

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    #[test]
    fn the_documented_example_config_loads_and_validates() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/minuted.example.toml");
        let loaded = load(Some(&path), Vec::new()).unwrap();
        loaded.settings.validate().unwrap();
        assert_eq!(
            loaded.settings.board.file.as_deref(),
            Some(Path::new("deploy/examples/lcjb.toml"))
        );
    }

    #[test]
    fn every_settings_key_is_documented_in_the_example_config() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/minuted.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let keys = [
            "data_dir",
            "[board]",
            "file",
            "[database]",
            "url",
            "max_connections",
            "[mailbox]",
            "source",
            "path",
            "host",
            "port",
            "security",
            "username",
            "password",
            "folders",
            "after",
            "max_message_bytes",
            "tls_ca_file",
            "poll_seconds",
            "idle_seconds",
            "command_timeout_seconds",
            "[outgoing]",
            "transport",
            "from",
            "concurrency",
            "rate_per_minute",
            "max_retry_hours",
            "lease_seconds",
            "timeout_seconds",
            "tls_ca_file",
            "sendmail_command",
            "[templates]",
            "dir",
            "[approval]",
            "secret",
            "require_chair",
            "require_dkim",
            "authserv_id",
            "token_days",
            "undo_minutes",
            "[daemon]",
            "shutdown_grace_seconds",
            "[filing]",
            "threshold",
        ];
        for key in keys {
            let documented = text.lines().any(|line| {
                let line = line.trim_start_matches(['#', ' ']);
                line.starts_with(&format!("{key} ="))
                    || line.starts_with(key) && key.starts_with('[')
            });
            assert!(documented, "{key} is not in deploy/minuted.example.toml");
        }
    }
}
