//! The SASL messages that carry a bearer token: XOAUTH2 (Microsoft and Google) and
//! OAUTHBEARER (RFC 7628).
//!
//! On a refused token the server sends a challenge holding a JSON error; the client must
//! answer it (an empty response for XOAUTH2, `%x01` for OAUTHBEARER) before the server
//! ends the exchange with NO. [`TokenAuth`] does that and keeps the error for the log.

use std::sync::{Arc, Mutex};

use crate::config::SaslMechanism;

/// XOAUTH2's initial client response.
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// OAUTHBEARER's initial client response (RFC 7628 section 3.1).
pub fn oauthbearer(user: &str, host: &str, port: u16, token: &str) -> String {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
}

impl SaslMechanism {
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Xoauth2 => "XOAUTH2",
            SaslMechanism::Oauthbearer => "OAUTHBEARER",
        }
    }
}

/// An IMAP authenticator for one attempt with one token.
pub struct TokenAuth {
    first: Option<String>,
    mechanism: SaslMechanism,
    /// The server's error challenge, when it refused the token.
    pub refusal: Arc<Mutex<Option<String>>>,
}

impl TokenAuth {
    pub fn new(
        mechanism: SaslMechanism,
        user: &str,
        host: &str,
        port: u16,
        token: &str,
    ) -> TokenAuth {
        let first = match mechanism {
            SaslMechanism::Xoauth2 => xoauth2(user, token),
            SaslMechanism::Oauthbearer => oauthbearer(user, host, port, token),
        };
        TokenAuth {
            first: Some(first),
            mechanism,
            refusal: Arc::new(Mutex::new(None)),
        }
    }
}

impl async_imap::Authenticator for TokenAuth {
    type Response = String;

    fn process(&mut self, challenge: &[u8]) -> String {
        if let Some(first) = self.first.take() {
            return first;
        }
        if let Ok(mut refusal) = self.refusal.lock() {
            *refusal = Some(String::from_utf8_lossy(challenge).into_owned());
        }
        match self.mechanism {
            SaslMechanism::Xoauth2 => String::new(),
            SaslMechanism::Oauthbearer => "\x01".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_imap::Authenticator;

    #[test]
    fn the_initial_responses_are_as_the_mechanisms_define_them() {
        assert_eq!(
            xoauth2("lcjb@board.example", "tok"),
            "user=lcjb@board.example\x01auth=Bearer tok\x01\x01"
        );
        assert_eq!(
            oauthbearer("a,b=c@x.example", "imap.x.example", 993, "tok"),
            "n,a=a=2Cb=3Dc@x.example,\x01host=imap.x.example\x01port=993\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn a_refusal_is_answered_as_the_mechanism_asks_and_kept() {
        let mut auth = TokenAuth::new(SaslMechanism::Oauthbearer, "u", "h", 143, "t");
        assert!(auth.process(b"").starts_with("n,a=u,"));
        assert_eq!(auth.process(br#"{"status":"invalid_token"}"#), "\x01");
        assert_eq!(
            auth.refusal.lock().unwrap().as_deref(),
            Some(r#"{"status":"invalid_token"}"#)
        );
        let mut auth = TokenAuth::new(SaslMechanism::Xoauth2, "u", "h", 143, "t");
        auth.process(b"");
        assert_eq!(auth.process(b"{}"), "");
    }
}
