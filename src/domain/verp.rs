//! The addresses minuted puts on outgoing mail so that what comes back can be matched
//! to its outbox row: the reply address (`<local>+<token>@<domain>` of the board's
//! address) and the VERP return path (`<local>+bounce-<row id>-<tag>@<domain>`), to
//! which servers send bounces. The tag, derived from the row's Message-ID, keeps anyone
//! who has not seen the message from forging a bounce for its row. Pure string work; the
//! filing step calls [`parse_bounce_token`] on a bounce's recipient tokens and checks the
//! tag against the row ([`tag_matches`]).

/// `local+suffix@domain` of `board_address`. An address without `@` is returned with the
/// suffix appended to it, which the caller's validation then refuses.
fn with_suffix(board_address: &str, suffix: &str) -> String {
    match board_address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}+{suffix}@{domain}"),
        None => format!("{board_address}+{suffix}"),
    }
}

/// Where replies to a message go: the board's address with the row's reply token.
pub fn reply_address(board_address: &str, token: &str) -> String {
    with_suffix(board_address, token)
}

/// The envelope sender (return path) of outbox row `id`, whose Message-ID is
/// `message_id`: bounces come back here, `<local>+bounce-<id>-<tag>@<domain>`. The tag
/// ([`bounce_tag`]) is derived from the Message-ID, which carries 64 random bits, so
/// nobody who has not seen the message can forge a bounce for the row.
pub fn bounce_address(board_address: &str, id: i64, message_id: &str) -> String {
    with_suffix(board_address, &bounce_token(id, message_id))
}

/// The `bounce-<id>-<tag>` part of [`bounce_address`].
pub fn bounce_token(id: i64, message_id: &str) -> String {
    format!("bounce-{id}-{}", bounce_tag(message_id))
}

/// 12 hex digits of SHA-256 over the row's Message-ID (without angle brackets).
pub fn bounce_tag(message_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("minuted-verp:{message_id}").as_bytes());
    hex::encode(&digest[..6])
}

/// The outbox row and tag of a bounce token (`bounce-42-0a1b2c3d4e5f`, in any case).
/// Anything else, including a reply token or an untagged `bounce-42`, is `None`. The tag
/// still has to match the row's Message-ID ([`tag_matches`]).
pub fn parse_bounce_token(token: &str) -> Option<(i64, String)> {
    let rest = token
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("bounce-"))
        .and_then(|_| token.get(7..))?;
    let (digits, tag) = rest.split_once('-')?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if tag.len() != 12 || !tag.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = digits.parse().ok().filter(|id| *id > 0)?;
    Some((id, tag.to_ascii_lowercase()))
}

/// Whether `tag` (as parsed) is the one [`bounce_tag`] gives for `message_id`.
pub fn tag_matches(tag: &str, message_id: &str) -> bool {
    tag.eq_ignore_ascii_case(&bounce_tag(message_id))
}

/// The outbox row and tag a bounce was addressed to, from the address it came back to
/// (`lcjb+bounce-42-0a1b2c3d4e5f@board.example`, in any case, with or without angle
/// brackets). Anything else, including a reply token, is `None`.
pub fn parse_bounce_address(address: &str) -> Option<(i64, String)> {
    let address = address.trim();
    let address = address
        .strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(address);
    let (local, domain) = address.rsplit_once('@')?;
    if domain.is_empty() {
        return None;
    }
    let (_, tag) = local.rsplit_once('+')?;
    parse_bounce_token(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "outbox.42.fa3358f363f052b5@board.example";

    #[test]
    fn the_bounce_address_of_a_row_parses_back_to_the_row_and_its_tag() {
        for id in [1, 42, 9_000_000_000] {
            let address = bounce_address("lcjb@board.example", id, ID);
            let (row, tag) = parse_bounce_address(&address).unwrap();
            assert_eq!(row, id, "{address}");
            assert!(tag_matches(&tag, ID), "{address}");
        }
        assert_eq!(
            bounce_address("lcjb@board.example", 7, ID),
            format!("lcjb+bounce-7-{}@board.example", bounce_tag(ID))
        );
        assert_eq!(
            reply_address("lcjb@board.example", "0a1b"),
            "lcjb+0a1b@board.example"
        );
    }

    #[test]
    fn a_tag_belongs_to_one_message_id() {
        let tag = bounce_tag(ID);
        assert_eq!(tag.len(), 12);
        assert!(tag_matches(&tag.to_uppercase(), ID));
        assert!(!tag_matches(
            &tag,
            "outbox.42.fa3358f363f052b6@board.example"
        ));
        assert!(!tag_matches("000000000000", ID));
    }

    #[test]
    fn bounce_addresses_are_recognised_in_any_case_and_in_brackets() {
        let token = bounce_token(12, ID).to_uppercase();
        assert_eq!(
            parse_bounce_address(&format!("<LCJB+{token}@Board.Example>")),
            Some((12, bounce_tag(ID)))
        );
        assert_eq!(
            parse_bounce_address(&format!(" lcjb+{}@board.example ", bounce_token(12, ID))),
            Some((12, bounce_tag(ID)))
        );
        assert_eq!(
            parse_bounce_address(&format!("a+b+{}@x.example", bounce_token(3, ID))),
            Some((3, bounce_tag(ID)))
        );
    }

    #[test]
    fn anything_else_is_not_a_bounce_address() {
        for address in [
            "lcjb@board.example",
            "lcjb+3f9a1c0d5e7b@board.example",
            "lcjb+bounce-@board.example",
            "lcjb+bounce-12@board.example",
            "lcjb+bounce-12x-0a1b2c3d4e5f@board.example",
            "lcjb+bounce--12-0a1b2c3d4e5f@board.example",
            "lcjb+bounce-0-0a1b2c3d4e5f@board.example",
            "lcjb+bounce-12-0a1b2c3d4e5@board.example",
            "lcjb+bounce-12-0a1b2c3d4e5g@board.example",
            "lcjb+bounce-12-0a1b2c3d4e5f",
            "lcjb+bounce-12-0a1b2c3d4e5f@",
            "lcjb+bounce-99999999999999999999-0a1b2c3d4e5f@board.example",
            "lcjb+bounce-١٢-0a1b2c3d4e5f@board.example",
            "",
        ] {
            assert_eq!(parse_bounce_address(address), None, "{address:?}");
        }
    }
}
