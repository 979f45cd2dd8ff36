//! Tokens at rest: XChaCha20-Poly1305 under a key derived from the configured secret,
//! with the account's name as associated data, so a token copied to the other account's
//! row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const NONCE_BYTES: usize = 24;

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    /// A sealer whose key is derived from `secret` (never `secret` itself, which also
    /// signs approval tokens).
    pub fn new(secret: &[u8]) -> Sealer {
        let mut hash = Sha256::new();
        hash.update(b"minuted stored sign-in tokens v1\0");
        hash.update(secret);
        let key = hash.finalize();
        Sealer {
            cipher: XChaCha20Poly1305::new(&key),
        }
    }

    pub fn seal(&self, account: &str, plain: &str) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: account.as_bytes(),
                },
            )
            .map_err(|_| "cannot encrypt a token".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    /// None when the bytes were not sealed by this key for this account.
    pub fn open(&self, account: &str, sealed: &[u8]) -> Option<String> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: account.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_token_opens_only_with_its_key_and_account() {
        let sealer = Sealer::new(b"a secret of at least thirty-two characters");
        let sealed = sealer.seal("mailbox", "eyJ0eXAiOi.token").unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("eyJ0eXAiOi"));
        assert_eq!(
            sealer.open("mailbox", &sealed).as_deref(),
            Some("eyJ0eXAiOi.token")
        );
        assert_eq!(sealer.open("outgoing", &sealed), None);
        let other = Sealer::new(b"another secret of thirty-two characters!");
        assert_eq!(other.open("mailbox", &sealed), None);
        assert_ne!(sealer.seal("mailbox", "x"), sealer.seal("mailbox", "x"));
        assert_eq!(sealer.open("mailbox", b"short"), None);
    }
}
