//! Approval by reply: reading and trusting a reply (pure), asking for approval, and
//! applying a decision (the database steps).
//!
//! - [`token`]: the signed, expiring token in an approval request's Reply-To address,
//!   bound to the revision's hash and the approver.
//! - [`authresults`]: which `Authentication-Results` fields our own server wrote, and
//!   whether they authenticate the From domain.
//!
//! - [`key`]: the signing key, configured or generated into `data_dir`, held once by
//!   the daemon ([`key::ApprovalKey`]).
//! - [`request`]: who approves, one approver's request with its signed token and email,
//!   and what a meeting pack's approval is about (for `minutes::drafts` and `schedule`).
//! - [`apply`]: a filed reply verified and applied exactly once (the database step).
//! - [`keyed`]: the drain and loop of a step that needs the key (draft minutes in the
//!   minutes worker, replies here).
//! - [`worker`]: reply handling after filing.
//!
//! The approver's command is read by [`crate::text::commands`], which action updates
//! share.
//!
//! `token` and `authresults` touch no database, clock or network: the caller
//! passes the time, the key and the stored request. Recording decisions and single use
//! live in the store, called from `apply`.

pub mod apply;
pub mod authresults;
pub mod key;
pub mod keyed;
pub mod request;
pub mod token;
pub mod worker;

#[cfg(test)]
mod tests {
    /// Hostile and odd fragments shuffled by a small deterministic generator: none of the
    /// readers may panic, whatever they make of it.
    #[test]
    fn the_reply_and_header_readers_survive_arbitrary_input() {
        let fragments = [
            "APPROVE",
            "On ",
            " wrote:",
            "> ",
            "From: x",
            "Sent: y",
            "-- ",
            "\n",
            "\r\n",
            "<div class=\"gmail_quote\">",
            "<blockquote>",
            "</blockquote>",
            "<",
            ">",
            "&",
            "&#x110000;",
            "&#99999999999;",
            "İ",
            "😀",
            "－",
            "<div",
            "<blockquote type=\"cite\"",
            "<p class=MsoNormal>",
            "(",
            ")",
            "\"",
            ";",
            "=",
            "dkim=pass",
            "Received: from a ([192.0.2.1]) by b",
            "Authentication-Results: mx;",
            "[IPv6:::1]",
            "\t",
            " ",
            "\\",
            "REJECT",
            "Le ",
            " a écrit :",
        ];
        let mut state: u64 = 0x2545f4914f6cdd1d;
        for _ in 0..300 {
            let mut text = String::new();
            for _ in 0..50 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(fragments[(state % fragments.len() as u64) as usize]);
            }
            let _ = crate::text::commands::read(Some(&text), Some(&text));
            let _ = crate::text::reply::own_text_html(&text);
            let _ = crate::text::reply::without_closing(&text);
            let _ = crate::text::html::to_text(&text);
            let _ = super::authresults::parse(&text);
            let fields = super::authresults::header_fields(text.as_bytes());
            let trusted = super::authresults::trusted_results(
                fields.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                "mx",
            );
            let _ = super::authresults::verdict(&trusted, "b.example");
            let _ = super::token::ApprovalToken::parse(&text);
        }
    }
}
