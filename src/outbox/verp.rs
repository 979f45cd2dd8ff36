//! The addresses minuted puts on outgoing mail so that what comes back can be matched
//! to its outbox row: the reply address (`<local>+<token>@<domain>` of the board's
//! address) and the VERP return path (`<local>+bounce-<row id>@<domain>`), to which
//! servers send bounces. Pure string work; the filing step calls
//! [`parse_bounce_address`] on a bounce's recipient.

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

/// The envelope sender (return path) of outbox row `id`: bounces come back here.
pub fn bounce_address(board_address: &str, id: i64) -> String {
    with_suffix(board_address, &format!("bounce-{id}"))
}

/// The outbox row a bounce was addressed to, from the address it came back to
/// (`lcjb+bounce-42@board.example`, in any case, with or without angle brackets).
/// Anything else, including a reply token, is `None`.
pub fn parse_bounce_address(address: &str) -> Option<i64> {
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
    let digits = tag
        .get(..7)
        .filter(|prefix| prefix.eq_ignore_ascii_case("bounce-"))
        .map(|_| &tag[7..])?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounce_address_of_a_row_parses_back_to_the_row() {
        for id in [1, 42, 9_000_000_000] {
            let address = bounce_address("lcjb@board.example", id);
            assert_eq!(parse_bounce_address(&address), Some(id), "{address}");
        }
        assert_eq!(
            bounce_address("lcjb@board.example", 7),
            "lcjb+bounce-7@board.example"
        );
        assert_eq!(
            reply_address("lcjb@board.example", "0a1b"),
            "lcjb+0a1b@board.example"
        );
    }

    #[test]
    fn bounce_addresses_are_recognised_in_any_case_and_in_brackets() {
        assert_eq!(
            parse_bounce_address("<LCJB+Bounce-12@Board.Example>"),
            Some(12)
        );
        assert_eq!(
            parse_bounce_address(" lcjb+bounce-12@board.example "),
            Some(12)
        );
        assert_eq!(parse_bounce_address("a+b+bounce-3@x.example"), Some(3));
    }

    #[test]
    fn anything_else_is_not_a_bounce_address() {
        for address in [
            "lcjb@board.example",
            "lcjb+3f9a1c0d5e7b@board.example",
            "lcjb+bounce-@board.example",
            "lcjb+bounce-12x@board.example",
            "lcjb+bounce--12@board.example",
            "lcjb+bounce-0@board.example",
            "lcjb+bounce-12",
            "lcjb+bounce-12@",
            "lcjb+bounce-99999999999999999999@board.example",
            "lcjb+bounce-١٢@board.example",
            "",
        ] {
            assert_eq!(parse_bounce_address(address), None, "{address:?}");
        }
    }
}
