//! Approval tokens: what minuted puts in the Reply-To of an approval request
//! (`lcjb+TOKEN@board.example`) so that a reply proves which request it answers.
//!
//! A token carries the approval request's id and an expiry, and an HMAC-SHA256 (keyed by
//! `approval.secret`) over those and over what the token must stay bound to without
//! carrying it: the revision's content hash and the approver's address. So a token is
//! only valid for the revision it was issued for and the person it was issued to. It is
//! 48 characters of lower-case base32 (30 bytes: version, request id, expiry in seconds,
//! a 128-bit MAC), which survives mail systems that fold the case of local parts and
//! keeps `local+TOKEN` within the 64 characters a local part may have.
//!
//! This module owns issuing, encoding, parsing and verifying tokens (in constant time,
//! with `Mac::verify_truncated_left`). It does not know whether a token was used: single
//! use is the store's job, keyed by the request id the token carries.

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::address::EmailAddress;

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const MAC_LEN: usize = 16;
const EXPIRY_LEN: usize = 5;
const RAW_LEN: usize = 1 + 8 + EXPIRY_LEN + MAC_LEN;
/// Length of an encoded token.
pub const ENCODED_LEN: usize = RAW_LEN * 8 / 5;
/// Separates MAC inputs from other uses of the same key.
const DOMAIN: &[u8] = b"minuted approval token v1\0";

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the reply address carries no token")]
    Missing,
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    /// Forged, altered, issued with another key, or for another revision or approver.
    #[error("the token's signature does not match (altered, or for another revision or approver)")]
    BadSignature,
    #[error("the token expired at {0}")]
    Expired(DateTime<Utc>),
}

/// A parsed token. Its fields are only trustworthy after [`ApprovalToken::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalToken {
    request_id: i64,
    expires_at: DateTime<Utc>,
    mac: [u8; MAC_LEN],
}

/// What a token is bound to besides what it carries.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// Content hash of what is to be approved (a minutes revision or a meeting pack).
    pub revision_hash: &'a str,
    /// The approver the request was sent to.
    pub approver: &'a EmailAddress,
}

impl ApprovalToken {
    /// Issues a token for approval request `request_id`. `expires_at` is kept to the
    /// second. `request_id` must not be negative (database ids are not).
    pub fn issue(
        key: &[u8],
        request_id: i64,
        binding: Binding<'_>,
        expires_at: DateTime<Utc>,
    ) -> Result<ApprovalToken, TokenError> {
        if request_id < 0 {
            return Err(TokenError::Malformed("negative request id"));
        }
        let seconds = expires_at.timestamp();
        if !(0..(1i64 << 40)).contains(&seconds) {
            return Err(TokenError::Malformed("expiry out of range"));
        }
        let expires_at = Utc
            .timestamp_opt(seconds, 0)
            .single()
            .ok_or(TokenError::Malformed("expiry out of range"))?;
        let mac = compute_mac(key, request_id, seconds, binding)
            .finalize()
            .into_bytes();
        let mut truncated = [0u8; MAC_LEN];
        truncated.copy_from_slice(&mac[..MAC_LEN]);
        Ok(ApprovalToken {
            request_id,
            expires_at,
            mac: truncated,
        })
    }

    /// The approval request this token claims to answer (look it up, then verify).
    pub fn request_id(&self) -> i64 {
        self.request_id
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// The token as it goes into the reply address: 48 lower-case base32 characters.
    pub fn encode(&self) -> String {
        let mut raw = Vec::with_capacity(RAW_LEN);
        raw.push(VERSION);
        raw.extend_from_slice(&self.request_id.to_be_bytes());
        raw.extend_from_slice(&self.expires_at.timestamp().to_be_bytes()[8 - EXPIRY_LEN..]);
        raw.extend_from_slice(&self.mac);
        base32_encode(&raw)
    }

    /// Parses an encoded token, in either case. Checks the form only.
    pub fn parse(text: &str) -> Result<ApprovalToken, TokenError> {
        let text = text.trim();
        if text.len() != ENCODED_LEN {
            return Err(TokenError::Malformed("wrong length"));
        }
        let raw = base32_decode(text).ok_or(TokenError::Malformed("not base32"))?;
        if raw.len() != RAW_LEN {
            return Err(TokenError::Malformed("wrong length"));
        }
        if raw[0] != VERSION {
            return Err(TokenError::Malformed("unknown version"));
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&raw[1..9]);
        let request_id = i64::from_be_bytes(id);
        if request_id < 0 {
            return Err(TokenError::Malformed("negative request id"));
        }
        let mut expiry = [0u8; 8];
        expiry[8 - EXPIRY_LEN..].copy_from_slice(&raw[9..9 + EXPIRY_LEN]);
        let expires_at = Utc
            .timestamp_opt(i64::from_be_bytes(expiry), 0)
            .single()
            .ok_or(TokenError::Malformed("expiry out of range"))?;
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(&raw[9 + EXPIRY_LEN..]);
        Ok(ApprovalToken {
            request_id,
            expires_at,
            mac,
        })
    }

    /// Checks the signature (in constant time) against the key and what the token must
    /// be bound to, then the expiry. The signature comes first so that a forged token
    /// never learns anything from the expiry check.
    pub fn verify(
        &self,
        key: &[u8],
        binding: Binding<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), TokenError> {
        compute_mac(key, self.request_id, self.expires_at.timestamp(), binding)
            .verify_truncated_left(&self.mac)
            .map_err(|_| TokenError::BadSignature)?;
        if now >= self.expires_at {
            return Err(TokenError::Expired(self.expires_at));
        }
        Ok(())
    }
}

fn compute_mac(key: &[u8], request_id: i64, expiry: i64, binding: Binding<'_>) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(DOMAIN);
    mac.update(&request_id.to_be_bytes());
    mac.update(&expiry.to_be_bytes());
    // Length prefixes: no two different (hash, approver) pairs feed the same bytes.
    for field in [
        binding.revision_hash.as_bytes(),
        binding.approver.as_str().as_bytes(),
    ] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field);
    }
    mac
}

#[allow(clippy::expect_used)] // HMAC's new_from_slice accepts every key length
fn unreachable_hmac() -> HmacSha256 {
    HmacSha256::new_from_slice(b"k").expect("HMAC accepts any key length")
}

/// The token in a reply's recipient address `local+TOKEN@domain`, when the address is
/// the board's (same local part before the `+`, same domain).
pub fn token_in_address<'a>(
    address: &'a EmailAddress,
    board: &EmailAddress,
) -> Result<&'a str, TokenError> {
    if address.domain() != board.domain() {
        return Err(TokenError::Missing);
    }
    match address.local().split_once('+') {
        Some((local, token)) if local == board.local() && !token.is_empty() => Ok(token),
        _ => Err(TokenError::Missing),
    }
}

/// The reply address for a token: `local+TOKEN@domain` of the board address.
pub fn reply_address(board: &EmailAddress, token: &ApprovalToken) -> String {
    format!("{}+{}@{}", board.local(), token.encode(), board.domain())
}

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let value = match c.to_ascii_lowercase() {
            c @ b'a'..=b'z' => c - b'a',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn approver() -> EmailAddress {
        EmailAddress::parse("tamara.barnett@mopac.example").unwrap()
    }

    fn issue(request_id: i64) -> ApprovalToken {
        let approver = approver();
        ApprovalToken::issue(
            KEY,
            request_id,
            Binding {
                revision_hash: "sha256:aaaa",
                approver: &approver,
            },
            at("2023-12-15T10:00:00Z"),
        )
        .unwrap()
    }

    #[test]
    fn an_issued_token_round_trips_and_verifies() {
        let token = issue(17);
        let encoded = token.encode();
        assert_eq!(encoded.len(), ENCODED_LEN);
        assert_eq!(ENCODED_LEN, 48);
        assert!(encoded
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        let parsed = ApprovalToken::parse(&encoded).unwrap();
        assert_eq!(parsed, token);
        assert_eq!(parsed.request_id(), 17);
        let approver = approver();
        let binding = Binding {
            revision_hash: "sha256:aaaa",
            approver: &approver,
        };
        parsed
            .verify(KEY, binding, at("2023-12-01T10:00:00Z"))
            .unwrap();
    }

    #[test]
    fn a_token_survives_a_mail_system_that_upper_cases_it() {
        let token = issue(5);
        let parsed = ApprovalToken::parse(&token.encode().to_uppercase()).unwrap();
        assert_eq!(parsed, token);
    }

    #[test]
    fn a_token_for_another_approver_or_revision_or_key_is_refused() {
        let token = issue(5);
        let other = EmailAddress::parse("someone.else@mopac.example").unwrap();
        let approver = approver();
        let now = at("2023-12-01T10:00:00Z");
        for (key, hash, who) in [
            (KEY, "sha256:aaaa", &other),
            (KEY, "sha256:bbbb", &approver),
            (
                b"another key of at least 32 bytes!!".as_slice(),
                "sha256:aaaa",
                &approver,
            ),
        ] {
            let binding = Binding {
                revision_hash: hash,
                approver: who,
            };
            assert_eq!(
                token.verify(key, binding, now),
                Err(TokenError::BadSignature)
            );
        }
    }

    #[test]
    fn an_altered_token_is_refused() {
        let encoded = issue(5).encode();
        let approver = approver();
        let binding = Binding {
            revision_hash: "sha256:aaaa",
            approver: &approver,
        };
        for position in [1, 10, 15, 20, 47] {
            let mut bytes = encoded.clone().into_bytes();
            bytes[position] = if bytes[position] == b'a' { b'b' } else { b'a' };
            let altered = String::from_utf8(bytes).unwrap();
            let result = ApprovalToken::parse(&altered)
                .and_then(|t| t.verify(KEY, binding, at("2023-12-01T10:00:00Z")));
            assert!(result.is_err(), "position {position} accepted");
        }
    }

    #[test]
    fn an_expired_token_is_refused_after_its_signature_is_checked() {
        let token = issue(5);
        let approver = approver();
        let binding = Binding {
            revision_hash: "sha256:aaaa",
            approver: &approver,
        };
        let expiry = at("2023-12-15T10:00:00Z");
        assert_eq!(
            token.verify(KEY, binding, expiry),
            Err(TokenError::Expired(expiry))
        );
        assert!(token
            .verify(KEY, binding, expiry - Duration::seconds(1))
            .is_ok());
        let other = EmailAddress::parse("x@y.example").unwrap();
        let forged = Binding {
            revision_hash: "sha256:aaaa",
            approver: &other,
        };
        assert_eq!(
            token.verify(KEY, forged, expiry + Duration::days(1)),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn malformed_tokens_say_why() {
        assert_eq!(
            ApprovalToken::parse("short"),
            Err(TokenError::Malformed("wrong length"))
        );
        assert_eq!(
            ApprovalToken::parse(&"1".repeat(48)),
            Err(TokenError::Malformed("not base32"))
        );
        assert_eq!(
            ApprovalToken::parse(&"a".repeat(48)),
            Err(TokenError::Malformed("unknown version"))
        );
    }

    #[test]
    fn the_reply_address_fits_a_local_part_and_gives_the_token_back() {
        let board = EmailAddress::parse("lcjb@board.example").unwrap();
        let token = issue(123_456_789);
        let address = EmailAddress::parse(&reply_address(&board, &token)).unwrap();
        assert!(address.local().len() <= 64, "{address}");
        let found = token_in_address(&address, &board).unwrap();
        assert_eq!(ApprovalToken::parse(found).unwrap(), token);
        let elsewhere =
            EmailAddress::parse(&format!("lcjb+{}@other.example", token.encode())).unwrap();
        assert_eq!(
            token_in_address(&elsewhere, &board),
            Err(TokenError::Missing)
        );
        assert_eq!(token_in_address(&board, &board), Err(TokenError::Missing));
    }
}
