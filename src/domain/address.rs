//! Email addresses as minuted keeps them: one validated, lower-cased form, so that an
//! address typed in the registry, seen in a `From:` header and stored in PostgreSQL all
//! compare equal.
//!
//! This is deliberately narrower than RFC 5322: a bare `local@domain` with no display name,
//! comments or quoted local part, ASCII only. Anything that could smuggle a header (CR, LF,
//! other control characters) or be misread by a mail client (spaces, angle brackets,
//! commas) is refused. Parsing `Name <addr>` headers is the mail parser's job, not this one.

use std::fmt;
use std::str::FromStr;

/// RFC 5321's limit on a forward path, which is the practical limit on an address.
const MAX_ADDRESS_LEN: usize = 254;
/// RFC 5321's limit on the local part.
const MAX_LOCAL_LEN: usize = 64;
/// RFC 1035's limit on one DNS label.
const MAX_LABEL_LEN: usize = 63;

/// Why a piece of text is not an address minuted accepts. Each variant says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the address is empty")]
    Empty,
    #[error("the address is {0} characters long; at most 254 are allowed")]
    TooLong(usize),
    #[error("the address contains a line break or another control character")]
    ControlCharacter,
    #[error("the address contains a space")]
    Whitespace,
    #[error("the address contains the non-ASCII character `{0}`")]
    NonAscii(char),
    #[error("the address has no `@`")]
    MissingAt,
    #[error("the address has more than one `@`")]
    SeveralAts,
    #[error("the part before `@` is empty")]
    EmptyLocal,
    #[error("the part before `@` is longer than 64 characters")]
    LocalTooLong,
    #[error("the part before `@` may not contain `{0}`")]
    InvalidLocalCharacter(char),
    #[error("the part before `@` may not start or end with a dot or contain `..`")]
    MisplacedDot,
    #[error("the domain is empty")]
    EmptyDomain,
    #[error("the domain `{0}` has no dot")]
    DomainWithoutDot(String),
    #[error("the domain `{0}` is not a valid host name (letters, digits, hyphens and dots)")]
    InvalidDomain(String),
}

/// A syntactically valid, lower-cased email address such as `sophie.linden@mopac.example`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress {
    /// The whole address, lower-cased.
    text: String,
    /// Byte index of the `@`, so `local()` and `domain()` need no re-parsing.
    at: usize,
}

impl EmailAddress {
    /// Validates `text` as a bare address and returns it lower-cased.
    pub fn parse(text: &str) -> Result<Self, AddressError> {
        if text.is_empty() {
            return Err(AddressError::Empty);
        }
        reject_bad_characters(text)?;
        if text.len() > MAX_ADDRESS_LEN {
            return Err(AddressError::TooLong(text.len()));
        }
        let lower = text.to_ascii_lowercase();
        let (local, domain) = match lower.split_once('@') {
            None => return Err(AddressError::MissingAt),
            Some((_, domain)) if domain.contains('@') => return Err(AddressError::SeveralAts),
            Some(parts) => parts,
        };
        check_local(local)?;
        let domain = parse_domain(domain)?;
        let at = local.len();
        Ok(Self {
            text: format!("{local}@{domain}"),
            at,
        })
    }

    /// The part before the `@`.
    pub fn local(&self) -> &str {
        &self.text[..self.at]
    }

    /// The part after the `@`, lower-case.
    pub fn domain(&self) -> &str {
        &self.text[self.at + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for EmailAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl serde::Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for EmailAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Control characters first: a CR or LF is the dangerous case and deserves its own message
/// even in text that is wrong in other ways too. Then whitespace, then anything not ASCII.
fn reject_bad_characters(text: &str) -> Result<(), AddressError> {
    if text.chars().any(|c| c.is_control()) {
        return Err(AddressError::ControlCharacter);
    }
    if text.chars().any(char::is_whitespace) {
        return Err(AddressError::Whitespace);
    }
    if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
        return Err(AddressError::NonAscii(c));
    }
    Ok(())
}

/// Whether `address` is `base` or a `+tag` form of it (`lcjb+x@board.example` of
/// `lcjb@board.example`), compared as written: callers pass lower-cased addresses.
pub fn is_same_or_tagged(address: &str, base: &str) -> bool {
    address == base
        || base.split_once('@').is_some_and(|(local, domain)| {
            address.rsplit_once('@').is_some_and(|(l, d)| {
                d == domain
                    && l.strip_prefix(local)
                        .is_some_and(|tag| tag.starts_with('+'))
            })
        })
}

/// Validates a mail domain (`met.example`) and returns it lower-cased. Used for the part
/// after `@` and for the domains an organisation sends from.
pub fn parse_domain(text: &str) -> Result<String, AddressError> {
    if text.is_empty() {
        return Err(AddressError::EmptyDomain);
    }
    reject_bad_characters(text)?;
    let domain = text.to_ascii_lowercase();
    if !domain.contains('.') {
        return Err(AddressError::DomainWithoutDot(domain));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if domain.len() > MAX_ADDRESS_LEN || !domain.split('.').all(label_ok) {
        return Err(AddressError::InvalidDomain(domain));
    }
    Ok(domain)
}

fn check_local(local: &str) -> Result<(), AddressError> {
    if local.is_empty() {
        return Err(AddressError::EmptyLocal);
    }
    if local.len() > MAX_LOCAL_LEN {
        return Err(AddressError::LocalTooLong);
    }
    // RFC 5322 "specials": they only appear in a local part when it is quoted, and a quoted
    // local part is not something a board member's address needs.
    if let Some(c) = local.chars().find(|c| "()<>[]:;\\,\"".contains(*c)) {
        return Err(AddressError::InvalidLocalCharacter(c));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(AddressError::MisplacedDot);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_its_base_or_a_tagged_form_of_it() {
        let base = "lcjb@board.example";
        assert!(is_same_or_tagged("lcjb@board.example", base));
        assert!(is_same_or_tagged("lcjb+a1b2@board.example", base));
        assert!(!is_same_or_tagged("lcjbx@board.example", base));
        assert!(!is_same_or_tagged("lcjb+a1b2@other.example", base));
        assert!(!is_same_or_tagged("other+lcjb@board.example", base));
        assert!(!is_same_or_tagged("LCJB@board.example", base));
    }

    #[test]
    fn valid_addresses_are_lower_cased_and_split() {
        let cases = [
            (
                "sophie.linden@mopac.example",
                "sophie.linden",
                "mopac.example",
            ),
            (
                "Sophie.Linden@MOPAC.Example",
                "sophie.linden",
                "mopac.example",
            ),
            ("lcjb+tok3n@board.example", "lcjb+tok3n", "board.example"),
            ("a@b.co", "a", "b.co"),
            (
                "o'brien@probation.justice.example",
                "o'brien",
                "probation.justice.example",
            ),
            ("x-y_z@sub-domain.example", "x-y_z", "sub-domain.example"),
        ];
        for (input, local, domain) in cases {
            let address = EmailAddress::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(address.local(), local, "{input}");
            assert_eq!(address.domain(), domain, "{input}");
            assert_eq!(address.to_string(), format!("{local}@{domain}"), "{input}");
            assert_eq!(address.as_str(), address.to_string());
        }
    }

    #[test]
    fn invalid_addresses_are_refused_with_the_reason() {
        let long_local = "a".repeat(65);
        let too_long = format!("{}@{}.example", "a".repeat(60), "b".repeat(200));
        let long_local = format!("{long_local}@b.example");
        let cases: Vec<(&str, AddressError)> = vec![
            ("", AddressError::Empty),
            (
                "a@b.example\r\nBcc: x@y.example",
                AddressError::ControlCharacter,
            ),
            ("a@b.example\n", AddressError::ControlCharacter),
            ("a\t@b.example", AddressError::ControlCharacter),
            ("a b@c.example", AddressError::Whitespace),
            (" a@b.example", AddressError::Whitespace),
            ("a@b.example ", AddressError::Whitespace),
            ("jos\u{e9}@b.example", AddressError::NonAscii('\u{e9}')),
            ("nobody.example", AddressError::MissingAt),
            ("a@b@c.example", AddressError::SeveralAts),
            ("@b.example", AddressError::EmptyLocal),
            (&long_local, AddressError::LocalTooLong),
            ("a<b@c.example", AddressError::InvalidLocalCharacter('<')),
            ("a,b@c.example", AddressError::InvalidLocalCharacter(',')),
            ("\"a\"@c.example", AddressError::InvalidLocalCharacter('"')),
            (".a@c.example", AddressError::MisplacedDot),
            ("a.@c.example", AddressError::MisplacedDot),
            ("a..b@c.example", AddressError::MisplacedDot),
            ("a@", AddressError::EmptyDomain),
            (
                "a@localhost",
                AddressError::DomainWithoutDot("localhost".into()),
            ),
            (
                "a@b..example",
                AddressError::InvalidDomain("b..example".into()),
            ),
            (
                "a@-b.example",
                AddressError::InvalidDomain("-b.example".into()),
            ),
            (
                "a@b_c.example",
                AddressError::InvalidDomain("b_c.example".into()),
            ),
            (
                "a@b.example.",
                AddressError::InvalidDomain("b.example.".into()),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(EmailAddress::parse(input), Err(expected), "{input:?}");
        }
        assert_eq!(
            EmailAddress::parse(&too_long),
            Err(AddressError::TooLong(too_long.len()))
        );
    }

    #[test]
    fn an_address_of_exactly_254_characters_is_accepted() {
        let domain = format!(
            "{}.{}.{}.example",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(63)
        );
        let local = "a".repeat(254 - 1 - domain.len());
        let text = format!("{local}@{domain}");
        assert_eq!(text.len(), 254);
        assert!(EmailAddress::parse(&text).is_ok());
    }

    #[test]
    fn domains_are_validated_and_lower_cased() {
        let cases = [
            ("met.example", Ok("met.example".to_owned())),
            ("CPS.Example", Ok("cps.example".to_owned())),
            ("south.cps.example", Ok("south.cps.example".to_owned())),
            (
                "example",
                Err(AddressError::DomainWithoutDot("example".into())),
            ),
            ("", Err(AddressError::EmptyDomain)),
            ("a b.example", Err(AddressError::Whitespace)),
            (
                "@met.example",
                Err(AddressError::InvalidDomain("@met.example".into())),
            ),
            ("met.example\n", Err(AddressError::ControlCharacter)),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_domain(input), expected, "{input:?}");
        }
    }

    #[test]
    fn addresses_parse_from_str_and_serialize_as_strings() {
        let address: EmailAddress = "LCJB@Board.Example".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&address).unwrap(),
            "\"lcjb@board.example\""
        );
        let back: EmailAddress = serde_json::from_str("\"lcjb@board.example\"").unwrap();
        assert_eq!(back, address);
        assert!(serde_json::from_str::<EmailAddress>("\"not an address\"").is_err());
    }
}
