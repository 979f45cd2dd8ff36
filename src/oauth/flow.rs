//! The provider's HTTP endpoints (RFC 6749 and RFC 8628): client credentials, refresh,
//! device authorization and the device-code poll. Pure requests and answers; storing
//! what they return is [`super::TokenSource`]'s.

use std::time::Duration;

use serde::Deserialize;

use super::{AuthError, Endpoints};

/// A successful token response.
#[derive(Debug, Clone, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    /// Seconds; an hour when the provider does not say.
    #[serde(default = "default_expires_in")]
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

fn default_expires_in() -> i64 {
    3600
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
}

/// What the device-authorization endpoint answers.
#[derive(Debug, Clone, Deserialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
    #[serde(default = "default_interval")]
    pub interval: u64,
    /// Microsoft's ready-made sentence for the person.
    pub message: Option<String>,
}

fn default_interval() -> u64 {
    5
}

/// One answer of the device-code poll.
#[derive(Debug)]
pub enum Poll {
    Tokens(Tokens),
    /// Not yet: wait (longer, after `slow_down`) and ask again.
    Pending {
        slow_down: bool,
    },
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("minuted/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<(reqwest::StatusCode, String), AuthError> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = http
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|err| {
            AuthError::Unreachable(format!("{url}: {}", crate::logging::error_chain(&err)))
        })?;
    let status = response.status();
    let text = response.text().await.map_err(|err| {
        AuthError::Unreachable(format!("{url}: {}", crate::logging::error_chain(&err)))
    })?;
    Ok((status, text))
}

/// Reads a token answer; an OAuth error body becomes `Refused` (the grant or client is
/// bad: a person must act) except the ones that mean "later".
fn read_tokens(url: &str, status: reqwest::StatusCode, text: &str) -> Result<Tokens, AuthError> {
    if status.is_success() {
        return serde_json::from_str(text).map_err(|err| {
            AuthError::Unreachable(format!("{url} answered {status} without a token: {err}"))
        });
    }
    Err(error_of(url, status, text))
}

fn error_of(url: &str, status: reqwest::StatusCode, text: &str) -> AuthError {
    let later = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body)
            if !later
                && !matches!(
                    body.error.as_str(),
                    "temporarily_unavailable" | "rate_limit_exceeded" | "slow_down"
                ) =>
        {
            AuthError::Refused(format!(
                "{url} refused: {}{}",
                body.error,
                body.error_description
                    .map(|d| format!(" ({})", first_line(&d)))
                    .unwrap_or_default()
            ))
        }
        _ => AuthError::Unreachable(format!(
            "{url} answered {status}: {}",
            first_line(text).chars().take(200).collect::<String>()
        )),
    }
}

pub async fn client_credentials(
    http: &reqwest::Client,
    endpoints: &Endpoints,
) -> Result<Tokens, AuthError> {
    let secret = endpoints.client_secret.as_deref().unwrap_or_default();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", endpoints.client_id.as_str()),
        ("client_secret", secret),
        ("scope", endpoints.scope.as_str()),
    ];
    let (status, text) = post(http, &endpoints.token_url, &form).await?;
    read_tokens(&endpoints.token_url, status, &text)
}

pub async fn refresh(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    refresh_token: &str,
) -> Result<Tokens, AuthError> {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", endpoints.client_id.as_str()),
        ("scope", endpoints.scope.as_str()),
    ];
    if let Some(secret) = &endpoints.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let (status, text) = post(http, &endpoints.token_url, &form).await?;
    read_tokens(&endpoints.token_url, status, &text)
}

pub async fn device_authorization(
    http: &reqwest::Client,
    endpoints: &Endpoints,
) -> Result<DeviceAuthorization, AuthError> {
    let url = endpoints
        .device_authorization_url
        .as_deref()
        .ok_or_else(|| {
            AuthError::Refused("no device_authorization_url for this provider".into())
        })?;
    let form = [
        ("client_id", endpoints.client_id.as_str()),
        ("scope", endpoints.scope.as_str()),
    ];
    let (status, text) = post(http, url, &form).await?;
    if !status.is_success() {
        return Err(error_of(url, status, &text));
    }
    serde_json::from_str(&text)
        .map_err(|err| AuthError::Unreachable(format!("{url} answered {status}: {err}")))
}

pub async fn poll_device(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    device_code: &str,
) -> Result<Poll, AuthError> {
    let mut form = vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", device_code),
        ("client_id", endpoints.client_id.as_str()),
    ];
    if let Some(secret) = &endpoints.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    let (status, text) = post(http, &endpoints.token_url, &form).await?;
    if status.is_success() {
        return read_tokens(&endpoints.token_url, status, &text).map(Poll::Tokens);
    }
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) if body.error == "authorization_pending" => Ok(Poll::Pending { slow_down: false }),
        Ok(body) if body.error == "slow_down" => Ok(Poll::Pending { slow_down: true }),
        _ => Err(error_of(&endpoints.token_url, status, &text)),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default().trim()
}

/// `application/x-www-form-urlencoded` for one key or value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_encoded() {
        assert_eq!(
            encode("https://outlook.office365.com/.default a+b"),
            "https%3A%2F%2Foutlook.office365.com%2F.default+a%2Bb"
        );
    }

    #[test]
    fn an_oauth_error_is_a_refusal_and_a_server_error_is_for_later() {
        let url = "https://idp.example/token";
        let refused = error_of(
            url,
            reqwest::StatusCode::BAD_REQUEST,
            r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired.\r\nTrace ID: 1"}"#,
        );
        assert!(
            matches!(&refused, AuthError::Refused(t) if t.ends_with("invalid_grant (AADSTS700082: The refresh token has expired.)")),
            "{refused:?}"
        );
        let later = error_of(url, reqwest::StatusCode::BAD_GATEWAY, "<html>bad gateway");
        assert!(matches!(later, AuthError::Unreachable(_)), "{later:?}");
        let busy = error_of(
            url,
            reqwest::StatusCode::BAD_REQUEST,
            r#"{"error":"temporarily_unavailable"}"#,
        );
        assert!(matches!(busy, AuthError::Unreachable(_)), "{busy:?}");
        let throttled = error_of(
            url,
            reqwest::StatusCode::TOO_MANY_REQUESTS,
            r#"{"error":"invalid_request","error_description":"too many requests"}"#,
        );
        assert!(
            matches!(throttled, AuthError::Unreachable(_)),
            "{throttled:?}"
        );
    }
}
