//! OAuth 2.0 sign-in for the mailbox and the submission server: Microsoft 365, Google
//! Workspace, or any provider with the standard endpoints.
//!
//! - [`Endpoints`]: what a provider's settings resolve to (token and device URLs, the
//!   scope for the flow).
//! - [`TokenSource`]: an account's current access token. It is taken from the database
//!   while it has more than [`EARLY_REFRESH`] to live; otherwise refreshed (client
//!   credentials, or the stored refresh token), the row locked meanwhile so that one
//!   process refreshes and the others read what it stored. A rotated refresh token is
//!   stored in the same statement as the access token. A token the server refused is
//!   marked and never offered again.
//! - Tokens are sealed ([`seal`]) with a key derived from `secrets.key` or the approval
//!   key; they never reach a log.

pub mod flow;
pub mod sasl;
mod seal;

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::config::{OAuth2Settings, OAuthFlow, OAuthProvider, Settings};
use crate::store::tokens::{self, Minted};
pub use seal::Sealer;

/// An access token this close to its expiry is refreshed before use.
pub const EARLY_REFRESH: Duration = Duration::minutes(5);

/// The two accounts minuted signs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    Mailbox,
    Outgoing,
}

impl Account {
    pub fn as_str(self) -> &'static str {
        match self {
            Account::Mailbox => "mailbox",
            Account::Outgoing => "outgoing",
        }
    }

    /// The account's OAuth settings, when it signs in with OAuth 2.0.
    pub fn settings(self, settings: &Settings) -> Option<&OAuth2Settings> {
        use crate::config::AuthKind;
        let (auth, oauth2) = match self {
            Account::Mailbox => (settings.mailbox.auth, settings.mailbox.oauth2.as_ref()),
            Account::Outgoing => (settings.outgoing.auth, settings.outgoing.oauth2.as_ref()),
        };
        (auth == AuthKind::Oauth2).then_some(oauth2).flatten()
    }
}

impl std::str::FromStr for Account {
    type Err = String;

    fn from_str(text: &str) -> Result<Account, String> {
        match text {
            "mailbox" => Ok(Account::Mailbox),
            "outgoing" => Ok(Account::Outgoing),
            other => Err(format!(
                "\"{other}\" is not an account: mailbox or outgoing"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The provider could not be reached, or answered with a server error: later.
    #[error("the identity provider is unreachable: {0}")]
    Unreachable(String),
    /// The provider or the mail server refused our credentials or grant: a person must
    /// act (a revoked consent, an expired refresh token, a wrong secret).
    #[error("sign-in refused: {0}")]
    Refused(String),
    /// A device-code account nobody has signed in to yet, or whose grant was dropped.
    #[error("not signed in: run `minuted auth login {0}` on a terminal")]
    NotSignedIn(String),
    #[error("cannot read or store the sign-in tokens: {0}")]
    Store(String),
}

impl AuthError {
    /// Whether a person must act before sign-in can work again.
    pub fn needs_action(&self) -> bool {
        matches!(self, AuthError::Refused(_) | AuthError::NotSignedIn(_))
    }
}

impl From<crate::store::Error> for AuthError {
    fn from(err: crate::store::Error) -> AuthError {
        AuthError::Store(err.to_string())
    }
}

impl From<sqlx::Error> for AuthError {
    fn from(err: sqlx::Error) -> AuthError {
        AuthError::Store(err.to_string())
    }
}

/// A provider's settings resolved to URLs and a scope.
#[derive(Clone)]
pub struct Endpoints {
    pub provider: OAuthProvider,
    pub flow: OAuthFlow,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub token_url: String,
    pub device_authorization_url: Option<String>,
    pub scope: String,
}

impl Endpoints {
    /// `validate` has checked that what each provider needs is there.
    pub fn resolve(settings: &OAuth2Settings) -> Endpoints {
        let tenant = settings.tenant.as_deref().unwrap_or("common");
        let (token, device, scope) = match (settings.provider, settings.flow) {
            (OAuthProvider::Microsoft365, flow) => (
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"),
                Some(format!(
                    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode"
                )),
                match flow {
                    // App-only: the permissions granted to the app (IMAP.AccessAsApp,
                    // SMTP.SendAsApp).
                    OAuthFlow::ClientCredentials => {
                        "https://outlook.office365.com/.default".to_owned()
                    }
                    OAuthFlow::DeviceCode => "offline_access \
                        https://outlook.office365.com/IMAP.AccessAsUser.All \
                        https://outlook.office365.com/SMTP.Send"
                        .to_owned(),
                },
            ),
            (OAuthProvider::Google, _) => (
                "https://oauth2.googleapis.com/token".to_owned(),
                Some("https://oauth2.googleapis.com/device/code".to_owned()),
                "https://mail.google.com/".to_owned(),
            ),
            (OAuthProvider::Custom, _) => (String::new(), None, String::new()),
        };
        Endpoints {
            provider: settings.provider,
            flow: settings.flow,
            client_id: settings.client_id.clone().unwrap_or_default(),
            client_secret: settings
                .client_secret
                .as_ref()
                .map(|s| s.expose().to_owned()),
            token_url: settings.token_url.clone().unwrap_or(token),
            device_authorization_url: settings.device_authorization_url.clone().or(device),
            scope: settings.scope.clone().unwrap_or(scope),
        }
    }

    pub fn flow_name(&self) -> &'static str {
        match self.flow {
            OAuthFlow::ClientCredentials => "client_credentials",
            OAuthFlow::DeviceCode => "device_code",
        }
    }
}

/// The key stored tokens are sealed with: `secrets.key`, else the approval key.
pub fn sealer(settings: &Settings) -> anyhow::Result<Sealer> {
    let key = match &settings.secrets.key {
        Some(key) => key.expose().as_bytes().to_vec(),
        None => crate::approval::key::load_or_create(settings)?,
    };
    Ok(Sealer::new(&key))
}

/// Tokens expire on the provider's clock: the machine's time, whatever a rehearsal
/// clock says.
fn real_now() -> DateTime<Utc> {
    crate::clock::Clock::System.now()
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// One account's access tokens.
pub struct TokenSource {
    account: Account,
    endpoints: Endpoints,
    pool: PgPool,
    sealer: Sealer,
    http: reqwest::Client,
    /// The token last handed out and when it expires, so a healthy connection does not
    /// ask the database each time.
    cached: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl TokenSource {
    pub fn new(account: Account, settings: &OAuth2Settings, pool: PgPool, sealer: Sealer) -> Self {
        TokenSource {
            account,
            endpoints: Endpoints::resolve(settings),
            pool,
            sealer,
            http: flow::client(),
            cached: Mutex::new(None),
        }
    }

    /// The source for `account` when it signs in with OAuth 2.0.
    pub fn for_account(
        account: Account,
        settings: &Settings,
        pool: &PgPool,
    ) -> anyhow::Result<Option<std::sync::Arc<TokenSource>>> {
        let Some(oauth2) = account.settings(settings) else {
            return Ok(None);
        };
        Ok(Some(std::sync::Arc::new(TokenSource::new(
            account,
            oauth2,
            pool.clone(),
            sealer(settings)?,
        ))))
    }

    pub fn account(&self) -> Account {
        self.account
    }

    /// A token with more than [`EARLY_REFRESH`] to live, refreshing when needed. The
    /// cache stays locked while one caller refreshes: the others of this process wait
    /// for its token instead of each asking the database and the provider.
    pub async fn access_token(&self) -> Result<String, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires_at)) = cached.as_ref() {
            if *expires_at - EARLY_REFRESH > real_now() {
                return Ok(token.clone());
            }
        }
        let (token, expires_at) = self.current_or_refreshed().await?;
        *cached = Some((token.clone(), expires_at));
        Ok(token)
    }

    /// The server refused `token`: forget it here and for every process.
    pub async fn refused(&self, token: &str) {
        *self.cached.lock().await = None;
        let result = async {
            let mut conn = self.pool.acquire().await?;
            tokens::mark_refused(&mut conn, self.account.as_str(), &sha256_hex(token)).await
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(account = self.account.as_str(), error = %err, "could not mark a refused token");
        }
    }

    async fn current_or_refreshed(&self) -> Result<(String, DateTime<Utc>), AuthError> {
        let account = self.account.as_str();
        let flow_name = self.endpoints.flow_name();
        let mut tx = self.pool.begin().await?;
        // Another process refreshing holds the row through one HTTP call (30 s at most).
        sqlx::query("SET LOCAL lock_timeout = '45s'")
            .execute(&mut *tx)
            .await?;
        let row = tokens::lock(&mut tx, account, &self.endpoints.client_id, flow_name).await?;
        let same_client = row.client_id == self.endpoints.client_id && row.flow == flow_name;
        let now = real_now();
        if same_client {
            if let (Some(sealed), Some(expires_at)) = (&row.access_token, row.expires_at) {
                if expires_at - EARLY_REFRESH > now {
                    if let Some(token) = self.sealer.open(account, sealed) {
                        tx.commit().await?;
                        return Ok((token, expires_at));
                    }
                }
            }
        }
        let minted = match self.endpoints.flow {
            OAuthFlow::ClientCredentials => {
                flow::client_credentials(&self.http, &self.endpoints).await
            }
            OAuthFlow::DeviceCode => {
                let refresh_token = row
                    .refresh_token
                    .as_ref()
                    .filter(|_| same_client)
                    .and_then(|sealed| self.sealer.open(account, sealed));
                match refresh_token {
                    Some(refresh_token) => {
                        flow::refresh(&self.http, &self.endpoints, &refresh_token).await
                    }
                    None => Err(AuthError::NotSignedIn(account.to_owned())),
                }
            }
        };
        let now = real_now();
        match minted {
            Ok(minted) => {
                let expires_at = self.store(&mut tx, &minted, now).await?;
                tx.commit().await?;
                tracing::info!(account, flow = flow_name, %expires_at, "sign-in token refreshed");
                Ok((minted.access_token, expires_at))
            }
            Err(err) => {
                // A refresh token the provider says is dead (invalid_grant: expired,
                // revoked, consent withdrawn) is dropped: it will not work again, and
                // `auth status` then says a sign-in is needed. Other refusals (a wrong
                // client secret, fixed later) keep it.
                let forget = matches!(&err, AuthError::Refused(text) if text.contains("refused: invalid_grant"))
                    && self.endpoints.flow == OAuthFlow::DeviceCode;
                tokens::record_error(&mut tx, account, &err.to_string(), forget, now).await?;
                tx.commit().await?;
                Err(err)
            }
        }
    }

    async fn store(
        &self,
        conn: &mut sqlx::PgConnection,
        minted: &flow::Tokens,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, AuthError> {
        let account = self.account.as_str();
        let expires_at = now + Duration::seconds(minted.expires_in.max(60));
        tokens::store_minted(
            conn,
            account,
            &Minted {
                client_id: &self.endpoints.client_id,
                flow: self.endpoints.flow_name(),
                access_token: self
                    .sealer
                    .seal(account, &minted.access_token)
                    .map_err(AuthError::Store)?,
                access_sha256: sha256_hex(&minted.access_token),
                expires_at,
                refresh_token: minted
                    .refresh_token
                    .as_ref()
                    .map(|t| self.sealer.seal(account, t))
                    .transpose()
                    .map_err(AuthError::Store)?,
            },
            now,
        )
        .await?;
        Ok(expires_at)
    }

    /// `auth login`: the device-code flow on a terminal. Prints where to sign in, waits,
    /// stores the tokens.
    pub async fn login(&self, out: &mut dyn std::io::Write) -> Result<DateTime<Utc>, AuthError> {
        let grant = flow::device_authorization(&self.http, &self.endpoints).await?;
        let say = grant.message.clone().unwrap_or_else(|| {
            format!(
                "To sign in, open {} and enter the code {}",
                grant.verification_uri, grant.user_code
            )
        });
        let _ = writeln!(out, "{say}");
        let _ = writeln!(
            out,
            "Waiting for the sign-in (up to {} minutes)...",
            grant.expires_in.div_ceil(60)
        );
        let _ = out.flush();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(grant.expires_in);
        let mut interval = grant.interval.max(1);
        loop {
            if std::time::Instant::now() >= deadline {
                return Err(AuthError::Refused(
                    "the code expired before the sign-in was completed; run the command again"
                        .into(),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
            match flow::poll_device(&self.http, &self.endpoints, &grant.device_code).await? {
                flow::Poll::Pending { slow_down } => {
                    if slow_down {
                        interval += 5;
                    }
                }
                flow::Poll::Tokens(minted) => {
                    let mut tx = self.pool.begin().await?;
                    let expires_at = self.store(&mut tx, &minted, real_now()).await?;
                    tx.commit().await?;
                    *self.cached.lock().await = None;
                    return Ok(expires_at);
                }
            }
        }
    }
}
