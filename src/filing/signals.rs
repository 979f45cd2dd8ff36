//! Scanners that find what a message names: meeting tags and dates, agenda items, action
//! references, out-of-office and bounce wording, approval words, spam wording. Each
//! returns what it found in the text; weighing what was found is `filing`'s job.

use crate::domain::refs::item_key;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use chrono::NaiveDate;
use regex::Regex;

use super::text::pattern;

/// A date written in the text: complete, or day and month with the year left to context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateMention {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    /// Directly after the board's slug: `[LCJB 2023-12-13]`, `LCJB-2023-12-13`.
    pub tagged: bool,
    /// As written, for reasons.
    pub written: String,
}

impl DateMention {
    /// Whether `date` is what this mention means.
    pub fn matches(&self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        date.month() == self.month
            && date.day() == self.day
            && self.year.is_none_or(|y| y == date.year())
    }
}

/// Every date written in `text` ([`crate::text::dates`]), each marked when it comes
/// directly after the board's slug.
pub(crate) fn dates(text: &str, slug: &str) -> Vec<DateMention> {
    crate::text::dates::dates(text)
        .into_iter()
        .map(|found| {
            let tag_start = slug_before(text, found.range.start, slug);
            DateMention {
                year: found.year,
                month: found.month,
                day: found.day,
                tagged: tag_start.is_some(),
                written: text[tag_start.unwrap_or(found.range.start)..found.range.end]
                    .trim_end_matches('.')
                    .to_owned(),
            }
        })
        .collect()
}

/// Whether the text just before `at` is the board's slug: `[LCJB `, `LCJB-`, `lcjb:`.
fn after_slug(text: &str, at: usize, slug: &str) -> bool {
    slug_before(text, at, slug).is_some()
}

/// Where the board's slug starts when it comes just before `at`.
fn slug_before(text: &str, at: usize, slug: &str) -> Option<usize> {
    if slug.is_empty() {
        return None;
    }
    let before = text[..at].trim_end_matches([' ', '-', ':', '_', '[', '(', '\t']);
    let start = before.len().checked_sub(slug.len())?;
    let found = before.is_char_boundary(start)
        && before[start..].eq_ignore_ascii_case(slug)
        && !before[..start]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
    found.then_some(start)
}

/// An agenda item named in the text, as written and normalised (`2.b` → `2b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemMention {
    pub key: String,
    pub written: String,
}

static ITEM_WORD: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\b(?:agenda\s+)?items?\b\s*(?:no\.?|number|#)?\s*"));
static ITEM_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)^(\d{1,2})(?:\.?([a-h])\b|\s?\(([a-h])\)|\b)(?:\s*\(?(?:i{1,3}|iv|vi{0,3})\))?")
});
static ITEM_LIST_JOIN: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)^\s*(?:,|and|&|/|or)\s*(?:items?\s*)?"));

/// Agenda items named as `Item 2b`, `Item 2.b`, `item 2(b)`, `agenda item 4`, `Items 2b
/// and 4`. A bare `2b` is not taken: too many numbers in updates look like it.
pub(crate) fn items(text: &str) -> Vec<ItemMention> {
    let mut found: Vec<ItemMention> = Vec::new();
    for word in ITEM_WORD.find_iter(text) {
        let mut rest = &text[word.end()..];
        let mut first = true;
        loop {
            if !first {
                let Some(join) = ITEM_LIST_JOIN.find(rest) else {
                    break;
                };
                rest = &rest[join.end()..];
            }
            let Some(c) = ITEM_NUMBER.captures(rest) else {
                break;
            };
            let (Some(whole), Some(number)) = (c.get(0), c.get(1)) else {
                break;
            };
            let letter = c.get(2).or_else(|| c.get(3)).map_or("", |m| m.as_str());
            let key = format!("{}{}", number.as_str(), letter.to_ascii_lowercase());
            if !found.iter().any(|f| f.key == key) {
                found.push(ItemMention {
                    key,
                    written: format!("Item {}", whole.as_str().trim()),
                });
            }
            rest = &rest[whole.end()..];
            first = false;
        }
    }
    found
}

/// Action references `LCJB-A17` (also `LCJB A17`, `lcjb-a17`), normalised upper case.
pub(crate) fn actions(text: &str, slug: &str) -> Vec<String> {
    if slug.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<String> = Vec::new();
    for c in ACTION_NUMBER.captures_iter(text) {
        let (Some(whole), Some(number)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if !after_slug(text, whole.start(), slug) {
            continue;
        }
        if let Ok(n) = number.as_str().parse::<u32>() {
            let reference = format!("{}-A{n}", slug.to_uppercase());
            if !found.contains(&reference) {
                found.push(reference);
            }
        }
    }
    found
}

static ACTION_NUMBER: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?i)a[\s\-]?(\d{1,5})\b"));

/// Subjects that auto-responders write, in the languages agencies' staff use. Compared
/// in lower case against the subject's start or as a whole phrase.
const OUT_OF_OFFICE_SUBJECTS: [&str; 40] = [
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "autoresponse",
    "away from the office",
    "away from my desk",
    "annual leave",
    "on leave",
    "on holiday",
    "ooo:",
    "ooo ",
    "abwesenheitsnotiz",
    "automatische antwort",
    "abwesend",
    "réponse automatique",
    "reponse automatique",
    "absence du bureau",
    "absent du bureau",
    "respuesta automática",
    "respuesta automatica",
    "fuera de la oficina",
    "risposta automatica",
    "fuori ufficio",
    "automatisch antwoord",
    "afwezig",
    "resposta automática",
    "fora do escritório",
    "automatiskt svar",
    "autosvar",
    "frånvaro",
    "automatyczna odpowiedź",
    "poza biurem",
    "automatikus válasz",
    "自動応答",
    "自动回复",
];

/// The out-of-office phrase the subject carries, if any.
pub(crate) fn out_of_office_subject(subject: &str) -> Option<&'static str> {
    let lower = subject.to_lowercase();
    OUT_OF_OFFICE_SUBJECTS
        .iter()
        .find(|p| {
            lower.starts_with(*p)
                || lower.contains(&format!(" {p}"))
                || lower.contains(&format!("[{p}"))
                || lower.contains(&format!(": {p}"))
        })
        .copied()
}

const OUT_OF_OFFICE_BODY: [&str; 24] = [
    "i am out of the office",
    "i'm out of the office",
    "i am currently out of the office",
    "i'm currently out of the office",
    "i am currently away",
    "i am away from the office",
    "i am on annual leave",
    "i'm on annual leave",
    "i am currently on annual leave",
    "i am on leave",
    "with limited access to email",
    "with limited access to my email",
    "without access to email",
    "i will respond to your email on my return",
    "i will reply on my return",
    "thank you for your email. i am",
    "this is an automatic reply",
    "this is an automated response",
    "je suis absent",
    "je suis actuellement absent",
    "ich bin bis",
    "ich bin derzeit nicht im büro",
    "estaré fuera de la oficina",
    "sono fuori ufficio",
];

/// The out-of-office phrase the sender's own words carry, if any.
pub(crate) fn out_of_office_body(own: &str) -> Option<String> {
    // Only the opening: an update may well say, deep in its text, that someone "will be
    // on leave", but an automatic reply says so at once.
    let opening = super::text::truncate(own, 600);
    let lower = opening.to_lowercase().replace('’', "'");
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(phrase) = OUT_OF_OFFICE_BODY.iter().find(|p| lower.contains(*p)) {
        return Some((*phrase).to_owned());
    }
    OUT_OF_OFFICE_SENTENCE
        .find(&lower)
        .map(|m| m.as_str().trim().to_owned())
}

/// "I'm currently on parental leave", "I will be out of the office until ...": the
/// sentence auto-responders open with, in its common variations.
static OUT_OF_OFFICE_SENTENCE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"\b(?:i am|i'm|i will be|i'll be|i shall be)\s+(?:currently\s+|now\s+)?(?:out of (?:the )?office|on (?:annual |parental |maternity |paternity |sick |study )?leave|away from (?:the |my )?(?:office|desk)|on holiday|on vacation|travelling|not in the office|working away)\b",
    )
});

const BOUNCE_SUBJECTS: [&str; 16] = [
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "delivery failure",
    "delivery has failed",
    "mail delivery failed",
    "mail delivery failure",
    "returned mail",
    "failure notice",
    "delivery notification",
    "message not delivered",
    "could not be delivered",
    "non remis",
    "unzustellbar",
    "onbestelbaar",
    "no se puede entregar",
];

/// The bounce wording the subject carries, if any.
pub(crate) fn bounce_subject(subject: &str) -> Option<&'static str> {
    let lower = subject.to_lowercase();
    BOUNCE_SUBJECTS.iter().find(|p| lower.contains(*p)).copied()
}

/// Addresses mail systems send bounces from.
pub(crate) fn is_daemon_address(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or_default().to_lowercase();
    matches!(
        local.as_str(),
        "mailer-daemon" | "postmaster" | "mail-daemon" | "maildaemon" | "mailerdaemon"
    ) || local.starts_with("mailer-daemon")
        || local == "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e"
}

/// Wording that no board correspondence uses.
const SPAM_PHRASES: [&str; 40] = [
    "unsubscribe",
    "click here",
    "limited time offer",
    "act now",
    "you have won",
    "you've won",
    "congratulations! you",
    "claim your prize",
    "lottery",
    "bitcoin",
    "crypto",
    "wire transfer",
    "western union",
    "verify your account",
    "your password will expire",
    "your mailbox is full",
    "mailbox quota",
    "dear beneficiary",
    "dear sir/madam",
    "million dollars",
    "seo services",
    "guest post",
    "rank your website",
    "viagra",
    "cialis",
    "casino",
    "100% free",
    "risk-free",
    "special promotion",
    "exclusive deal",
    "update your password",
    "reset your password",
    "confirm your password",
    "account has been suspended",
    "account will be suspended",
    "unusual sign-in activity",
    "shared a document with you",
    "you have a new voicemail",
    "gift card",
    "dear customer",
];

/// All of [`SPAM_PHRASES`] at once: one pass over the text, not one a phrase.
#[allow(clippy::expect_used)]
static SPAM_SEARCH: LazyLock<AhoCorasick> =
    LazyLock::new(|| AhoCorasick::new(SPAM_PHRASES).expect("constant phrases build a searcher"));

/// The spam phrases found in `text` as whole words ("specialist" does not contain
/// "cialis"), in the order of [`SPAM_PHRASES`].
pub(crate) fn spam_phrases(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    let mut found = [false; SPAM_PHRASES.len()];
    // Overlapping: a phrase inside a word must not hide one that starts within it.
    for m in SPAM_SEARCH.find_overlapping_iter(&lower) {
        if super::text::stands_alone(&lower, m.start(), m.end()) {
            found[m.pattern().as_usize()] = true;
        }
    }
    SPAM_PHRASES
        .iter()
        .zip(found)
        .filter_map(|(phrase, found)| found.then_some(*phrase))
        .collect()
}

/// What a short reply says to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApprovalWord {
    Approve,
    Reject,
}

static APPROVAL_FIRST_WORD: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)^\W*(approve|approved|yes|agreed|ok to circulate|happy to approve|reject|rejected|not approved|no)\b",
    )
});

/// The approval word the reply opens with, if any.
pub(crate) fn approval_word(own: &str) -> Option<ApprovalWord> {
    let first = own.lines().find(|l| !l.trim().is_empty())?;
    let word = APPROVAL_FIRST_WORD
        .captures(first)?
        .get(1)?
        .as_str()
        .to_lowercase();
    Some(match word.as_str() {
        "reject" | "rejected" | "not approved" | "no" => ApprovalWord::Reject,
        _ => ApprovalWord::Approve,
    })
}

static CORRECTION: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)^\W*wrong\s+item\s*:?\s*(\d{1,2}(?:\.?[a-h])?)\b"));

/// `WRONG ITEM 2c` at the top of a reply to an acknowledgement: the item the sender says
/// their message belongs to.
pub(crate) fn correction(own: &str) -> Option<String> {
    let first = own.lines().find(|l| !l.trim().is_empty())?;
    CORRECTION
        .captures(first)?
        .get(1)
        .map(|m| item_key(m.as_str()))
}

static ACTION_PROGRESS: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)^\W*(?:(?:action\s+)?[a-z][a-z0-9]{0,15}-a\d{1,6}\b[\s:\-\u{2013}\u{2014}]*)?((?:done|complete|completed|closed|in progress|ongoing|on track)\b|update\s*:|progress\s*:)",
    )
});

/// The progress word an action reply opens with, if any: `Done`, `Update: ...`, also
/// after the action's ref (`LCJB-A17 Done`) and below a greeting ("Hi Shobnam,").
pub(crate) fn action_progress(own: &str) -> Option<String> {
    let first = own
        .lines()
        .find(|l| !l.trim().is_empty() && !crate::text::reply::is_greeting(l))?;
    ACTION_PROGRESS
        .captures(first)?
        .get(1)
        .map(|m| m.as_str().trim().to_owned())
}

/// Phrases that say "the next meeting" without naming it.
pub(crate) fn names_next_meeting(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "next meeting",
        "next board",
        "forthcoming meeting",
        "upcoming meeting",
        "next lcjb",
        "december lcjb",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Ymd = (Option<i32>, u32, u32, bool);

    fn ymd(d: &DateMention) -> Ymd {
        (d.year, d.month, d.day, d.tagged)
    }

    #[test]
    fn dates_are_found_in_the_forms_people_write_them() {
        let cases: &[(&str, Vec<Ymd>)] = &[
            ("[LCJB 2023-12-13] update", vec![(Some(2023), 12, 13, true)]),
            ("LCJB-2023-12-13", vec![(Some(2023), 12, 13, true)]),
            ("for 2023-12-13", vec![(Some(2023), 12, 13, false)]),
            ("on 13/12/2023", vec![(Some(2023), 12, 13, false)]),
            ("on 13.12.23", vec![(Some(2023), 12, 13, false)]),
            ("on 12/13/2023", vec![(Some(2023), 12, 13, false)]),
            ("Wednesday 13th December", vec![(None, 12, 13, false)]),
            ("13 Dec 2023", vec![(Some(2023), 12, 13, false)]),
            ("13th of December, 2023", vec![(Some(2023), 12, 13, false)]),
            ("December 13, 2023", vec![(Some(2023), 12, 13, false)]),
            ("in December 2023", vec![]),
            ("31/02/2023 and 2023-13-01", vec![]),
            (
                "the 20 September meeting and the 13th December one",
                vec![(None, 9, 20, false), (None, 12, 13, false)],
            ),
            ("[lcjb 13/12/2023]", vec![(Some(2023), 12, 13, true)]),
            ("Harrow update for 13/12", vec![(None, 12, 13, false)]),
            (
                "24/7 cover, 1/2 of cases, 13/12/",
                vec![(None, 7, 24, false), (None, 2, 1, false)],
            ),
            ("xlcjb 2023-12-13", vec![(Some(2023), 12, 13, false)]),
        ];
        for (text, expected) in cases {
            let found: Vec<_> = dates(text, "lcjb").iter().map(ymd).collect();
            assert_eq!(&found, expected, "{text}");
        }
    }

    #[test]
    fn items_are_found_as_agendas_and_people_write_them() {
        let cases: &[(&str, &[&str])] = &[
            ("Item 2b", &["2b"]),
            ("item 2.b update", &["2b"]),
            ("Item 2.B: Probation", &["2b"]),
            ("agenda item 4", &["4"]),
            ("Agenda Item No. 5", &["5"]),
            ("item 2(b)", &["2b"]),
            ("Item 2.c(ii)", &["2c"]),
            ("Items 2b and 4", &["2b", "4"]),
            ("items 2.a, 3 & 5", &["2a", "3", "5"]),
            ("Item 2. A written update", &["2"]),
            ("the items we discussed", &[]),
            ("2b only", &[]),
        ];
        for (text, expected) in cases {
            let found: Vec<_> = items(text).into_iter().map(|i| i.key).collect();
            assert_eq!(found, *expected, "{text}");
        }
    }

    #[test]
    fn action_references_are_normalised() {
        assert_eq!(
            actions("re LCJB-A17 and lcjb a3, LCJB-A17", "lcjb"),
            vec!["LCJB-A17", "LCJB-A3"]
        );
        assert_eq!(actions("XLCJB-A17 LCJB-A", "lcjb"), Vec::<String>::new());
    }

    #[test]
    fn spam_phrases_match_whole_words_only() {
        assert_eq!(spam_phrases("the specialist DA court"), Vec::<&str>::new());
        assert_eq!(spam_phrases("Cheap Cialis!"), vec!["cialis"]);
        // Each phrase once, in the list's order, however often and wherever it occurs.
        assert_eq!(
            spam_phrases("CASINO! Click here: casino bonus, click here. Unsubscribe"),
            vec!["unsubscribe", "click here", "casino"]
        );
        // Two phrases that share words are both found.
        assert_eq!(
            spam_phrases("Update your password will expire today"),
            vec!["your password will expire", "update your password"]
        );
        // Inside a longer word it does not count; standing alone further on, it does.
        assert_eq!(spam_phrases("xlotteryx lottery"), vec!["lottery"]);
        assert_eq!(spam_phrases("cryptocurrency"), Vec::<&str>::new());
    }

    #[test]
    fn out_of_office_wording_is_recognised_in_several_languages() {
        for subject in [
            "Out of Office: [LCJB 2023-12-13] Written update request",
            "Automatic reply: Your actions",
            "Abwesenheitsnotiz: Bericht",
            "Réponse automatique : Mise à jour",
            "Respuesta automática: actualización",
            "Risposta automatica: aggiornamento",
            "Automatisch antwoord: update",
            "AUTO: Annual leave",
        ] {
            assert!(out_of_office_subject(subject).is_some(), "{subject}");
        }
        for subject in ["Written update", "Leave policy update", "Office move"] {
            assert!(out_of_office_subject(subject).is_none(), "{subject}");
        }
        assert!(out_of_office_body(
            "Thank you for your email. I’m currently out of the office until Monday"
        )
        .is_some());
        assert!(out_of_office_body("Our written update is attached.").is_none());
        for text in [
            "Hello, I'm currently on parental leave until March.",
            "I will be out of office until Monday 4th December.",
            "Thanks for your message - I am away from my desk today.",
        ] {
            assert!(out_of_office_body(text).is_some(), "{text}");
        }
        let late = format!(
            "{}I will be on leave in January.",
            "Our update. ".repeat(80)
        );
        assert!(out_of_office_body(&late).is_none());
    }

    #[test]
    fn approval_words_and_corrections_are_read_from_the_first_line() {
        assert_eq!(
            approval_word("APPROVE\n\nSent from my iPhone"),
            Some(ApprovalWord::Approve)
        );
        assert_eq!(
            approval_word("Approved, thanks"),
            Some(ApprovalWord::Approve)
        );
        assert_eq!(
            approval_word("  REJECT item 3 is wrong"),
            Some(ApprovalWord::Reject)
        );
        assert_eq!(approval_word("Nothing to add"), None);
        assert_eq!(correction("WRONG ITEM 2c\nthanks"), Some("2c".into()));
        assert_eq!(correction("wrong item: 2.C"), Some("2c".into()));
        assert_eq!(correction("This is the wrong item"), None);
        assert_eq!(action_progress("Done - see attached"), Some("Done".into()));
        assert_eq!(action_progress("LCJB-A17 Done"), Some("Done".into()));
        assert_eq!(
            action_progress("Hi Shobnam,\n\nAction LCJB-A3: update: posts filled"),
            Some("update:".into())
        );
        assert_eq!(action_progress("LCJB-A17 is not done yet"), None);
        assert_eq!(
            action_progress("Update: recruitment complete"),
            Some("Update:".into())
        );
    }
}
