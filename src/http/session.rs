//! Who is signed in to the status page: a signed cookie, and how often a sign-in may fail.
//!
//! The cookie is `user id . expiry . password-set time . HMAC-SHA256` under a key derived
//! from the approval key, so it cannot be forged or extended, it ends at its expiry, and a
//! new password (`http add-user` again) ends every session signed before it. Nothing of a
//! session is kept on the server. Failed sign-ins are counted in memory per name and per
//! client address, over a sliding window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The cookie's name.
pub const COOKIE: &str = "minuted_session";

/// What the session key is derived for, so it can never be a valid approval token key.
const KEY_PURPOSE: &[u8] = b"minuted status page session v1";

/// A session as the cookie carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub expires_at: i64,
    /// The user's `password_set_at` when the session began, in microseconds.
    pub password_set: i64,
}

/// Signs and checks session cookies.
#[derive(Clone)]
pub struct SessionKey(Vec<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

impl SessionKey {
    /// The session key derived from the approval key.
    pub fn derive(approval_key: &[u8]) -> SessionKey {
        SessionKey(mac(approval_key, KEY_PURPOSE))
    }

    /// The cookie value for `session`.
    pub fn sign(&self, session: &Session) -> String {
        let body = format!(
            "{}.{}.{}",
            session.user_id, session.expires_at, session.password_set
        );
        let tag = hex::encode(mac(&self.0, body.as_bytes()));
        format!("{body}.{tag}")
    }

    /// The session a cookie value carries, if its signature holds and it has not expired
    /// at `now`.
    pub fn verify(&self, value: &str, now: DateTime<Utc>) -> Option<Session> {
        let (body, tag) = value.rsplit_once('.')?;
        let tag = hex::decode(tag).ok()?;
        let mut check = Hmac::<Sha256>::new_from_slice(&self.0).ok()?;
        check.update(body.as_bytes());
        check.verify_slice(&tag).ok()?;
        let mut parts = body.split('.');
        let session = Session {
            user_id: parts.next()?.parse().ok()?,
            expires_at: parts.next()?.parse().ok()?,
            password_set: parts.next()?.parse().ok()?,
        };
        if parts.next().is_some() || session.expires_at <= now.timestamp() {
            return None;
        }
        Some(session)
    }
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; the error case cannot occur.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The value of the `name` cookie in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// Failed sign-ins allowed per name in [`WINDOW`].
pub const PER_NAME: usize = 5;
/// Failed sign-ins allowed per client address in [`WINDOW`].
pub const PER_CLIENT: usize = 20;
/// The window failures are counted over.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed sign-ins in the last [`WINDOW`], per name and per client address.
#[derive(Debug, Default)]
pub struct Attempts {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Attempts {
    /// How long until `name` from `client` may try again; None when it may now.
    pub fn wait(&self, name: &str, client: &str, at: Instant) -> Option<Duration> {
        let Ok(mut failures) = self.failures.lock() else {
            return None;
        };
        [(name_key(name), PER_NAME), (client_key(client), PER_CLIENT)]
            .into_iter()
            .filter_map(|(key, limit)| {
                let times = failures.get_mut(&key)?;
                times.retain(|t| at.duration_since(*t) < WINDOW);
                (times.len() >= limit).then(|| WINDOW - at.duration_since(times[0]))
            })
            .max()
    }

    /// Records a failed sign-in.
    pub fn failed(&self, name: &str, client: &str, at: Instant) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        // Forget keys whose failures have all aged out, so the map cannot grow without end.
        failures.retain(|_, times| times.iter().any(|t| at.duration_since(*t) < WINDOW));
        for key in [name_key(name), client_key(client)] {
            failures.entry(key).or_default().push(at);
        }
    }

    /// A successful sign-in clears the name's failures (not the client's).
    pub fn succeeded(&self, name: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&name_key(name));
        }
    }
}

fn name_key(name: &str) -> String {
    format!("name:{}", name.to_lowercase())
}

fn client_key(client: &str) -> String {
    format!("client:{client}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_session_cookie_holds_until_it_expires_and_cannot_be_altered_or_moved_to_another_key() {
        let key = SessionKey::derive(b"approval key");
        let session = Session {
            user_id: 7,
            expires_at: at("2023-12-04T21:00:00Z").timestamp(),
            password_set: 1_700_000_000_000_000,
        };
        let cookie = key.sign(&session);
        let now = at("2023-12-04T09:00:00Z");
        assert_eq!(key.verify(&cookie, now), Some(session.clone()));
        assert_eq!(key.verify(&cookie, at("2023-12-04T21:00:00Z")), None);
        // Another user, a later expiry: the signature no longer holds.
        let forged = cookie.replacen("7.", "8.", 1);
        assert_eq!(key.verify(&forged, now), None);
        let (body, tag) = cookie.rsplit_once('.').unwrap();
        let longer = body.replace(
            &session.expires_at.to_string(),
            &(session.expires_at + 86_400).to_string(),
        );
        assert_eq!(key.verify(&format!("{longer}.{tag}"), now), None);
        assert_eq!(
            SessionKey::derive(b"another key").verify(&cookie, now),
            None
        );
        assert_eq!(key.verify("", now), None);
        assert_eq!(key.verify("7.1.2", now), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let header = "theme=dark; minuted_session=1.2.3.abc; other=x";
        assert_eq!(cookie_value(header, COOKIE), Some("1.2.3.abc"));
        assert_eq!(cookie_value("theme=dark", COOKIE), None);
    }

    #[test]
    fn sign_ins_that_keep_failing_wait_until_the_window_has_passed() {
        let attempts = Attempts::default();
        let start = Instant::now();
        for _ in 0..PER_NAME {
            assert_eq!(attempts.wait("shobnam", "10.0.0.1", start), None);
            attempts.failed("shobnam", "10.0.0.1", start);
        }
        let wait = attempts.wait("Shobnam", "10.0.0.2", start).unwrap();
        assert_eq!(wait, WINDOW);
        // Another name from the same client may still try, until the client's own limit.
        assert_eq!(attempts.wait("tamara", "10.0.0.1", start), None);
        let later = start + WINDOW;
        assert_eq!(attempts.wait("shobnam", "10.0.0.1", later), None);
        for n in 0..PER_CLIENT {
            attempts.failed(&format!("guess{n}"), "10.0.0.9", later);
        }
        assert!(attempts.wait("anyone", "10.0.0.9", later).is_some());
        attempts.succeeded("shobnam");
        assert_eq!(attempts.wait("shobnam", "10.0.0.1", later), None);
    }
}
