//! Reading the text of a message the way a person skims it: the subject without its
//! `Re:`/`Fwd:` prefixes, the sender's own words apart from the quoted thread, the
//! signature and the legal disclaimer, and the header block of a forwarded message.
//!
//! Everything here is pure string work on bounded input; nothing decides what a message
//! is. The scanners that find tags, dates and references live in `signals`.

use std::sync::LazyLock;

use regex::Regex;

/// Only this much of a body is read: an update's first pages say what it is about, and
/// a bound keeps hostile input cheap.
pub(crate) const MAX_BODY_CHARS: usize = 64 * 1024;

/// Compiles a pattern written in this crate. The patterns are constants, so a mistake
/// fails every test that reads text rather than a message in production.
#[allow(clippy::expect_used)]
pub(crate) fn pattern(re: &str) -> Regex {
    Regex::new(re).expect("a constant pattern compiles")
}

/// A subject with its reply and forward prefixes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subject {
    pub text: String,
    /// `Fwd:`, `FW:`, `TR:`, `WG:` ... anywhere in the prefix chain.
    pub forwarded: bool,
    /// `Re:`, `AW:`, `SV:` ... anywhere in the prefix chain.
    pub reply: bool,
}

static SUBJECT_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)^\s*(?:\[[^\]]{0,40}\]\s*)?(re|aw|sv|vs|antw|ant|odp|rif|r|ref|res|fw|fwd|fwd?|tr|wg|rv|enc|doorst|vl|vb|i)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    )
});

const FORWARD_PREFIXES: [&str; 9] = ["fw", "fwd", "tr", "wg", "rv", "enc", "doorst", "vl", "i"];

/// Strips `Re: Fwd: RE[2]:` and the like, remembering which kinds were there. A leading
/// `[tag]` before a prefix (mailing lists put one there) is kept in the text.
pub(crate) fn subject(raw: &str) -> Subject {
    let mut text = raw.trim().to_owned();
    let mut forwarded = false;
    let mut reply = false;
    // Bounded: each round removes at least one character.
    for _ in 0..16 {
        let Some(found) = SUBJECT_PREFIX.captures(&text) else {
            break;
        };
        let whole = found.get(0).map_or(0..0, |m| m.range());
        let prefix = found
            .get(1)
            .map(|m| m.as_str().to_ascii_lowercase())
            .unwrap_or_default();
        // Keep a leading list tag: `[LCJB 2023-12-13] Re: update` keeps its tag.
        let tag_end = if text.trim_start().starts_with('[') {
            text.find(']').map_or(0, |i| i + 1)
        } else {
            0
        };
        if FORWARD_PREFIXES.contains(&prefix.as_str()) {
            forwarded = true;
        } else {
            reply = true;
        }
        let keep = text[..tag_end].trim().to_owned();
        let rest = text[whole.end..].trim().to_owned();
        text = if keep.is_empty() {
            rest
        } else {
            format!("{keep} {rest}")
        };
    }
    Subject {
        text,
        forwarded,
        reply,
    }
}

/// A body split into what the sender wrote and what they quoted or forwarded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Body {
    /// The sender's own words, without signature and disclaimer.
    pub own: String,
    /// Quoted earlier messages of the thread (`>` lines, `On ... wrote:` and below).
    pub quoted: String,
    /// The message forwarded, when the body forwards one.
    pub forwarded: Option<Forwarded>,
    /// `Sent from my iPhone` and its kin: the message was written on a phone.
    pub from_phone: bool,
}

/// The header block and text of a forwarded message, as the forwarding client wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Forwarded {
    pub from_address: Option<String>,
    pub from_name: Option<String>,
    pub subject: Option<String>,
    pub body: String,
}

/// Separators only a forward writes.
static FORWARD_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)^(?:-{2,}\s*(?:forwarded message|forwarded message follows|mensaje reenviado|message transféré|weitergeleitete nachricht|doorgestuurd bericht|messaggio inoltrato|mensagem encaminhada)\s*-{2,}|begin forwarded message\s*:|début du message réexpédié\s*:|anfang der weitergeleiteten nachricht\s*:)$",
    )
});

/// Separators Outlook writes above the quoted message of a reply and of a forward.
static REPLY_SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)^(?:-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht|messaggio originale|mensagem original)\s*-{2,}|_{5,})$",
    )
});

static WROTE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?is)^(?:on|am|le|el|il|op|em|den|w dniu)\b.{0,300}(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napisał)\s*:\s*$",
    )
});

static SIGNATURE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)^(?:--\s?|sent from my \w+.*|sent from (?:outlook|mail) for \w+.*|get outlook for \w+.*|sent from yahoo mail.*|sent from samsung mobile.*|envoyé de mon \w+.*|von meinem \w+ gesendet.*|enviado desde mi \w+.*)$",
    )
});

static PHONE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)^(?:sent from my (?:iphone|ipad|android|mobile|phone|samsung|galaxy|blackberry|huawei)|sent from (?:outlook|mail) for (?:ios|android|iphone)|get outlook for (?:ios|android)|sent from samsung mobile|envoyé de mon iphone|von meinem iphone gesendet|enviado desde mi iphone)",
    )
});

/// Phrases that open the legal small print organisations append to every message.
const DISCLAIMER_OPENINGS: [&str; 14] = [
    "this email and any attachment",
    "this e-mail and any attachment",
    "this message and any attachment",
    "this email and any files",
    "this e-mail and any files",
    "this email is confidential",
    "this e-mail is confidential",
    "confidentiality notice",
    "disclaimer:",
    "the information contained in this",
    "the information in this email",
    "if you are not the intended recipient",
    "this email has been scanned",
    "please consider the environment",
];

/// Outlook's quoted header block: `From:` with `Sent:`/`Date:` and `To:`/`Subject:` in
/// the few lines below it.
fn header_block_at(lines: &[&str], at: usize) -> bool {
    let first = clean_header_line(lines[at]).to_ascii_lowercase();
    if !(first.starts_with("from:")
        || first.starts_with("von:")
        || first.starts_with("de :")
        || first.starts_with("de:"))
    {
        return false;
    }
    let mut date = false;
    let mut to_or_subject = false;
    for line in lines.iter().skip(at + 1).take(6) {
        let l = clean_header_line(line).to_ascii_lowercase();
        if [
            "sent:",
            "date:",
            "gesendet:",
            "envoyé :",
            "envoyé:",
            "enviado:",
        ]
        .iter()
        .any(|p| l.starts_with(p))
        {
            date = true;
        }
        if [
            "to:", "subject:", "an:", "betreff:", "à :", "objet :", "cc:",
        ]
        .iter()
        .any(|p| l.starts_with(p))
        {
            to_or_subject = true;
        }
    }
    date && to_or_subject
}

/// Header lines from HTML converted to text often carry emphasis marks: `*From:* x`.
fn clean_header_line(line: &str) -> String {
    line.trim()
        .trim_start_matches(['*', '>', ' '])
        .replacen(":*", ":", 1)
        .replacen(":**", ":", 1)
        .trim()
        .to_owned()
}

fn is_disclaimer(line: &str) -> bool {
    let lower = line.trim().to_lowercase();
    DISCLAIMER_OPENINGS.iter().any(|p| lower.starts_with(p))
        || (lower.contains("intended recipient") && lower.contains("confidential"))
}

/// Whether `text` lists who attended and who sent apologies, as minutes do: a
/// `Present`/`Attendees`/`In attendance` heading or label, and an `Apologies` one.
pub(crate) fn lists_attendance(text: &str) -> bool {
    let mut present = false;
    let mut apologies = false;
    for line in text.lines().take(400) {
        let lower = line
            .trim()
            .trim_start_matches(['#', '*', ' '])
            .to_lowercase();
        let label = lower.split(':').next().unwrap_or_default().trim();
        if [
            "present",
            "attendees",
            "attendance",
            "in attendance",
            "members present",
            "attending",
        ]
        .contains(&label)
            || lower.contains("present:")
            || lower.contains("attendees")
        {
            present = true;
        }
        if lower.contains("apologies") {
            apologies = true;
        }
    }
    present && apologies
}

/// Where the body's own text ends and why.
enum Break {
    Forward,
    Quote,
}

/// Splits `text` (already bounded by the caller) into own words, quotes and a forward.
/// `subject_forwarded` says the subject carried `Fwd:`, which turns an Outlook header
/// block (ambiguous between reply and forward) into a forward.
pub(crate) fn body(text: &str, subject_forwarded: bool) -> Body {
    let text = truncate(text, MAX_BODY_CHARS);
    let lines: Vec<&str> = text.lines().collect();
    let mut own = Vec::new();
    let mut quoted = Vec::new();
    let mut from_phone = false;
    let mut in_signature = false;
    let mut index = 0;
    let mut split: Option<(Break, usize)> = None;
    while index < lines.len() {
        let line = lines[index];
        let trimmed = line.trim();
        if FORWARD_MARKER.is_match(trimmed) {
            split = Some((Break::Forward, index + 1));
            break;
        }
        if REPLY_SEPARATOR.is_match(trimmed) {
            // Outlook's `-----Original Message-----` and `_____` rule open the quoted
            // message of a reply and of a forward alike: only forward evidence (the
            // subject's `FW:`) makes it a forward. A bare rule with no header block
            // below it is decoration.
            if trimmed.starts_with('_')
                && !(index + 1 < lines.len()
                    && header_block_at(&lines, next_non_blank(&lines, index + 1)))
            {
                index += 1;
                continue;
            }
            let kind = if subject_forwarded {
                Break::Forward
            } else {
                Break::Quote
            };
            split = Some((kind, index + 1));
            break;
        }
        if header_block_at(&lines, index) {
            let kind = if subject_forwarded {
                Break::Forward
            } else {
                Break::Quote
            };
            split = Some((kind, index));
            break;
        }
        // `On Fri, 1 Dec 2023 at 09:12, Name <addr> wrote:` may wrap over a few lines.
        if let Some(end) = wrote_line_end(&lines, index) {
            split = Some((
                if subject_forwarded {
                    Break::Forward
                } else {
                    Break::Quote
                },
                end + 1,
            ));
            break;
        }
        if trimmed.starts_with('>') {
            quoted.push(trimmed.trim_start_matches(['>', ' ']).to_owned());
            index += 1;
            continue;
        }
        if PHONE_LINE.is_match(trimmed) {
            from_phone = true;
        }
        if SIGNATURE_LINE.is_match(trimmed) || is_disclaimer(trimmed) {
            in_signature = true;
        }
        if !in_signature {
            own.push(line.to_owned());
        }
        index += 1;
    }
    let mut forwarded = None;
    if let Some((kind, start)) = split {
        let rest = &lines[start.min(lines.len())..];
        match kind {
            Break::Quote => {
                for line in rest {
                    quoted.push(line.trim_start_matches(['>', ' ']).to_owned());
                }
            }
            Break::Forward => forwarded = Some(parse_forwarded(rest)),
        }
    }
    Body {
        own: own.join("\n").trim().to_owned(),
        quoted: quoted.join("\n").trim().to_owned(),
        forwarded,
        from_phone,
    }
}

fn next_non_blank(lines: &[&str], from: usize) -> usize {
    let mut i = from;
    while i + 1 < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    i.min(lines.len().saturating_sub(1))
}

fn wrote_line_end(lines: &[&str], start: usize) -> Option<usize> {
    let first = lines[start].trim();
    let lower = first.to_lowercase();
    if ![
        "on ", "am ", "le ", "el ", "il ", "op ", "em ", "den ", "w dniu ",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
    {
        return None;
    }
    let mut joined = String::new();
    for (offset, line) in lines.iter().skip(start).take(3).enumerate() {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(line.trim());
        if WROTE_LINE.is_match(&joined) {
            return Some(start + offset);
        }
    }
    None
}

/// Reads the header block at the top of a forwarded message (`From:`, `Subject:`, ...)
/// and keeps the rest as its body.
fn parse_forwarded(lines: &[&str]) -> Forwarded {
    let mut forwarded = Forwarded::default();
    let mut index = 0;
    // Skip blank lines before the header block.
    while index < lines.len() && lines[index].trim().is_empty() {
        index += 1;
    }
    let mut saw_header = false;
    while index < lines.len() {
        let line = clean_header_line(lines[index]);
        if line.is_empty() {
            if saw_header {
                index += 1;
                break;
            }
            index += 1;
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            break;
        };
        let name = name.trim().to_lowercase();
        let value = value.trim();
        match name.as_str() {
            "from" | "von" | "de" => {
                let (name, address) = name_and_address(value);
                forwarded.from_name = name;
                forwarded.from_address = address;
            }
            "subject" | "betreff" | "objet" | "asunto" | "oggetto" => {
                forwarded.subject = Some(value.to_owned());
            }
            "date" | "sent" | "to" | "cc" | "reply-to" | "gesendet" | "an" | "envoyé" | "à"
            | "datum" | "enviado" | "para" | "fecha" => {}
            _ => break,
        }
        saw_header = true;
        index += 1;
    }
    if !saw_header {
        index = 0;
    }
    let rest: Vec<&str> = lines[index.min(lines.len())..].to_vec();
    // The forwarded message has its own quotes and signature: keep only its own words.
    let inner = body(&rest.join("\n"), false);
    forwarded.body = inner.own;
    forwarded
}

static ANGLE_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"<\s*(?:mailto:)?([^<>\s@]+@[^<>\s]+?)\s*>"));
static MAILTO_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\[mailto:([^\]\s@]+@[^\]\s]+)\]"));
static BARE_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"([A-Za-z0-9._%+'\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})"));

/// `Vigurs, Kilvinder <kv@x.example>` → (`Kilvinder Vigurs`, `kv@x.example`). Either
/// part may be missing: Exchange often writes the name alone.
pub(crate) fn name_and_address(value: &str) -> (Option<String>, Option<String>) {
    let address = ANGLE_ADDRESS
        .captures(value)
        .or_else(|| MAILTO_ADDRESS.captures(value))
        .or_else(|| BARE_ADDRESS.captures(value))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim_end_matches(['.', ',']).to_lowercase());
    let mut name = value.to_owned();
    if let Some(i) = name.find(['<', '[']) {
        name.truncate(i);
    }
    let mut name = name.trim().trim_matches(['"', '\'', ' ']).to_owned();
    if name.contains('@') {
        name.clear();
    }
    // A parenthesised department or organisation is not part of the name.
    if let Some(open) = name.find('(') {
        let close = name[open..].find(')').map_or(name.len(), |i| open + i + 1);
        name.replace_range(open..close, "");
        name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    // `Surname, Forename` is how Exchange address books write people.
    if let Some((last, first)) = name.split_once(',') {
        let (last, first) = (last.trim(), first.trim());
        if !last.is_empty()
            && !first.is_empty()
            && last.split_whitespace().count() <= 2
            && first.split_whitespace().count() <= 3
        {
            name = format!("{first} {last}");
        }
    }
    let name = (!name.is_empty()).then_some(name);
    (name, address)
}

/// Whether `text[start..end]` stands as whole words: no letter or digit touches it on
/// either side ("specialist" does not hold "cialis").
pub(crate) fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let touches = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    !touches(text[..start].chars().next_back()) && !touches(text[end..].chars().next())
}

/// At most `max` characters of `text`, cut on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    // No more bytes than `max` is no more characters: nothing to count.
    if text.len() <= max {
        return text;
    }
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// Lower-case words of three letters or more, for comparing titles with subjects.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_prefixes_in_several_languages_are_stripped() {
        let cases = [
            ("Re: Written update", "Written update", false, true),
            ("RE: FW: Written update", "Written update", true, true),
            (
                "Fwd: [LCJB 2023-12-13] Probation",
                "[LCJB 2023-12-13] Probation",
                true,
                false,
            ),
            ("AW: WG: Bericht", "Bericht", true, true),
            ("TR : Mise à jour", "Mise à jour", true, false),
            ("Re[2]: Item 4", "Item 4", false, true),
            (
                "[LCJB 2023-12-13] Re: update",
                "[LCJB 2023-12-13] update",
                false,
                true,
            ),
            ("Regarding the update", "Regarding the update", false, false),
            ("Item 2: update", "Item 2: update", false, false),
            ("", "", false, false),
        ];
        for (raw, text, forwarded, reply) in cases {
            assert_eq!(
                subject(raw),
                Subject {
                    text: text.into(),
                    forwarded,
                    reply
                },
                "{raw}"
            );
        }
    }

    #[test]
    fn gmail_quotes_are_separated_from_own_words() {
        let b = body(
            "Update attached for item 4.\n\nThanks,\nKris\n\nOn Fri, 1 Dec 2023 at 09:12, LCJB Secretariat <\nlcjb@board.example> wrote:\n> Please send your update for Item 2.b\n> by 6 December.\n",
            false,
        );
        assert_eq!(b.own, "Update attached for item 4.\n\nThanks,\nKris");
        assert!(b.quoted.contains("Item 2.b"), "{b:?}");
        assert!(b.forwarded.is_none());
    }

    #[test]
    fn an_outlook_header_block_starts_the_quote_of_a_reply() {
        let b = body(
            "Done - see attached.\n\nLeah\n\nFrom: LCJB Secretariat <lcjb@board.example>\nSent: 01 December 2023 09:12\nTo: Simms, Leah <leah.simms@probation.justice.example>\nSubject: Your actions LCJB-A3\n\nPlease update.",
            false,
        );
        assert_eq!(b.own, "Done - see attached.\n\nLeah");
        assert!(b.quoted.contains("LCJB-A3"));
    }

    #[test]
    fn forwarded_messages_of_common_clients_yield_the_original_sender() {
        let cases = [
            "FYI\n\n---------- Forwarded message ---------\nFrom: Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>\nDate: Thu, 30 Nov 2023 at 17:01\nSubject: Written update item 2b\nTo: <lcjb-secretariat@mopac.example>\n\nPlease find our update.\n",
            "Begin forwarded message:\n\nFrom: Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>\nSubject: Written update item 2b\nDate: 30 November 2023 at 17:01:00 GMT\nTo: lcjb-secretariat@mopac.example\n\nPlease find our update.",
            "FYI\n\n________________________________\nFrom: Vigurs, Kilvinder <Kilvinder.Vigurs@probation.justice.example>\nSent: 30 November 2023 17:01\nTo: LCJB Secretariat <lcjb-secretariat@mopac.example>\nSubject: Written update item 2b\n\nPlease find our update.\n\nThis email and any attachments are confidential.",
            "-----Original Message-----\nFrom: kilvinder.vigurs@probation.justice.example [mailto:kilvinder.vigurs@probation.justice.example]\nSent: 30 November 2023 17:01\nTo: lcjb-secretariat@mopac.example\nSubject: Written update item 2b\n\nPlease find our update.",
        ];
        for text in cases {
            let b = body(text, true);
            let f = b
                .forwarded
                .unwrap_or_else(|| panic!("no forward in {text}"));
            assert_eq!(
                f.from_address.as_deref(),
                Some("kilvinder.vigurs@probation.justice.example"),
                "{text}"
            );
            assert_eq!(
                f.subject.as_deref(),
                Some("Written update item 2b"),
                "{text}"
            );
            assert_eq!(f.body, "Please find our update.", "{text}");
        }
    }

    #[test]
    fn signatures_disclaimers_and_phone_footers_are_not_own_words() {
        let b = body("Approved.\n\nSent from my iPhone\n", false);
        assert_eq!(b.own, "Approved.");
        assert!(b.from_phone);
        let b = body("Our update is attached.\n--\nJo Towens\nHMCTS\n", false);
        assert_eq!(b.own, "Our update is attached.");
        let b = body(
            "Our update is attached.\n\nThis e-mail and any attachments are confidential and intended solely for the addressee. Item 9 of 13/12/2023.",
            false,
        );
        assert_eq!(b.own, "Our update is attached.");
    }

    #[test]
    fn names_and_addresses_are_read_as_clients_write_them() {
        let cases = [
            (
                "Vigurs, Kilvinder <K.V@x.example>",
                Some("Kilvinder Vigurs"),
                Some("k.v@x.example"),
            ),
            (
                "\"Jo Towens\" <jo.towens@hmcts.example>",
                Some("Jo Towens"),
                Some("jo.towens@hmcts.example"),
            ),
            (
                "jo@x.example [mailto:jo@x.example]",
                None,
                Some("jo@x.example"),
            ),
            ("Kris Venkatasami", Some("Kris Venkatasami"), None),
            ("", None, None),
        ];
        for (value, name, address) in cases {
            let (n, a) = name_and_address(value);
            assert_eq!((n.as_deref(), a.as_deref()), (name, address), "{value}");
        }
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("é’x", 2), "é’");
        assert_eq!(truncate("ab", 9), "ab");
    }
}
