//! `minuted auth login mailbox|outgoing` and `minuted auth status [--json]`: OAuth 2.0
//! sign-in for the mailbox and the submission server. Never prints a token.

use anyhow::Context;
use chrono::Utc;
use serde::Serialize;

use super::{print_text, with_database, AuthCommand};
use crate::config::{Loaded, OAuthFlow};
use crate::oauth::{Account, Endpoints, TokenSource};
use crate::store::tokens::{self, TokenState};

/// One account as `auth status --json` prints it.
#[derive(Debug, Serialize)]
struct AccountStatus {
    account: &'static str,
    /// `password` or `oauth2`.
    auth: &'static str,
    provider: Option<String>,
    flow: Option<&'static str>,
    /// `signed_in`, `expired` (a refresh will be tried), `not_signed_in` or
    /// `refused` (a person must act).
    state: &'static str,
    #[serde(flatten)]
    stored: Option<TokenState>,
}

pub async fn run(command: AuthCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        AuthCommand::Login { account } => login(account, loaded).await,
        AuthCommand::Status { output } => {
            let statuses = status(loaded).await?;
            output.print(&statuses[..], status_text)
        }
    }
}

async fn login(account: Account, loaded: &Loaded) -> anyhow::Result<()> {
    let name = account.as_str();
    let oauth2 = account.settings(&loaded.settings).with_context(|| {
        format!("{name}.auth is not \"oauth2\": nothing to sign in to (set {name}.auth and [{name}.oauth2])")
    })?;
    let flow = oauth2.flow;
    with_database(loaded, async |pool| {
        let source = TokenSource::for_account(account, &loaded.settings, pool)?
            .context("no OAuth 2.0 settings")?;
        let expires_at = match flow {
            // App-only access needs no person: fetching a token proves the settings.
            OAuthFlow::ClientCredentials => {
                source
                    .access_token()
                    .await
                    .with_context(|| format!("{name}: sign-in failed"))?;
                tokens::states(&mut *pool.acquire().await?)
                    .await?
                    .into_iter()
                    .find(|s| s.account == name)
                    .and_then(|s| s.expires_at)
            }
            OAuthFlow::DeviceCode => {
                let mut out = std::io::stdout();
                Some(
                    source
                        .login(&mut out)
                        .await
                        .with_context(|| format!("{name}: sign-in failed"))?,
                )
            }
        };
        let until = expires_at.map_or_else(String::new, |at| {
            format!(
                "; the access token is good until {} and is refreshed before then",
                at.format("%Y-%m-%d %H:%M UTC")
            )
        });
        print_text(&format!("{name}: signed in{until}\n"))
    })
    .await
}

async fn status(loaded: &Loaded) -> anyhow::Result<Vec<AccountStatus>> {
    let settings = &loaded.settings;
    let stored = with_database(loaded, async |pool| {
        Ok(tokens::states(&mut *pool.acquire().await?).await?)
    })
    .await?;
    let now = crate::clock::Clock::System.now();
    let mut out = Vec::new();
    for account in [Account::Mailbox, Account::Outgoing] {
        let name = account.as_str();
        let Some(oauth2) = account.settings(settings) else {
            out.push(AccountStatus {
                account: name,
                auth: "password",
                provider: None,
                flow: None,
                state: "password",
                stored: None,
            });
            continue;
        };
        let endpoints = Endpoints::resolve(oauth2);
        let row = stored
            .iter()
            .find(|s| s.account == name && s.client_id == endpoints.client_id)
            .cloned();
        let state = match &row {
            None => "not_signed_in",
            Some(r) if r.last_error.is_some() && !r.signed_in => "refused",
            Some(r) if !r.signed_in => "not_signed_in",
            Some(r) if r.expires_at.is_some_and(|at| at <= now) => "expired",
            Some(_) => "signed_in",
        };
        out.push(AccountStatus {
            account: name,
            auth: "oauth2",
            provider: Some(format!("{:?}", oauth2.provider).to_lowercase()),
            flow: Some(endpoints.flow_name()),
            state,
            stored: row,
        });
    }
    Ok(out)
}

fn status_text(statuses: &[AccountStatus]) -> String {
    let when = |at: Option<chrono::DateTime<Utc>>| {
        at.map_or_else(
            || "never".to_owned(),
            |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    };
    let mut text = String::new();
    for s in statuses {
        if s.auth == "password" {
            text.push_str(&format!("{}: signs in with a password\n", s.account));
            continue;
        }
        text.push_str(&format!(
            "{}: OAuth 2.0 ({}, {}): {}\n",
            s.account,
            s.provider.as_deref().unwrap_or_default(),
            s.flow.unwrap_or_default(),
            s.state.replace('_', " ")
        ));
        if let Some(row) = &s.stored {
            text.push_str(&format!(
                "  token expires {}; last refreshed {}\n",
                when(row.expires_at),
                when(row.refreshed_at)
            ));
            if let Some(error) = &row.last_error {
                text.push_str(&format!(
                    "  last error ({}): {error}\n",
                    when(row.last_error_at)
                ));
            }
        }
        if matches!(s.state, "not_signed_in" | "refused") && s.flow == Some("device_code") {
            text.push_str(&format!(
                "  run `minuted auth login {}` to sign in\n",
                s.account
            ));
        }
    }
    text
}
