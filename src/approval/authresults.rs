//! `Authentication-Results` (RFC 8601): which of them to believe, and whether they say
//! the reply really comes from its From domain.
//!
//! Anyone can write an `Authentication-Results` header into a message; only the ones our
//! own mail server added mean anything. The rule, precisely:
//!
//! 1. Header fields are read top to bottom (newest first, as each server prepends).
//! 2. A `Received` field is an *internal hop* when its `from` clause names no IP address
//!    other than loopback (`127.0.0.0/8`, `::1`): delivery within our own machine, such
//!    as Postfix handing to Dovecot over LMTP. The first `Received` field that is not an
//!    internal hop is the *border*: our server receiving the message from outside.
//! 3. An `Authentication-Results` field is trusted only when its authserv-id equals
//!    `approval.authserv_id` (case-insensitive) and it appears above the border. Every
//!    field below the border was in the message before our server saw it, whatever
//!    authserv-id it claims, and is ignored (and counted, as evidence of a forgery
//!    attempt when it claims our id).
//!
//! So the mail server must add its `Authentication-Results` above its own `Received`
//! field (OpenDKIM, OpenDMARC and rspamd milters under Postfix do) on the machine that
//! stores the mailbox; a server that writes them lower, or on another machine, makes
//! every reply fail the check, never pass it.
//!
//! Given the trusted results, [`verdict`] passes when `dmarc=pass` names the From domain
//! (`header.from`), or `dkim=pass` signs for a domain aligned with it (`header.d` equal
//! to the From domain, or one a parent of the other: relaxed alignment). This module
//! does not verify DKIM signatures itself and does no DNS.

use serde::Serialize;

/// One `Authentication-Results` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthResults {
    pub authserv_id: String,
    pub results: Vec<MethodResult>,
}

/// One `method=result` with its properties (`header.d=mopac.example`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodResult {
    /// Lower case: `dkim`, `dmarc`, `spf`, `arc`, ...
    pub method: String,
    /// Lower case: `pass`, `fail`, `none`, `neutral`, `temperror`, ...
    pub result: String,
    /// (`header.d`, `mopac.example`), names lower case, values as written.
    pub properties: Vec<(String, String)>,
}

impl MethodResult {
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The results we believe, and how many fields we did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrustedResults {
    pub trusted: Vec<AuthResults>,
    /// Fields with our authserv-id below the border: planted by the sender or a relay.
    pub ignored_claiming_our_id: usize,
    /// Fields from other servers (their own business).
    pub ignored_other: usize,
}

/// Removes RFC 5322 comments (nested parentheses) outside quoted strings.
fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            if depth == 0 {
                out.push(c);
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => {
                depth -= 1;
                out.push(' ');
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Splits on `;` outside quoted strings.
fn split_semicolons(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .replace("\\\"", "\"")
}

/// Parses the value of one `Authentication-Results` field; `None` when it has no
/// authserv-id.
pub fn parse(value: &str) -> Option<AuthResults> {
    let clean = strip_comments(&value.replace(['\r', '\n'], " "));
    let mut parts = split_semicolons(&clean).into_iter();
    let head = parts.next()?;
    // authserv-id [version]
    let authserv_id = head.split_whitespace().next()?.to_ascii_lowercase();
    if authserv_id.contains('=') {
        return None;
    }
    let mut results = Vec::new();
    for part in parts {
        let mut tokens = part.split_whitespace();
        let Some(first) = tokens.next() else { continue };
        if first.eq_ignore_ascii_case("none") {
            continue;
        }
        let Some((method, result)) = first.split_once('=') else {
            continue;
        };
        let method = method
            .split('/')
            .next()
            .unwrap_or(method)
            .to_ascii_lowercase();
        let mut properties = Vec::new();
        for token in tokens {
            if let Some((name, value)) = token.split_once('=') {
                properties.push((name.to_ascii_lowercase(), unquote(value)));
            }
        }
        results.push(MethodResult {
            method,
            result: result.to_ascii_lowercase(),
            properties,
        });
    }
    Some(AuthResults {
        authserv_id,
        results,
    })
}

/// Whether a `Received` field records a hop within this machine (see the module doc).
fn is_internal_hop(received: &str) -> bool {
    let value = received.replace(['\r', '\n'], " ");
    let lower = value.to_ascii_lowercase();
    // The `from` clause runs to ` by `; a Received without `from` is local submission.
    let Some(from_at) = find_word(&lower, "from") else {
        return true;
    };
    let from_clause = match find_word(&lower[from_at..], "by") {
        Some(by) => &value[from_at..from_at + by],
        None => &value[from_at..],
    };
    addresses_in(from_clause).iter().all(|ip| is_loopback(ip))
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if before.is_none_or(char::is_whitespace) && after.is_none_or(char::is_whitespace) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// IP address literals in a `from` clause: `[192.0.2.1]`, `[IPv6:2001:db8::1]`, and bare
/// dotted quads some servers write.
fn addresses_in(clause: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = clause;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        let inside = &rest[open + 1..open + close];
        let inside = inside
            .strip_prefix("IPv6:")
            .or_else(|| inside.strip_prefix("ipv6:"))
            .unwrap_or(inside);
        if inside.parse::<std::net::IpAddr>().is_ok() {
            found.push(inside.to_owned());
        }
        rest = &rest[open + close..];
    }
    for word in clause.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']')) {
        if word.parse::<std::net::Ipv4Addr>().is_ok() && !found.iter().any(|f| f == word) {
            found.push(word.to_owned());
        }
    }
    found
}

fn is_loopback(ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// Selects the `Authentication-Results` fields to believe from a message's header
/// fields, given top to bottom as (name, unfolded value).
pub fn trusted_results<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    authserv_id: &str,
) -> TrustedResults {
    let ours = authserv_id.trim().to_ascii_lowercase();
    let mut out = TrustedResults::default();
    let mut above_border = true;
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("received") {
            if above_border && !is_internal_hop(value) {
                above_border = false;
            }
            continue;
        }
        if !name.eq_ignore_ascii_case("authentication-results") {
            continue;
        }
        match parse(value) {
            Some(results) if results.authserv_id == ours && above_border => {
                out.trusted.push(results)
            }
            Some(results) if results.authserv_id == ours => out.ignored_claiming_our_id += 1,
            _ => out.ignored_other += 1,
        }
    }
    out
}

/// The header fields of a raw message, top to bottom, unfolded.
pub fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let end = find_header_end(raw);
    let text = String::from_utf8_lossy(&raw[..end]);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            if !name.is_empty() && !name.contains(' ') {
                fields.push((name.to_owned(), value.trim().to_owned()));
            }
        }
    }
    fields
}

fn find_header_end(raw: &[u8]) -> usize {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = raw.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => raw.len(),
    }
}

/// Whether the trusted results authenticate the From domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum AuthVerdict {
    /// `method` is `dmarc` or `dkim`; `domain` what passed.
    Pass {
        method: String,
        domain: String,
    },
    Fail {
        reason: String,
    },
}

fn aligned(signing: &str, from: &str) -> bool {
    let signing = signing.trim().trim_end_matches('.').to_ascii_lowercase();
    let from = from.trim().trim_end_matches('.').to_ascii_lowercase();
    // Relaxed alignment without a public-suffix list: one domain is the other or its
    // parent, and the shorter has at least two labels (never a bare "uk").
    let shorter_ok = |d: &str| d.contains('.');
    signing == from
        || (from.ends_with(&format!(".{signing}")) && shorter_ok(&signing))
        || (signing.ends_with(&format!(".{from}")) && shorter_ok(&from))
}

/// Decides from the trusted results whether the reply is authenticated for
/// `from_domain`.
pub fn verdict(trusted: &TrustedResults, from_domain: &str) -> AuthVerdict {
    if trusted.trusted.is_empty() {
        let reason = if trusted.ignored_claiming_our_id > 0 {
            format!(
                "no Authentication-Results from our server; {} claiming its id were added before it and ignored",
                trusted.ignored_claiming_our_id
            )
        } else {
            "no Authentication-Results from our server".to_owned()
        };
        return AuthVerdict::Fail { reason };
    }
    // DMARC first: it is the stronger statement (alignment checked by the server).
    let mut results: Vec<&MethodResult> = trusted
        .trusted
        .iter()
        .flat_map(|r| r.results.iter())
        .collect();
    results.sort_by_key(|r| r.method != "dmarc");
    let mut seen = Vec::new();
    for result in results {
        match (result.method.as_str(), result.result.as_str()) {
            ("dmarc", "pass") => {
                let domain = result.property("header.from").unwrap_or("");
                if domain.eq_ignore_ascii_case(from_domain) {
                    return AuthVerdict::Pass {
                        method: "dmarc".into(),
                        domain: domain.to_ascii_lowercase(),
                    };
                }
                seen.push(format!("dmarc=pass for {domain}"));
            }
            ("dkim", "pass") => {
                let domain = result
                    .property("header.d")
                    .map(str::to_owned)
                    .or_else(|| {
                        result
                            .property("header.i")
                            .and_then(|i| i.rsplit_once('@').map(|(_, d)| d.to_owned()))
                    })
                    .unwrap_or_default();
                if !domain.is_empty() && aligned(&domain, from_domain) {
                    return AuthVerdict::Pass {
                        method: "dkim".into(),
                        domain: domain.to_ascii_lowercase(),
                    };
                }
                seen.push(format!("dkim=pass for {domain}, not aligned"));
            }
            (method @ ("dkim" | "dmarc"), result) => seen.push(format!("{method}={result}")),
            _ => {}
        }
    }
    let reason = if seen.is_empty() {
        format!("no DKIM or DMARC result for {from_domain}")
    } else {
        format!("no aligned pass for {from_domain}: {}", seen.join(", "))
    };
    AuthVerdict::Fail { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "mx.board.example";

    fn fields(raw: &str) -> Vec<(String, String)> {
        header_fields(raw.as_bytes())
    }

    fn judge(raw: &str, from_domain: &str) -> (TrustedResults, AuthVerdict) {
        let fields = fields(raw);
        let trusted = trusted_results(fields.iter().map(|(n, v)| (n.as_str(), v.as_str())), OURS);
        let verdict = verdict(&trusted, from_domain);
        (trusted, verdict)
    }

    #[test]
    fn a_field_is_parsed_with_comments_versions_and_properties() {
        let parsed = parse(
            "mx.board.example 1; dkim=pass (2048-bit key; unprotected) header.d=mopac.example header.i=@mopac.example header.s=sel1;\r\n dmarc=pass (p=reject dis=none) header.from=mopac.example; spf=pass smtp.mailfrom=\"x@mopac.example\"",
        )
        .unwrap();
        assert_eq!(parsed.authserv_id, "mx.board.example");
        assert_eq!(parsed.results.len(), 3);
        assert_eq!(parsed.results[0].method, "dkim");
        assert_eq!(
            parsed.results[0].property("header.d"),
            Some("mopac.example")
        );
        assert_eq!(
            parsed.results[1].property("header.from"),
            Some("mopac.example")
        );
        assert_eq!(
            parsed.results[2].property("smtp.mailfrom"),
            Some("x@mopac.example")
        );
        assert_eq!(parse("mx.board.example; none").unwrap().results, vec![]);
    }

    #[test]
    fn our_results_above_the_border_are_trusted() {
        let raw = "Return-Path: <t@mopac.example>\r\nDelivered-To: lcjb@board.example\r\nReceived: from mx.board.example\r\n\tby mx.board.example with LMTP id abc; Mon, 4 Dec 2023 10:05:00 +0000\r\nAuthentication-Results: mx.board.example; dkim=pass header.d=mopac.example; dmarc=pass header.from=mopac.example\r\nReceived: from mail.mopac.example (mail.mopac.example [192.0.2.10])\r\n\tby mx.board.example (Postfix) with ESMTPS id 1; Mon, 4 Dec 2023 10:05:00 +0000\r\nFrom: Tamara <tamara.barnett@mopac.example>\r\n\r\nApproved\r\n";
        let (trusted, verdict) = judge(raw, "mopac.example");
        assert_eq!(trusted.trusted.len(), 1);
        assert_eq!(
            verdict,
            AuthVerdict::Pass {
                method: "dmarc".into(),
                domain: "mopac.example".into()
            }
        );
    }

    #[test]
    fn results_claiming_our_id_below_the_border_are_forgeries() {
        let raw = "Authentication-Results: mx.board.example; dkim=fail header.d=mopac.example; dmarc=fail header.from=mopac.example\r\nReceived: from attacker.example (unknown [203.0.113.9])\r\n\tby mx.board.example (Postfix) with ESMTP id 2\r\nAuthentication-Results: mx.board.example; dkim=pass header.d=mopac.example; dmarc=pass header.from=mopac.example\r\nReceived: from mx.board.example (localhost [127.0.0.1]) by mx.board.example\r\nFrom: tamara.barnett@mopac.example\r\n\r\nApproved\r\n";
        let (trusted, verdict) = judge(raw, "mopac.example");
        assert_eq!(trusted.trusted.len(), 1);
        assert_eq!(trusted.ignored_claiming_our_id, 1);
        assert!(matches!(verdict, AuthVerdict::Fail { .. }), "{verdict:?}");
    }

    #[test]
    fn a_forged_field_with_a_helo_naming_our_server_is_still_below_the_border() {
        let raw = "Received: from mx.board.example (evil.example [198.51.100.7])\r\n\tby mx.board.example (Postfix) with ESMTP id 3\r\nAuthentication-Results: MX.BOARD.EXAMPLE; dkim=pass header.d=mopac.example; dmarc=pass header.from=mopac.example\r\nFrom: tamara.barnett@mopac.example\r\n\r\nApproved\r\n";
        let (trusted, verdict) = judge(raw, "mopac.example");
        assert!(trusted.trusted.is_empty());
        assert_eq!(trusted.ignored_claiming_our_id, 1);
        let AuthVerdict::Fail { reason } = verdict else {
            panic!("passed")
        };
        assert!(reason.contains("ignored"), "{reason}");
    }

    #[test]
    fn another_servers_results_do_not_count() {
        let raw = "Authentication-Results: mx.google.com; dkim=pass header.d=mopac.example\r\nReceived: from a (a [192.0.2.1]) by mx.board.example\r\n\r\n";
        let (trusted, verdict) = judge(raw, "mopac.example");
        assert_eq!(trusted.ignored_other, 1);
        assert!(matches!(verdict, AuthVerdict::Fail { .. }));
    }

    #[test]
    fn dkim_must_be_aligned_with_the_from_domain() {
        let make = |d: &str| {
            format!("Authentication-Results: mx.board.example; dkim=pass header.d={d}\r\nReceived: from a (a [192.0.2.1]) by mx.board.example\r\n\r\n")
        };
        assert!(matches!(
            judge(&make("mopac.example"), "mopac.example").1,
            AuthVerdict::Pass { .. }
        ));
        assert!(matches!(
            judge(&make("mail.mopac.example"), "mopac.example").1,
            AuthVerdict::Pass { .. }
        ));
        assert!(matches!(
            judge(&make("mopac.example"), "london.mopac.example").1,
            AuthVerdict::Pass { .. }
        ));
        assert!(matches!(
            judge(&make("sendgrid.example"), "mopac.example").1,
            AuthVerdict::Fail { .. }
        ));
        assert!(matches!(
            judge(&make("example"), "mopac.example").1,
            AuthVerdict::Fail { .. }
        ));
        let failing = "Authentication-Results: mx.board.example; dkim=fail header.d=mopac.example; dmarc=none\r\nReceived: from a (a [192.0.2.1]) by mx.board.example\r\n\r\n";
        let AuthVerdict::Fail { reason } = judge(failing, "mopac.example").1 else {
            panic!()
        };
        assert!(reason.contains("dkim=fail"), "{reason}");
    }

    #[test]
    fn a_message_without_any_results_fails() {
        let (_, verdict) = judge("From: a@b.example\r\n\r\nApproved\r\n", "b.example");
        assert_eq!(
            verdict,
            AuthVerdict::Fail {
                reason: "no Authentication-Results from our server".into()
            }
        );
    }

    #[test]
    fn internal_hops_are_recognised() {
        assert!(is_internal_hop(
            "from mx.board.example by mx.board.example with LMTP id x"
        ));
        assert!(is_internal_hop(
            "from localhost (localhost [127.0.0.1]) by mx with ESMTP"
        ));
        assert!(is_internal_hop("from localhost ([IPv6:::1]) by mx"));
        assert!(is_internal_hop(
            "by mx.board.example (Postfix, from userid 0)"
        ));
        assert!(!is_internal_hop("from mail.x (mail.x [192.0.2.1]) by mx"));
        assert!(!is_internal_hop("from x ([IPv6:2001:db8::1]) by mx"));
    }
}
