//! The one reader of a person's own words in an e-mail reply.
//!
//! Mail clients wrap what someone typed in a great deal: the quoted message (`>` lines,
//! or unmarked below an attribution, Outlook's `From: / Sent:` block or an
//! `-----Original Message-----` line), attributions ("On 4 Dec 2023, at 10:02, X wrote:"
//! in some twenty languages), signatures after `-- ` or a `____` line, device taglines
//! ("Sent from my iPhone"), external-sender banners, protective markings (`OFFICIAL`),
//! confidentiality disclaimers and list footers. [`own_text`] removes all of that from a
//! plain-text body and says what it removed and why; [`own_text_html`] does the same for
//! an HTML body, reading the clients' quoting structure (`gmail_quote`, `divRplyFwdMsg`,
//! `<blockquote type="cite">`...) through [`super::html::to_reply_text`]; [`read`] picks
//! the body to trust. Greetings, sign-offs, names and undelimited contact lines are the
//! sender's words and stay; [`without_closing`] takes them off for text that is stored
//! as an update or as minutes.
//!
//! Text after a `>`-quoted block is the sender's (bottom posts, inline replies), except
//! unquoted lines sandwiched between `>` lines in plain text (a quote's wrapped lines);
//! unquoted text after an attribution, a header block or a device tagline is the
//! original message.
//!
//! This module does not decode MIME, convert HTML (see [`super::html`]), verify senders or
//! read commands out of the text. Everything here is linear in the input: patterns are
//! only tried on short lines, a constant number of times per line.

use std::sync::LazyLock;

use regex::{Regex, RegexSet};
use serde::Serialize;

use super::html::{self, CutMarker};

/// Why a part of a reply is not the sender's own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrimReason {
    /// `>`-quoted lines, or an HTML quote container.
    Quote,
    /// "On ... X wrote:" and its translations, and what follows it unquoted.
    Attribution,
    /// Outlook's `From: / Sent: / To: / Subject:` block (in any of its languages) and
    /// the message below it.
    HeaderBlock,
    /// `-----Original Message-----`, forward separators and rule lines above a header
    /// block, and what follows them.
    Separator,
    /// Everything from a `-- ` or `____` signature delimiter on.
    Signature,
    /// "Sent from my iPhone", "Get Outlook for Android" and their translations.
    Tagline,
    /// Confidentiality and legal disclaimers.
    Disclaimer,
    /// External-sender warnings ("CAUTION: This email originated from outside...").
    Banner,
    /// Protective markings like `OFFICIAL` or `[OFFICIAL-SENSITIVE]`.
    Marking,
    /// Mailing-list and notification footers ("You are receiving this because...").
    Footer,
}

/// One part of a reply that is not the sender's own text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trimmed {
    pub reason: TrimReason,
    /// The first line of what was removed, trimmed, at most [`FIRST_LINE_CHARS`] chars.
    pub first_line: String,
    pub lines: usize,
}

/// The sender's own text of a reply, and what was removed around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnText {
    pub text: String,
    pub trimmed: Vec<Trimmed>,
}

/// How much of a removed part's first line is kept in [`Trimmed::first_line`].
pub const FIRST_LINE_CHARS: usize = 120;

/// Lines longer than this are never a marker (attribution, header, tagline...): no
/// pattern is tried on them, which keeps hostile bodies cheap.
const MARKER_LINE_MAX: usize = 400;

/// An attribution wraps over at most this many lines.
const ATTRIBUTION_LINES_MAX: usize = 4;

/// The sender's own text of a plain-text body.
pub fn own_text(plain: &str) -> OwnText {
    let text = if plain.contains('\r') {
        plain.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        plain.to_owned()
    };
    let lines: Vec<&str> = text.split('\n').collect();
    trim_lines(&lines, Body::Plain)
}

/// The sender's own text of an HTML body, trimmed by its structure: quote containers
/// become quoted lines (so text after them is still the sender's), and a client's
/// "original message starts here" marker, or an Outlook-style header box, ends it.
pub fn own_text_html(html: &str) -> OwnText {
    let rendered = html::to_reply_text(html);
    let lines: Vec<&str> = rendered.text.split('\n').collect();
    let mut end = lines.len();
    let mut structural = None;
    if let Some((at, marker)) = rendered.cut {
        if at < end {
            end = at;
            let reason = match marker {
                CutMarker::OutlookHeader => TrimReason::HeaderBlock,
                CutMarker::Signature => TrimReason::Signature,
            };
            structural = Some((at, reason));
        }
    }
    if let Some(&rule) = rendered.rule_lines.iter().find(|&&rule| {
        // A header block is a few lines: look at no more than that.
        rule < end && Scan::new(&lines[rule..lines.len().min(rule + 12)]).header_box_follows(0)
    }) {
        end = rule;
        structural = Some((rule, TrimReason::HeaderBlock));
    }
    let mut own = trim_lines(&lines[..end], Body::Html);
    if let Some((at, reason)) = structural {
        own.trimmed.push(trimmed(reason, &lines[at..]));
    }
    own
}

/// A message's bodies: prefer the plain one; fall back to the HTML one when the plain one
/// is absent or empty once trimmed.
pub fn read(plain: Option<&str>, html: Option<&str>) -> OwnText {
    let from_plain = plain.map(own_text);
    match (from_plain, html) {
        (Some(own), _) if !own.text.trim().is_empty() => own,
        (_, Some(html)) => own_text_html(html),
        (Some(own), None) => own,
        (None, None) => OwnText {
            text: String::new(),
            trimmed: Vec::new(),
        },
    }
}

/// Reads a stored message's bodies. Ingestion stores an HTML-only message's text as its
/// HTML converted to text; such a text is not a plain-text body, and the reply is read
/// from its HTML structure instead.
pub fn read_stored(body_text: Option<&str>, body_html: Option<&str>) -> OwnText {
    let derived = match (body_text, body_html) {
        (Some(text), Some(html)) => {
            text.len() <= html.len().saturating_mul(2)
                && squashed(text) == squashed(&html::to_text(html))
        }
        _ => false,
    };
    if derived {
        read(None, body_html)
    } else {
        read(body_text, body_html)
    }
}

/// More lines than a signature runs to: a `--` or `____` line with more below it is a
/// rule inside a document.
const SIGNATURE_LINES_MAX: usize = 12;

/// The text of a message whose body carries a document (a written update, minutes):
/// for a forward (`forwarded`, from its subject) the whole body, since what it forwards
/// is the document; else the sender's own words as [`read_stored`] finds them, unless
/// what a signature delimiter would cut is longer than any signature and than what it
/// keeps, which means the line was a rule inside the document, not a signature.
pub fn document_text(body_text: Option<&str>, body_html: Option<&str>, forwarded: bool) -> String {
    let whole = || match (body_text, body_html) {
        (Some(text), _) if !text.trim().is_empty() => text.to_owned(),
        (_, Some(html)) => html::to_text(html),
        _ => String::new(),
    };
    if forwarded {
        return whole();
    }
    let own = read_stored(body_text, body_html);
    let kept = own.text.lines().filter(|l| !l.trim().is_empty()).count();
    let cut: usize = own
        .trimmed
        .iter()
        .filter(|t| t.reason == TrimReason::Signature)
        .map(|t| t.lines)
        .sum();
    if cut > SIGNATURE_LINES_MAX && cut > kept {
        whole()
    } else {
        own.text
    }
}

/// `text` without any whitespace, to compare two renderings of the same words.
fn squashed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Where the lines came from: plain text wraps quoted lines (so an unquoted line between
/// two `>` lines is part of the quote); HTML structure does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Plain,
    Html,
}

fn regex(pattern: &str) -> Regex {
    #[allow(clippy::expect_used)] // constant patterns, all compiled by the tests
    Regex::new(pattern).expect("constant pattern compiles")
}

/// Verbs of attributions ("X wrote:") in the languages replies arrive in. English and
/// most others put the verb last; German, Dutch and the Nordic languages put it in the
/// middle ([`MID_VERB`]).
const WROTE: &str = r"(?:wrote|writes|a\s+écrit|a\s+ecrit|écrit|schrieb|schreibt|escribió|escribio|escreveu|schreef|geschreven|ha\s+scritto|scrisse|skrev|skrifaði|kirjoitti|napisał\(a\)|napisała|napisał|napisal|napsal\(a\)|napsala|napsal|написал\(а\)|написала|написал|написав|написала|írta|έγραψε|đã\s+viết|yazdı|kirjutas|rakstīja|parašė|写道|寫道|のメッセージ|작성|كتب|כתב)";

static WROTE_ANYWHERE: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"(?i){WROTE}")));
static WROTE_AT_END: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!(r"(?i){WROTE}\s*[:：]?\s*$")));
static MID_VERB: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)(?:^|\s)(?:schrieb|schreef|skrev|escribió)\s"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| regex(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"));
/// A time (14:20, 21.21, 10h30), a year or a numeric date, in any script's digits.
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\d{1,2}[:.h]\d{2}(?:\D|$)|(?:^|\D)(?:19|20)\d{2}(?:\D|$)|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}",
    )
});
static TIME: LazyLock<Regex> = LazyLock::new(|| regex(r"\d{1,2}[:.]\d{2}"));
/// An attribution with no verb ends with the address: `... X <x@example.com>:`.
static ADDRESS_COLON_END: LazyLock<Regex> = LazyLock::new(|| regex(r"@[\w.-]+\s*[>)\]]?\s*[:：]$"));
/// An attribution wrapped inside its address: `... skrev X <x@example.com` / `>:`.
static ADDRESS_END: LazyLock<Regex> = LazyLock::new(|| regex(r"<?[\w.+'-]+@[\w.-]+>?$"));

/// What a line can be: each kind is one pattern of [`LINE_PATTERNS`], tried on every line
/// once, together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    /// `-- ` (often trimmed to `--`) or a dash alone.
    SignatureDelimiter,
    /// `-----Original Message-----`, "Begin forwarded message:" and translations.
    OriginalMessage,
    /// A line that is only a rule: above a header block it is a separator.
    Rule,
    /// `____`: a signature delimiter unless a header block follows.
    Underscores,
    Tagline,
    Banner,
    Disclaimer,
    Footer,
    Marking,
    FromLabel,
    DateLabel,
    ToLabel,
    CcLabel,
    SubjectLabel,
    /// An attribution verb anywhere in the line.
    Verb,
    /// A dated "Am ... schrieb X" line with no colon: an attribution only right above a
    /// header block.
    LooseAttribution,
}

/// The patterns of [`Kind`], in its order.
fn line_patterns() -> Vec<String> {
    let label = |labels: &str| format!(r"(?i)^(?:{labels})\s*\*{{0,2}}\s*[:：]");
    vec![
        SIGNATURE_DELIMITER.to_owned(),
        ORIGINAL_MESSAGE.to_owned(),
        r"^(?:[-=]\s?){5,}$|^_{4,}$".to_owned(),
        r"^_{4,}$".to_owned(),
        TAGLINE.to_owned(),
        BANNER.to_owned(),
        DISCLAIMER.to_owned(),
        FOOTER.to_owned(),
        MARKING.to_owned(),
        label(FROM_LABELS),
        label(DATE_LABELS),
        label(TO_LABELS),
        label(CC_LABELS),
        label(SUBJECT_LABELS),
        format!(r"(?i){WROTE}"),
        format!(r"(?i)^(?:on|am|le|el|op|il|em|den|dne|w\s+dniu|dnia)\s+\S.{{0,120}}{WROTE}"),
    ]
}

static LINE_PATTERNS: LazyLock<RegexSet> = LazyLock::new(|| {
    #[allow(clippy::expect_used)] // constant patterns, all compiled by the tests
    RegexSet::new(line_patterns()).expect("constant patterns compile")
});

/// Forward and original-message separators in the languages clients localise them into.
const ORIGINAL_MESSAGE: &str = r"(?i)^[\s>]*(?:[-_=*]{2,}\s*(?:original\s+message|original-nachricht|urspr[üu]ngliche\s+nachricht|weitergeleitete\s+nachricht|message\s+d'origine|message\s+original|message\s+transf[ée]r[ée]|mensaje\s+original|mensaje\s+reenviado|mensagem\s+original|mensagem\s+encaminhada|oorspronkelijk\s+bericht|origineel\s+bericht|doorgestuurd\s+bericht|messaggio\s+originale|messaggio\s+inoltrato|ursprungligt\s+meddelande|vidarebefordrat\s+meddelande|oprindelig\s+(?:besked|meddelelse)|videresendt\s+(?:besked|meddelelse)|opprinnelig\s+melding|alkuper[äa]inen\s+viesti|wiadomo[śs][ćc]\s+oryginalna|oryginalna\s+wiadomo[śs][ćc]|p[ůu]vodn[íi]\s+zpr[áa]va|eredeti\s+[üu]zenet|исходное\s+сообщение|пересылаемое\s+сообщение|оригинальное\s+сообщение|αρχικό\s+μήνυμα|原始邮件|原始郵件|転送メッセージ|元のメッセージ|원본\s*메시지|전달된\s*메시지|الرسالة\s+الأصلية|forwarded\s+message|reply\s+message)|(?:begin\s+forwarded\s+message|anfang\s+der\s+weitergeleiteten\s+nachricht|d[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]|inicio\s+del\s+mensaje\s+reenviado|in[íi]cio\s+da\s+mensagem\s+reencaminhada)\s*:)";

/// Device taglines. The device part is short and has no clause in it ("Sent from my
/// desk, is much easier..." is a sentence).
const TAGLINE: &str = r"(?i)^(?:sent\s+(?:from|with|via|using|by)\s+[^,.;:!?<>()\[\]]{1,40}|get\s+outlook\s+for\s+\w+|download\s+outlook\s+for\s+\w+|envoy[ée]\s+(?:de|depuis|à\s+partir\s+de|avec)\s+(?:mon|ma)\s+[^,.;:!?<>]{1,30}|téléchargez\s+outlook\s+pour\s+\w+|obtenir\s+outlook\s+pour\s+\w+|von\s+meinem\s+[^,.;:!?<>]{1,30}\s+gesendet|gesendet\s+(?:von|mit|vom|über)\s+[^,;:!?<>]{1,40}|outlook\s+für\s+\w+\s+(?:beziehen|herunterladen)|holen\s+sie\s+sich\s+outlook\s+für\s+\w+|verzonden\s+(?:vanaf|vanuit|met|via)\s+[^,.;:!?<>]{1,40}|outlook\s+voor\s+\w+\s+downloaden|enviado\s+(?:desde|do|de|a\s+partir\s+do|pelo|con|com)\s+(?:mi|meu|o|el|my)?\s*[^,.;:!?<>]{1,40}|obt(?:er|enha)\s+o\s+outlook\s+para\s+\w+|descarg(?:a|ar)\s+outlook\s+para\s+\w+|obt[ée]n\s+outlook\s+para\s+\w+|inviato\s+da\s+[^,.;:!?<>]{1,40}|scarica\s+outlook\s+per\s+\w+|skickat\s+från\s+[^,.;:!?<>]{1,40}|sendt\s+fra\s+[^,.;:!?<>]{1,40}|wysłane\s+z\s+[^,.;:!?<>]{1,40}|odesláno\s+z\s+[^,.;:!?<>]{1,40}|отправлено\s+(?:с|из)\s+[^,.;:!?<>]{1,40}|从我的\s*\S{1,20}\s*发送|iphoneから送信|\S{1,20}에서\s*보냄)\s*(?:<[^>]*>|\[[^\]]*\]|\([^)]*\))?\s*\.?$";
/// Confidentiality and legal disclaimers: from the first line of one, nothing more is the
/// sender's.
const DISCLAIMER: &str = r"(?i)^(?:this\s+(?:e-?mail|message|communication|transmission)(?-u:\b).{0,100}(?-u:\b)(?:confidential|intended\s+(?:solely|only|for)|privileged|monitored|recorded|scanned|virus)|the\s+(?:information|contents?)\s+(?:contained\s+)?(?:in|of)\s+this\s+(?:e-?mail|message|communication|transmission)|confidentiality\s+(?:notice|statement|note|warning)|(?:legal\s+)?disclaimer\s*:?|if\s+you\s+(?:are\s+not\s+the\s+intended|have\s+received\s+this\s+(?:e-?mail|message|communication)\s+in\s+error)|please\s+consider\s+the\s+environment|think\s+before\s+you\s+print|communications\s+via\s+the\s+gsi|all\s+e-?mails?\s+(?:sent|received)\s+(?:to|from|by)|le\s+informazioni\s+contenute\s+in\s+questo|ce\s+(?:message|courriel)(?-u:\b).{0,60}(?:confidenti|destinataire)|diese\s+(?:e-?mail|nachricht)(?-u:\b).{0,60}(?:vertraulich|informationen|bestimmt)|este\s+(?:mensaje|correo)(?-u:\b).{0,60}confidencial|dit\s+(?:e-?mailbericht|bericht)(?-u:\b).{0,60}vertrouwelijk)";
/// Notification and mailing-list footers.
const FOOTER: &str = r"(?i)^(?:you\s+are\s+receiving\s+this\s+because|reply\s+to\s+this\s+email\s+directly|you\s+received\s+this\s+message\s+because\s+you\s+are\s+subscribed|to\s+unsubscribe\s+from\s+this\s+(?:group|list)|unsubscribe\s*:?\s*<?https?://)";
/// External-sender banners: a paragraph clients or gateways put at the top (sometimes
/// the bottom) of a message, not a cut.
const BANNER: &str = r"(?i)^(?:\[?(?:caution|warning|attention|notice|external(?:\s+(?:e-?mail|sender|message))?)\]?\s*[:!\-]*\s*.{0,60}(?-u:\b)(?:external\s+sender|originated\s+(?:from\s+)?outside|from\s+outside|outside\s+(?:of\s+)?(?:the|this|your|our)(?-u:\b)|external\s+(?:e-?mail|source|sender|message))|\[?external\]?\s*(?:e-?mail|sender|message)?\s*[:!]?$|this\s+(?:e-?mail|message)\s+(?:originated|came|is)\s+from\s+(?:an?\s+)?(?:outside|external))";
/// Government protective markings at the top or bottom of a message.
const MARKING: &str = r"(?i)^\[?\s*(?:official(?:[\s-]+sensitive)?(?:\s*[-:\u{2013}]\s*[a-z ]{1,30})?|unclassified|not\s+protectively\s+marked|classification:\s*\S.{0,40}|sensitivity:\s*\S.{0,40})\s*\]?$";
/// A signature delimiter: `-- ` (often trimmed to `--`) or a dash alone.
const SIGNATURE_DELIMITER: &str = r"^(?:--|\u{2014}|\u{2013})\s*$";

/// Header-block labels, by field, in the languages clients localise them into.
const FROM_LABELS: &str = r"from|de|von|van|da|från|fra|od|от|від|من|发件人|寄件者|寄件人|差出人|送信者|보낸\s*사람|보낸사람|mittente|remitente|feladó|lähettäjä|από|người\s+gửi|từ|kimden|gönderen|afzender|avsändare|expéditeur|sender";
const DATE_LABELS: &str = r"sent|date|datum|gesendet|envoy[ée](?:\s+le)?|enviado(?:\s+el)?|enviada|verzonden|skickat|sendt|data|inviato|отправлено|надіслано|дата|تم\s+الإرسال|التاريخ|发送时间|發送時間|傳送時間|日期|日付|送信日時|날짜|보낸\s*날짜|fecha|message\s+du|wysłano|wysłane|odesláno|elküldve|dátum|στάλθηκε|ημερομηνία|đã\s+gửi|ngày|gönderildi|tarih|lähetetty|päivämäärä";
const TO_LABELS: &str = r"to|à|a|an|aan|till|til|para|per|do|кому|إلى|收件人|收件者|宛先|받는\s*사람|받는사람|komu|címzett|προς|đến|kime|vastaanottaja|destinataire|destinatario|destinatário";
const CC_LABELS: &str = r"cc|bcc|kopie|copie\s+à|copie|cópia|kopia|копия|نسخة|抄送|副本";
const SUBJECT_LABELS: &str = r"subject|objet|sujet|betreff|asunto|onderwerp|ämne|emne|assunto|oggetto|temat|тема|الموضوع|主题|主旨|件名|제목|předmět|tárgy|θέμα|chủ\s+đề|konu|aihe";

/// The fields of a header block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Field {
    From,
    Date,
    To,
    Cc,
    Subject,
}

/// Any short `Label: value` line, for header blocks in a language not listed above when
/// the HTML structure already says a header box starts here.
static ANY_LABEL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[^\s:：<>][^:：<>]{0,30}[:：](?:\s|$)"));

/// A line as patterns see it: trimmed of whitespace, zero-width and direction marks, a
/// byte-order mark and Markdown-style bold markers around labels.
fn clean(line: &str) -> &str {
    line.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{feff}')
    })
    .trim_start_matches('*')
}

fn is_blank(line: &str) -> bool {
    clean(line).is_empty()
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Whether patterns may be tried on a line.
fn is_marker_sized(line: &str) -> bool {
    line.len() <= MARKER_LINE_MAX
}

/// What one pass over a line found.
#[derive(Debug, Clone, Copy, Default)]
struct LineInfo {
    blank: bool,
    quoted: bool,
    /// Bit `Kind as u8` is set when the line is of that kind.
    kinds: u32,
    has_at_sign: bool,
}

impl LineInfo {
    fn of(line: &str) -> LineInfo {
        let cleaned = clean(line);
        let mut info = LineInfo {
            blank: cleaned.is_empty(),
            quoted: is_quoted(line),
            ..LineInfo::default()
        };
        if !info.blank && !info.quoted && is_marker_sized(cleaned) {
            // Most lines match nothing: asking that first spares building the set.
            if LINE_PATTERNS.is_match(cleaned) {
                for index in LINE_PATTERNS.matches(cleaned).iter() {
                    info.kinds |= 1 << index;
                }
            }
            info.has_at_sign = cleaned.contains('@');
        }
        info
    }

    fn is(&self, kind: Kind) -> bool {
        self.kinds & (1 << kind as u8) != 0
    }

    /// Text the sender may have written: neither blank, quoted nor oversized.
    fn is_usable(&self, line: &str) -> bool {
        !self.blank && !self.quoted && is_marker_sized(line)
    }

    fn header_field(&self) -> Option<Field> {
        [
            (Kind::FromLabel, Field::From),
            (Kind::DateLabel, Field::Date),
            (Kind::ToLabel, Field::To),
            (Kind::CcLabel, Field::Cc),
            (Kind::SubjectLabel, Field::Subject),
        ]
        .iter()
        .find(|(kind, _)| self.is(*kind))
        .map(|(_, field)| *field)
    }
}

/// The lines of a body with what each is, and the attributions found so far.
struct Scan<'a> {
    lines: &'a [&'a str],
    info: Vec<LineInfo>,
    /// For each line, once asked: the attribution ending there, if any.
    attribution_ending: Vec<Memo>,
}

impl<'a> Scan<'a> {
    fn new(lines: &'a [&'a str]) -> Scan<'a> {
        Scan {
            lines,
            info: lines.iter().map(|l| LineInfo::of(l)).collect(),
            attribution_ending: vec![Memo::Unknown; lines.len()],
        }
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    fn is_blank(&self, at: usize) -> bool {
        self.info[at].blank
    }

    fn is_quoted(&self, at: usize) -> bool {
        self.info[at].quoted
    }

    fn is_usable(&self, at: usize) -> bool {
        self.info[at].is_usable(self.lines[at])
    }

    /// The first non-blank line at or after `from`.
    fn next_non_blank(&self, from: usize) -> Option<usize> {
        (from..self.len()).find(|&at| !self.is_blank(at))
    }

    /// The first blank line at or after `from`, or the end.
    fn next_blank(&self, from: usize) -> usize {
        (from..self.len())
            .find(|&at| self.is_blank(at))
            .unwrap_or(self.len())
    }

    /// Whether an Outlook-style header block starts at `at`: a From or date field and at
    /// least one other field among the next few lines (a wrapped value may sit between
    /// them).
    fn header_block_starts(&self, at: usize) -> bool {
        let Some(first) = self.info[at].header_field() else {
            return false;
        };
        // The fields seen, one bit each, and how many labelled lines.
        let mut fields = 1u8 << first as u8;
        let mut labelled = 1;
        let mut unlabelled = 0;
        for next in (at + 1..self.len()).take(8) {
            if self.is_blank(next) {
                continue;
            }
            match self.info[next].header_field() {
                Some(field) => {
                    fields |= 1 << field as u8;
                    labelled += 1;
                    unlabelled = 0;
                }
                None => {
                    unlabelled += 1;
                    if unlabelled > 1 {
                        break;
                    }
                }
            }
            if labelled >= 3 {
                break;
            }
        }
        let has = |f: Field| fields & (1 << f as u8) != 0;
        fields.count_ones() >= 2 && (has(Field::From) || has(Field::Date))
    }

    /// Whether a header block follows line `at` (after blank lines, within two lines).
    fn header_block_follows(&self, at: usize) -> bool {
        (at + 1..self.len())
            .filter(|&n| !self.is_blank(n))
            .take(2)
            .any(|n| self.header_block_starts(n))
    }

    /// Whether the lines from `at` on, after an HTML header box, are a header block: a
    /// known one, or three short `Label: value` lines in a language not listed.
    fn header_box_follows(&self, at: usize) -> bool {
        let Some(first) = self.next_non_blank(at) else {
            return false;
        };
        if self.header_block_starts(first) {
            return true;
        }
        (first..self.len())
            .filter(|&n| !self.is_blank(n))
            .take(3)
            .filter(|&n| self.is_usable(n) && ANY_LABEL.is_match(clean(self.lines[n])))
            .count()
            >= 3
    }

    fn joined(&self, from: usize, to: usize) -> String {
        self.lines[from..=to]
            .iter()
            .map(|l| clean(l))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether lines `from..=to` may hold an attribution at all: every form has a verb
    /// or ends with an address and a colon. Cheap, so that the joins are only made for
    /// likely lines.
    fn may_be_attribution(&self, from: usize, to: usize) -> bool {
        let span = &self.info[from..=to];
        let last = clean(self.lines[to]);
        span.iter().any(|i| i.is(Kind::Verb))
            || (span.iter().any(|i| i.has_at_sign) && (last.ends_with(':') || last.ends_with('：')))
    }

    /// The attribution ending at line `end`, if any: its first line and how sure it is.
    fn attribution_ending_at(&mut self, end: usize) -> Option<(usize, Strength)> {
        match self.attribution_ending[end] {
            Memo::Absent => return None,
            Memo::Found { back, strength } => return Some((end - usize::from(back), strength)),
            Memo::Unknown => {}
        }
        let found = self.find_attribution_ending_at(end);
        self.attribution_ending[end] = match found {
            // A span is at most ATTRIBUTION_LINES_MAX lines, so its start fits a byte.
            Some((start, strength)) => Memo::Found {
                back: u8::try_from(end - start).unwrap_or(u8::MAX),
                strength,
            },
            None => Memo::Absent,
        };
        found
    }

    fn find_attribution_ending_at(&self, end: usize) -> Option<(usize, Strength)> {
        if !self.is_usable(end) {
            return None;
        }
        let earliest = (end + 1).saturating_sub(ATTRIBUTION_LINES_MAX);
        let earliest = (earliest..=end)
            .rev()
            .take_while(|&n| self.is_usable(n))
            .last()
            .unwrap_or(end);
        if !self.may_be_attribution(earliest, end) {
            return None;
        }
        // The shortest span ending here first, so an own line above an attribution is
        // not taken into it; a weak span may still grow into a dated one ("On <date> X"
        // / "wrote:").
        let mut found = None;
        for start in (earliest..=end).rev() {
            // A line ending in a colon ends whatever it is: it opens no wrapped span.
            if start < end && ends_with_colon(self.lines[start]) {
                break;
            }
            match attribution_strength(&self.joined(start, end)) {
                Some(Strength::Strong) => {
                    found = Some((start, Strength::Strong));
                    break;
                }
                Some(Strength::Weak) => found = found.or(Some((start, Strength::Weak))),
                None => {}
            }
        }
        let (mut start, mut strength) = found?;
        // A span that starts mid-sentence ("<x@example.com> wrote:") takes in the line
        // it continues, as does one under a dated fragment ending in a comma ("On Nov
        // 21, 2014," / "at 10:18," / "X <x@example.com> wrote:").
        while start > earliest
            && !ends_with_colon(self.lines[start - 1])
            && (continues_attribution(self.lines[start])
                || is_dated_fragment(self.lines[start - 1]))
        {
            let Some(longer) = attribution_strength(&self.joined(start - 1, end)) else {
                break;
            };
            start -= 1;
            strength = longer;
        }
        Some((start, strength))
    }

    /// The attribution starting at line `at`, if any: the longest one found among those
    /// ending in the next few lines.
    fn attribution_starting_at(&mut self, at: usize) -> Option<(usize, Strength)> {
        let window = at..self.len().min(at + ATTRIBUTION_LINES_MAX);
        if !self.info[window]
            .iter()
            .any(|i| i.is(Kind::Verb) || i.has_at_sign)
        {
            return None;
        }
        let mut found = None;
        for end in (at..self.len()).take(ATTRIBUTION_LINES_MAX) {
            if !self.is_usable(end) {
                break;
            }
            if let Some((start, strength)) = self.attribution_ending_at(end) {
                if start == at {
                    found = Some((end, strength));
                }
            }
        }
        found
    }

    /// Where a `>`-quoted block starting at `start` ends (exclusive). Blank lines inside
    /// it belong to it; in plain text so do unquoted lines directly between two quoted
    /// ones.
    fn quote_block_end(&self, start: usize, body: Body) -> usize {
        let mut at = start;
        while at < self.len() {
            if self.is_quoted(at) {
                at += 1;
                continue;
            }
            let run_end = if self.is_blank(at) {
                self.next_non_blank(at).unwrap_or(self.len())
            } else if body == Body::Plain {
                (at..self.len())
                    .find(|&n| self.is_blank(n) || self.is_quoted(n))
                    .unwrap_or(self.len())
            } else {
                break;
            };
            if run_end < self.len() && self.is_quoted(run_end) {
                at = run_end;
            } else {
                break;
            }
        }
        at
    }

    /// What ends the sender's text at line `at`, if anything does.
    fn cut_at(&self, at: usize) -> Option<TrimReason> {
        let info = &self.info[at];
        if info.is(Kind::SignatureDelimiter) {
            return Some(TrimReason::Signature);
        }
        if info.is(Kind::OriginalMessage) {
            return Some(TrimReason::Separator);
        }
        if info.is(Kind::Rule) {
            if self.header_block_follows(at) {
                return Some(TrimReason::Separator);
            }
            if info.is(Kind::Underscores) {
                return Some(TrimReason::Signature);
            }
            return None;
        }
        if self.header_block_starts(at) {
            return Some(TrimReason::HeaderBlock);
        }
        if info.is(Kind::Tagline) {
            return Some(TrimReason::Tagline);
        }
        if info.is(Kind::Banner) {
            return None;
        }
        if info.is(Kind::Disclaimer) {
            return Some(TrimReason::Disclaimer);
        }
        if info.is(Kind::Footer) {
            return Some(TrimReason::Footer);
        }
        None
    }
}

/// What is known of the attribution ending at a line; small, as there is one per line.
#[derive(Debug, Clone, Copy)]
enum Memo {
    Unknown,
    Absent,
    /// One starts `back` lines above.
    Found {
        back: u8,
        strength: Strength,
    },
}

/// How sure an attribution is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    /// Dated or addressed: what follows it, quoted or not, is the original.
    Strong,
    /// "Jane wrote:" alone: an attribution only if a quote follows it.
    Weak,
}

/// Whether `joined` (one line, or a wrapped attribution's lines joined with spaces) is an
/// attribution.
fn attribution_strength(joined: &str) -> Option<Strength> {
    let trimmed = clean(joined);
    // Zoho and Android bracket it: "---- On ... X wrote ----"; Zimbra leads with "- ".
    let bracketed = trimmed.starts_with("--") && trimmed.ends_with("--");
    let core = trimmed
        .trim_start_matches(['-', '\u{2013}', ' '])
        .trim_end_matches(['-', ' '])
        .trim();
    if core.chars().count() > 300 || core.len() < 4 {
        return None;
    }
    let evidence = EMAIL.is_match(core) || DATE.is_match(core);
    let colon_end = core.ends_with(':') || core.ends_with('：');
    if WROTE_AT_END.is_match(core) && evidence {
        return Some(Strength::Strong);
    }
    if bracketed && WROTE_ANYWHERE.is_match(core) {
        return Some(Strength::Strong);
    }
    if MID_VERB.is_match(core) && evidence && (colon_end || ADDRESS_END.is_match(core)) {
        return Some(Strength::Strong);
    }
    if colon_end && ADDRESS_COLON_END.is_match(core) && TIME.is_match(core) {
        return Some(Strength::Strong);
    }
    if colon_end && WROTE_AT_END.is_match(core) && core.chars().count() <= 80 {
        return Some(Strength::Weak);
    }
    None
}

/// Whether a line may continue a wrapped attribution's first line ("wrote:",
/// "<x@example.com>", "um 12:00 schrieb X").
fn continues_attribution(line: &str) -> bool {
    clean(line)
        .chars()
        .next()
        .is_some_and(|c| c.is_lowercase() || matches!(c, '<' | '(' | '[' | '"'))
}

fn ends_with_colon(line: &str) -> bool {
    let line = clean(line);
    line.ends_with(':') || line.ends_with('：')
}

/// A wrapped attribution's dated opening: "On Nov 21, 2014," / "at 10:18,".
fn is_dated_fragment(line: &str) -> bool {
    let line = clean(line);
    line.ends_with(',') && line.chars().count() <= 60 && DATE.is_match(line)
}

fn first_line(lines: &[&str]) -> String {
    // An empty quoted line (">") says nothing about what was removed.
    let says_something = |l: &&&str| !clean(l).trim_start_matches(['>', ' ']).is_empty();
    let line = lines.iter().find(says_something).copied().unwrap_or("");
    clean(line).chars().take(FIRST_LINE_CHARS).collect()
}

fn trimmed(reason: TrimReason, lines: &[&str]) -> Trimmed {
    Trimmed {
        reason,
        first_line: first_line(lines),
        lines: lines.iter().filter(|l| !is_blank(l)).count(),
    }
}

/// The own text of lines from either kind of body.
fn trim_lines(lines: &[&str], body: Body) -> OwnText {
    let mut scan = Scan::new(lines);
    // Kept lines by index; `BLANK` is one blank line standing for any run of them.
    const BLANK: usize = usize::MAX;
    let mut kept: Vec<usize> = Vec::new();
    let mut removed: Vec<Trimmed> = Vec::new();
    let mut at = 0;
    while at < scan.len() {
        if scan.is_blank(at) {
            if kept.last().is_some_and(|&k| k != BLANK) {
                kept.push(BLANK);
            }
            at += 1;
            continue;
        }
        if scan.is_quoted(at) {
            let end = scan.quote_block_end(at, body);
            removed.push(trimmed(TrimReason::Quote, &lines[at..end]));
            at = end;
            continue;
        }
        if let Some((end, strength)) = scan.attribution_starting_at(at) {
            let quote_follows = scan
                .next_non_blank(end + 1)
                .is_none_or(|n| scan.is_quoted(n));
            if quote_follows {
                removed.push(trimmed(TrimReason::Attribution, &lines[at..=end]));
                at = end + 1;
                continue;
            }
            if strength == Strength::Strong {
                removed.push(trimmed(TrimReason::Attribution, &lines[at..]));
                break;
            }
        }
        if let Some(reason) = scan.cut_at(at) {
            // A rule or a dated "Am ... schrieb X" line right above a header block
            // belongs to it.
            let mut start = at;
            if reason == TrimReason::HeaderBlock {
                while kept.last() == Some(&BLANK) {
                    kept.pop();
                }
                if let Some(&last) = kept.last() {
                    let info = &scan.info[last];
                    if info.is(Kind::Rule) || info.is(Kind::LooseAttribution) {
                        kept.pop();
                        start = last;
                    }
                }
            }
            removed.push(trimmed(reason, &lines[start..]));
            break;
        }
        if scan.info[at].is(Kind::Marking) {
            removed.push(trimmed(TrimReason::Marking, &lines[at..=at]));
            at += 1;
            continue;
        }
        if scan.info[at].is(Kind::Banner) {
            // The banner's paragraph, however it wraps.
            let end = scan.next_blank(at);
            removed.push(trimmed(TrimReason::Banner, &lines[at..end]));
            at = end;
            continue;
        }
        kept.push(at);
        at += 1;
    }
    while kept.last() == Some(&BLANK) {
        kept.pop();
    }
    let mut text = String::new();
    for (n, &at) in kept.iter().skip_while(|&&k| k == BLANK).enumerate() {
        if n > 0 {
            text.push('\n');
        }
        if at != BLANK {
            text.push_str(lines[at].trim_end());
        }
    }
    OwnText {
        text,
        trimmed: removed,
    }
}

/// Greetings that open a message: "Hi all,", "Dear Secretariat,", "Good morning Jo".
static GREETING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:hi|hello|hey|hiya|dear|good\s+(?:morning|afternoon|evening)|morning|afternoon|greetings|bonjour|hallo|hola|ciao|hej|guten\s+tag|liebe[rs]?|sehr\s+geehrte[rs]?)(?-u:\b)[^.!?]{0,50}[,!.:]?$",
    )
});
/// Sign-offs, alone or with a first name on the same line ("Thanks, Jo").
static SIGN_OFF: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:(?:many\s+|with\s+|big\s+)?thanks(?:\s+(?:again|all|very\s+much|so\s+much|in\s+advance))?|thank\s+you(?:\s+(?:again|all|very\s+much|so\s+much))?|thx|ta|cheers|(?:(?:very\s+)?(?:kind|best|warm|warmest|kindest)\s+)?(?:regards|wishes)|best|all\s+the\s+best|yours(?:\s+(?:sincerely|faithfully|truly|ever))?|(?:yours\s+)?(?:sincerely|faithfully)|with\s+(?:best|kind)\s+(?:regards|wishes)|speak\s+soon|take\s+care|bw|kr|rgds|mit\s+freundlichen\s+gr(?:ü|ue)(?:ß|ss)en|viele\s+gr(?:ü|ue)(?:ß|ss)e|beste\s+gr(?:ü|ue)(?:ß|ss)e|lg|cordialement|bien\s+(?:à\s+vous|cordialement)|saludos|un\s+saludo|cordiali\s+saluti|met\s+vriendelijke\s+groet(?:en)?|mvh|med\s+vänliga\s+hälsningar|cumprimentos|atenciosamente|pozdrawiam)(?:(?:[,!.]\s*|\s+)(?:[-\u{2013}]\s*)?(?-i:\p{Lu})[\p{L}'.-]*(?:\s+(?-i:\p{Lu})[\p{L}'.-]*){0,2})?\s*[,!.]?$",
    )
});

/// The own text without its closing: a trailing sign-off ("Thanks", "Kind regards,",
/// "Best wishes"), the name(s) under it, and an undelimited contact block under it (name
/// / job title / "Head of Partnerships | MOPAC" / phone / email / address lines), and a
/// leading greeting line ("Hi all,", "Dear Secretariat,"). Returns (body, closing) where
/// closing is the removed tail, if any. Used for text stored as an action update or as
/// minutes, where a signature must not be kept. Must not eat real content: a final
/// sentence is not a signature.
pub fn without_closing(own: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = own.lines().map(str::trim_end).collect();
    let mut start = lines
        .iter()
        .position(|l| !is_blank(l))
        .unwrap_or(lines.len());
    let mut end = lines
        .iter()
        .rposition(|l| !is_blank(l))
        .map_or(start, |n| n + 1);
    let mut closing = None;
    if let Some(sign_off) = closing_start(&lines[start..end]) {
        let sign_off = start + sign_off;
        closing = Some(lines[sign_off..end].join("\n"));
        end = sign_off;
    }
    if start < end && is_greeting(lines[start]) {
        let after = (start + 1..end).find(|&n| !is_blank(lines[n]));
        // A greeting alone is all the sender wrote: keep it rather than return nothing.
        if let Some(after) = after {
            start = after;
        }
    }
    while end > start && is_blank(lines[end - 1]) {
        end -= 1;
    }
    (lines[start..end].join("\n"), closing)
}

/// Whether `line` is a greeting ("Hi all,", "Dear Secretariat,").
pub(crate) fn is_greeting(line: &str) -> bool {
    let line = clean(line);
    is_marker_sized(line) && GREETING.is_match(line)
}

/// Whether `line` is a sign-off ("Thanks", "Kind regards,", "Thanks, Jo").
pub(crate) fn is_sign_off(line: &str) -> bool {
    let line = clean(line);
    is_marker_sized(line) && SIGN_OFF.is_match(line)
}

/// Where the closing starts: the last sign-off line with nothing but contact lines below
/// it, if there is one and it is not the first line.
fn closing_start(lines: &[&str]) -> Option<usize> {
    const CONTACT_LINES_MAX: usize = 10;
    let mut contact_lines = 0;
    for at in (0..lines.len()).rev() {
        let line = clean(lines[at]);
        if line.is_empty() {
            continue;
        }
        if is_marker_sized(line) && SIGN_OFF.is_match(line) {
            return Some(at);
        }
        contact_lines += 1;
        if contact_lines > CONTACT_LINES_MAX || !is_contact_line(line) {
            return None;
        }
    }
    None
}

/// A line of a contact block: short, and not a sentence (no question, no exclamation, no
/// full stop after more than an abbreviation).
fn is_contact_line(line: &str) -> bool {
    let chars = line.chars().count();
    if chars > 80 || line.ends_with(['?', '!', ':']) {
        return false;
    }
    if line.ends_with('.') && chars > 30 && !EMAIL.is_match(line) {
        return false;
    }
    // Two sentences on one line are prose.
    !line.contains(". ") || EMAIL.is_match(line) || line.contains('|')
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str =
        "Draft minutes of LCJB 2023-12-13, revision 2.\nReply APPROVE to approve, or REJECT and your reason.\n";

    fn quoted(prefix: &str) -> String {
        REQUEST.lines().map(|l| format!("{prefix}{l}\n")).collect()
    }

    fn reasons(own: &OwnText) -> Vec<TrimReason> {
        own.trimmed.iter().map(|t| t.reason).collect()
    }

    /// (name, plain body, expected own text)
    fn plain_cases() -> Vec<(&'static str, String, &'static str)> {
        vec![
            ("a bare answer is kept whole", "APPROVE\n".into(), "APPROVE"),
            (
                "gmail_attribution_wrapped_over_two_lines_and_its_quote_are_trimmed",
                format!("Approved\n\nOn Mon, 4 Dec 2023 at 10:02, LCJB Secretariat <\nlcjb+abc@board.example> wrote:\n\n{}", quoted("> ")),
                "Approved",
            ),
            (
                "outlook_plain_text_quote_below_from_sent_block_is_trimmed",
                format!("Yes\r\n\r\nTamara Barnett\r\nHead of Partnerships | MOPAC\r\n\r\nFrom: LCJB Secretariat <lcjb@board.example>\r\nSent: 04 December 2023 10:02\r\nTo: Tamara Barnett <tamara.barnett@mopac.example>\r\nSubject: Approve: draft minutes\r\n\r\n{REQUEST}"),
                "Yes\n\nTamara Barnett\nHead of Partnerships | MOPAC",
            ),
            (
                "outlook_plain_text_quote_below_original_message_is_trimmed",
                format!("I approve.\n\n-----Original Message-----\nFrom: LCJB Secretariat\n{REQUEST}"),
                "I approve.",
            ),
            (
                "outlook_underscore_line_above_a_header_block_is_a_separator",
                format!("approve\n\n________________________________\nFrom: LCJB Secretariat <lcjb@board.example>\nSent: Monday, December 4, 2023 10:02 AM\nTo: Jo\n{REQUEST}"),
                "approve",
            ),
            (
                "outlook_bold_header_labels_under_a_dashed_rule_are_a_header_block",
                format!("Noted, thanks.\n\n ------------------------------\n\n*From:* LCJB [mailto:lcjb@board.example]\n*Sent:* Thursday, February 09, 2012 1:36 PM\n*To:* jo@example.org\n*Subject:* Minutes\n\n{REQUEST}"),
                "Noted, thanks.",
            ),
            (
                "apple_mail_tagline_and_quote_below_it_are_trimmed",
                format!("Approved, thanks\n\nSent from my iPhone\n\n> On 4 Dec 2023, at 10:02, LCJB Secretariat <lcjb@board.example> wrote:\n>\n{}", quoted("> ")),
                "Approved, thanks",
            ),
            (
                "a_sentence_starting_sent_from_my_is_not_a_tagline",
                "Here it is.\n\nSent from my desk, which is easier than my phone.\n".into(),
                "Here it is.\n\nSent from my desk, which is easier than my phone.",
            ),
            (
                "outlook_for_android_tagline_and_header_below_are_trimmed",
                format!("Will do\n\nGet Outlook for Android<https://aka.ms/ghei36>\n________________________________\nFrom: LCJB <lcjb@board.example>\nSent: Monday, December 4, 2023 10:02:13 AM\nTo: Jo <jo@example.org>\nSubject: Minutes\n\n{REQUEST}"),
                "Will do",
            ),
            (
                "outlook_for_ios_dutch_tagline_is_trimmed",
                "Prima\n\nVerzonden vanuit Outlook voor iOS\n\nOld text\n".into(),
                "Prima",
            ),
            (
                "french_apple_mail_tagline_and_attribution_are_trimmed",
                format!("Oui.\n\nEnvoyé de mon iPad\n\nLe 4 déc. 2023 à 10:02, LCJB Secretariat <lcjb@board.example> a écrit :\n\n{}", quoted("> ")),
                "Oui.",
            ),
            (
                "german_thunderbird_attribution_with_the_name_after_the_verb_is_trimmed",
                format!("APPROVE\n\nAm 04.12.2023 um 10:02 schrieb LCJB Secretariat:\n{}", quoted("> ")),
                "APPROVE",
            ),
            (
                "german_gmail_attribution_with_the_date_after_the_verb_is_trimmed",
                "Erledigt.\n\nLCJB <lcjb@board.example> schrieb am Mo., 4. Dez. 2023 um 10:02:\n\nAlter Text\n".into(),
                "Erledigt.",
            ),
            (
                "dutch_italian_portuguese_and_polish_attributions_are_trimmed",
                format!("Goed\n\nOp ma 4 dec. 2023 om 10:02 schreef LCJB <lcjb@board.example>:\n{}", quoted("> ")),
                "Goed",
            ),
            (
                "italian_attribution_wrapped_before_the_verb_is_trimmed",
                "Va bene\n\nIl giorno lun 4 dic 2023 alle ore 10:02 LCJB <lcjb@board.example>\nha scritto:\n\nVecchio testo\n".into(),
                "Va bene",
            ),
            (
                "polish_attribution_directly_under_the_reply_is_trimmed",
                "Zgoda\nW dniu 2023-12-04 10:02 użytkownik LCJB lcjb@board.example napisał:\nStary tekst\n".into(),
                "Zgoda",
            ),
            (
                "russian_attribution_without_a_verb_is_trimmed",
                "Да\n\nпн, 4 дек. 2023 г. в 10:02, LCJB <lcjb@board.example>:\n\nСтарый текст\n".into(),
                "Да",
            ),
            (
                "japanese_and_chinese_attributions_are_trimmed",
                "了解\n\n2023/12/04 10:02、LCJB <lcjb@board.example> のメッセージ:\n\n古いテキスト\n\n在 2023年12月4日，上午10:02，LCJB <lcjb@board.example> 写道：\n".into(),
                "了解",
            ),
            (
                "android_bracketed_attribution_without_a_date_is_trimmed",
                format!("Fine\n\n---- Jo Bloggs wrote ----\n\n{}", quoted("> ")),
                "Fine",
            ),
            (
                "an_undated_x_wrote_line_followed_by_own_text_is_kept",
                "Agreed.\n\nSomeone wrote:\nwe should move item 3.\n".into(),
                "Agreed.\n\nSomeone wrote:\nwe should move item 3.",
            ),
            (
                "bottom_posted_reply_after_the_quote_is_kept",
                format!("On 4 Dec 2023, at 10:02, LCJB Secretariat wrote:\n{}\nApproved\n", quoted("> ")),
                "Approved",
            ),
            (
                "inline_replies_between_quotes_are_kept_and_wrapped_quote_lines_are_not",
                "On Mon, 4 Dec 2023 at 10:02, LCJB <lcjb@board.example> wrote:\n> Item 1 is agreed, is it\nnot?\n> Really?\n\nYes it is.\n\n> Item 2?\n\nNo.\n".into(),
                "Yes it is.\n\nNo.",
            ),
            (
                "text_after_an_attribution_without_quote_marks_is_the_original",
                "Thank you.\n\nLe 19/03/2023 11:34, Jo Bloggs a écrit :\n\nOld mail\n".into(),
                "Thank you.",
            ),
            (
                "signature_after_dash_dash_space_is_trimmed",
                "REJECT Item 2 is wrong.\n\nThanks\n-- \nKris\n07700 900000\n".into(),
                "REJECT Item 2 is wrong.\n\nThanks",
            ),
            (
                "a_double_dash_inside_a_sentence_is_not_a_signature",
                "We agreed -- at last -- on item 4.\n".into(),
                "We agreed -- at last -- on item 4.",
            ),
            (
                "a_short_underscore_line_starts_a_signature",
                "Thanks,\n___________________\nJo Bloggs\nBank of Example\n".into(),
                "Thanks,",
            ),
            (
                "protective_markings_at_top_and_bottom_are_trimmed",
                "OFFICIAL\n\nHi Tamara,\n\nApproved.\n\nKind regards,\nJane\n\n[OFFICIAL-SENSITIVE]\n".into(),
                "Hi Tamara,\n\nApproved.\n\nKind regards,\nJane",
            ),
            (
                "external_sender_banner_at_the_top_is_trimmed",
                "CAUTION: This email originated from outside of the organisation. Do not click links\nunless you recognise the sender.\n\nHi all,\n\nDone.\n".into(),
                "Hi all,\n\nDone.",
            ),
            (
                "a_confidentiality_disclaimer_and_what_follows_are_trimmed",
                "Approved.\n\nThis email and any attachments are confidential and intended solely for the addressee.\nIf you are not the intended recipient, delete it.\n".into(),
                "Approved.",
            ),
            (
                "a_notification_footer_is_trimmed",
                "Merged, thanks.\n\nYou are receiving this because you were mentioned.\nReply to this email directly.\n".into(),
                "Merged, thanks.",
            ),
            (
                "a_french_header_block_with_spaced_colons_is_trimmed",
                "Bien reçu.\n\nDe : LCJB <lcjb@board.example>\nEnvoyé : lundi 4 décembre 2023 10:02\nÀ : Jo\nObjet : Procès-verbal\n\nAncien texte\n".into(),
                "Bien reçu.",
            ),
            (
                "a_gmx_header_block_starting_with_the_date_is_trimmed",
                "Gut.\n\nGesendet: Montag, 04. Dezember 2023 um 10:02 Uhr\nVon: LCJB <lcjb@board.example>\nAn: Jo\nBetreff: Protokoll\n".into(),
                "Gut.",
            ),
            (
                "a_dated_attribution_line_right_above_a_header_block_goes_with_it",
                "Danke.\nAm 04.12.23 um 10:02 schrieb LCJB Sekretariat\nVon: LCJB\nDatum: 4. Dezember 2023\nAn: Jo\n".into(),
                "Danke.",
            ),
            (
                "meeting_details_with_a_single_label_are_not_a_header_block",
                "Venue: Room 4\nThe papers are attached.\n".into(),
                "Venue: Room 4\nThe papers are attached.",
            ),
            (
                "a_quote_with_nothing_unquoted_gives_nothing",
                "On Mon, 4 Dec 2023 at 10:02, X <x@y.example> wrote:\n> APPROVE\n".into(),
                "",
            ),
        ]
    }

    #[test]
    fn plain_replies_from_common_clients_keep_only_the_senders_words() {
        for (name, body, expected) in plain_cases() {
            let own = own_text(&body);
            assert_eq!(own.text, expected, "{name}: trimmed {:?}", own.trimmed);
        }
    }

    #[test]
    fn what_was_trimmed_is_reported_with_its_reason() {
        let own = own_text(&format!(
            "OFFICIAL\nYes\n\nSent from my iPhone\n\n> On 4 Dec 2023, X <x@y.example> wrote:\n{}",
            quoted("> ")
        ));
        assert_eq!(own.text, "Yes");
        assert_eq!(
            reasons(&own),
            vec![TrimReason::Marking, TrimReason::Tagline]
        );
        assert_eq!(own.trimmed[1].first_line, "Sent from my iPhone");
        let own = own_text(&format!(
            "Yes\n\nOn 4 Dec 2023, X <x@y.example> wrote:\n{}",
            quoted("> ")
        ));
        assert_eq!(
            reasons(&own),
            vec![TrimReason::Attribution, TrimReason::Quote]
        );
        assert_eq!(own.trimmed[1].lines, 2);
    }

    /// (name, HTML body, expected own text)
    fn html_cases() -> Vec<(&'static str, &'static str, &'static str)> {
        vec![
            (
                "gmail_quote_container_is_trimmed",
                r#"<div dir="ltr">Approved</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 4 Dec 2023 at 10:02, LCJB &lt;lcjb@board.example&gt; wrote:<br></div><blockquote class="gmail_quote">Reply APPROVE to approve</blockquote></div>"#,
                "Approved",
            ),
            (
                "outlook_web_appendonsend_and_divrplyfwdmsg_end_the_own_text",
                r#"<html><head><style>p{margin:0}</style></head><body><div style="font-family:Calibri">Yes</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><font><b>Von:</b> LCJB<br><b>Gesendet:</b> Montag</font></div><div>Reply APPROVE to approve</div></body></html>"#,
                "Yes",
            ),
            (
                "outlook_desktop_border_top_header_box_ends_the_own_text_in_any_language",
                r#"<div class=WordSection1><p class=MsoNormal>REJECT attendees wrong<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p class=MsoNormal><b>Feladó:</b> LCJB<br><b>Elküldve:</b> 2023<br><b>Címzett:</b> Jo</p></div><p>Reply APPROVE to approve</p></div>"#,
                "REJECT attendees wrong",
            ),
            (
                "apple_mail_cite_blockquote_is_trimmed",
                r#"<html><body><div>I approve</div><div><br><blockquote type="cite"><div>On 4 Dec 2023, at 10:02, LCJB &lt;lcjb@board.example&gt; wrote:</div><div>Reply APPROVE to approve</div></blockquote></div></body></html>"#,
                "I approve",
            ),
            (
                "iphone_tagline_and_cite_blockquote_are_trimmed",
                r#"<html><body dir="auto">Approve<br><br><div dir="ltr">Sent from my iPhone</div><div dir="ltr"><br><blockquote type="cite">On 4 Dec 2023, at 10:02, LCJB wrote:<br></blockquote></div><blockquote type="cite"><div dir="ltr">Reply APPROVE to approve</div></blockquote></body></html>"#,
                "Approve",
            ),
            (
                "thunderbird_moz_cite_prefix_and_its_blockquote_are_trimmed",
                r#"<p>I don't approve yet</p><div class="moz-cite-prefix">On 04/12/2023 10:02, LCJB wrote:<br></div><blockquote type="cite">Reply APPROVE</blockquote>"#,
                "I don't approve yet",
            ),
            (
                "yahoo_quoted_container_is_trimmed",
                r#"<div dir="ltr">Fine by me.<br><br>Dan</div><div class="ydpa1yahoo_quoted" id="ydpa1yahoo_quoted_1"><div>On Thursday, 4 December 2023, 10:02:00 GMT, LCJB <lcjb@board.example> wrote:</div><div>Reply APPROVE</div></div>"#,
                "Fine by me.\n\nDan",
            ),
            (
                "bottom_posted_html_reply_after_a_blockquote_is_kept",
                r#"<div class="moz-cite-prefix">On 04/12/2023 10:02, LCJB wrote:</div><blockquote type="cite">Reply APPROVE</blockquote><p>Approved from below.</p>"#,
                "Approved from below.",
            ),
            (
                "an_unquoted_line_between_html_quotes_is_the_senders",
                r#"<blockquote type="cite">Item 1?</blockquote><div>Yes</div><blockquote type="cite">Item 2?</blockquote><div>No</div>"#,
                "Yes\nNo",
            ),
            (
                "gmail_indentation_is_not_a_quote",
                r#"<div>Points:</div><blockquote style="margin:0 0 0 40px;border:none;padding:0px"><div>one</div></blockquote>"#,
                "Points:\none",
            ),
            (
                "outlook_mac_source_body_section_is_trimmed",
                r#"<div>Reply</div><span id="OLK_SRC_BODY_SECTION"><div><span>From: </span>Bob<br><span>Date: </span>Tue</div><div>Hi</div></span>"#,
                "Reply",
            ),
            (
                "gmx_quote_div_is_trimmed",
                r#"<div>Gut so.</div><div name="quote" style="margin:10px;border-left:2px solid #C3D9E5"><div><b>Gesendet:</b>&nbsp;Montag</div><div>Alt</div></div>"#,
                "Gut so.",
            ),
        ]
    }

    #[test]
    fn html_only_replies_are_trimmed_by_their_structure() {
        for (name, html, expected) in html_cases() {
            let own = own_text_html(html);
            assert_eq!(own.text, expected, "{name}: trimmed {:?}", own.trimmed);
        }
    }

    #[test]
    fn an_empty_plain_part_falls_back_to_the_html_one() {
        let own = read(Some("\n> quoted\n"), Some("<p>Approved</p>"));
        assert_eq!(own.text, "Approved");
        let own = read(Some("Plain words"), Some("<p>HTML words</p>"));
        assert_eq!(own.text, "Plain words");
        assert_eq!(read(None, None).text, "");
    }

    #[test]
    fn a_document_in_a_body_keeps_its_own_rules_and_a_forward_keeps_what_it_forwards() {
        let minutes = format!(
            "Present\nJo Coleman\n\nItem 1 Welcome\n\n--\n\n{}Next meeting: 13 December",
            (2..12)
                .map(|n| format!("Item {n}\nThe board noted the report.\n\n"))
                .collect::<String>()
        );
        let minutes = minutes.as_str();
        assert_eq!(document_text(Some(minutes), None, false), minutes);
        let forward = "FYI below.\n\n---------- Forwarded message ---------\nFrom: Jo Coleman <jo@cps.example>\nSubject: Update\n\nCaseloads are down.";
        assert_eq!(document_text(Some(forward), None, true), forward);
        let reply = "Caseloads are down.\n\n-----Original Message-----\nFrom: LCJB\nSent: 1 Dec\nTo: Jo\nSubject: Updates due\n\nPlease send your update.";
        assert_eq!(
            document_text(Some(reply), None, false),
            "Caseloads are down."
        );
    }

    #[test]
    fn without_closing_removes_sign_offs_names_contact_blocks_and_greetings() {
        // (name, own text, body, closing)
        let cases: [(&str, &str, &str, Option<&str>); 7] = [
            (
                "sign_off_name_and_contact_block_are_the_closing",
                "Done - shared with partners on 1 Dec.\n\nThanks\nTamara\nTamara Barnett\nHead of Partnerships | MOPAC\n07700 900123",
                "Done - shared with partners on 1 Dec.",
                Some("Thanks\nTamara\nTamara Barnett\nHead of Partnerships | MOPAC\n07700 900123"),
            ),
            (
                "a_final_sentence_is_real_content_and_kept",
                "Hi all,\n\nAgreed.\nI will send the revised figures to the board by Friday.",
                "Agreed.\nI will send the revised figures to the board by Friday.",
                None,
            ),
            (
                "a_sign_off_with_a_name_on_the_same_line_is_the_closing",
                "Dear Secretariat,\n\nUpdate: the CPS paper is delayed to January.\n\nKind regards, Jo",
                "Update: the CPS paper is delayed to January.",
                Some("Kind regards, Jo"),
            ),
            (
                "a_sentence_starting_with_thanks_is_content",
                "Thanks for chasing - the report went to the board on 3 Dec.",
                "Thanks for chasing - the report went to the board on 3 Dec.",
                None,
            ),
            (
                "a_question_under_a_sign_off_is_not_a_contact_line",
                "Done.\n\nThanks\nCould you confirm the date?",
                "Done.\n\nThanks\nCould you confirm the date?",
                None,
            ),
            (
                "email_and_address_lines_are_contact_lines",
                "Action 4 complete.\n\nBest wishes,\n\nJo Bloggs\njo.bloggs@example.gov.uk\n10 Example Street, London SW1A 1AA",
                "Action 4 complete.",
                Some("Best wishes,\n\nJo Bloggs\njo.bloggs@example.gov.uk\n10 Example Street, London SW1A 1AA"),
            ),
            (
                "a_greeting_alone_is_kept",
                "Hi all,",
                "Hi all,",
                None,
            ),
        ];
        for (name, own, body, closing) in cases {
            let (got_body, got_closing) = without_closing(own);
            assert_eq!(got_body, body, "{name}");
            assert_eq!(got_closing.as_deref(), closing, "{name}");
        }
    }

    #[test]
    fn first_lines_of_removed_parts_are_bounded() {
        let long = format!("Yes\n\n-- \n{}\n", "x".repeat(500));
        let own = own_text(&long);
        assert_eq!(own.trimmed[0].first_line, "--");
        let own = own_text(&format!("Yes\n> {}\n", "q".repeat(500)));
        assert_eq!(own.trimmed[0].first_line.chars().count(), FIRST_LINE_CHARS);
    }

    #[test]
    fn hostile_bodies_are_read_whole_without_losing_the_senders_words() {
        // Many short marker-like lines: everything after the first attribution is quote.
        let lines = format!(
            "Approved\n{}",
            "On Mon wrote\nFrom: x\n> q\nSent: y\n-----\n".repeat(20_000)
        );
        assert_eq!(own_text(&lines).text, "Approved");
        // One enormous line is the sender's, untouched.
        let one_line = "a".repeat(2_000_000);
        assert_eq!(own_text(&one_line).text.len(), one_line.len());
        // Deeply nested, unclosed quote containers: only what precedes them is own text.
        let html = format!(
            "<p>Done</p>{}",
            "<div class=\"gmail_quote\"><blockquote>x</div>".repeat(20_000)
        );
        assert_eq!(own_text_html(&html).text, "Done");
    }

    #[test]
    fn every_pattern_compiles() {
        let patterns = line_patterns();
        assert_eq!(patterns.len(), Kind::LooseAttribution as usize + 1);
        for pattern in &patterns {
            assert!(Regex::new(pattern).is_ok(), "{pattern}");
        }
        assert_eq!(LINE_PATTERNS.len(), patterns.len());
        for pattern in [
            &*WROTE_ANYWHERE,
            &*WROTE_AT_END,
            &*MID_VERB,
            &*EMAIL,
            &*DATE,
            &*TIME,
            &*ADDRESS_COLON_END,
            &*ADDRESS_END,
            &*ANY_LABEL,
            &*GREETING,
            &*SIGN_OFF,
        ] {
            assert!(!pattern.as_str().is_empty());
        }
    }
}
