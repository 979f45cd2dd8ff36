//! Filing: deciding what an inbound message is and what it belongs to — its kind (a
//! written update, draft minutes, an approval reply, an action update, a bounce, an
//! automatic reply, an attendance response, or unrelated), the meeting, agenda item,
//! action, organisation and member — with a confidence, the human-readable reason for
//! every signal that counted, and what limited the confidence when it falls short.
//!
//! [`decide`] is a pure function of the parsed message, a snapshot of the registry, what
//! minuted itself sent (Message-IDs and reply tokens) and the time. It does no I/O: the
//! [`worker`] builds its inputs from PostgreSQL (through `store::filings`) and records
//! its output. Nothing in `decide` sends, stores or verifies an approval; it only says
//! what a message looks like and how sure it is.
//!
//! Evidence is weighed in order, one file per part of the decision:
//! - `thread`: mail of ours the message answers or bounces (our reply token, our
//!   Message-IDs, VERP), and corrections to our acknowledgements;
//! - `kind`: machines first (bounces, automatic replies), then calendar responses, then
//!   the family our mail fixes for a reply to it (no wording can change it), then wording,
//!   tags and attachments — never our own subject or quoted text;
//! - `sender`: the member or organisation, forwards, failed authentication, and whether a
//!   reply came from whom we wrote to;
//! - `meeting`, `item`, `action`: what each is, from our mail, tags, dates and titles;
//! - `tally`: the arithmetic that turns signals into a winner, a confidence and its limit.
//!
//! [`answer`] says what to tell the sender of a reply that lands in triage;
//! [`acknowledge`] queues that answer and the acknowledgements; `sent` reads what we sent
//! from the outbox rows a message points at; [`snapshots`] keeps the registry as filing
//! reads it; [`calendar`] reads calendar responses. The types `decide` works on and
//! returns are `domain::board` and `domain::filing`, re-exported here.

pub mod acknowledge;
mod action;
pub mod answer;
pub mod attendance;
pub mod calendar;
mod item;
mod kind;
mod meeting;
mod sender;
mod sent;
mod signals;
pub mod snapshots;
mod tally;
mod text;
mod thread;
pub mod worker;

pub use crate::domain::board::{
    Action, Item, Meeting, MeetingStatus, Member, Organisation, Registry, SenderOf,
};
pub use crate::domain::filing::{
    Attachment, Correction, Disposition, Dsn, DsnRecipient, FilingDecision, Headers, Kind, Message,
};
use item::{significant_words, title_matches};
use kind::KindChoice;
use sender::Sender;
pub use sent::{Sent, SentKind, SentMessage};
use tally::{Confidence, Tally};

pub use calendar::{Attendance, Participation};
pub(crate) use signals::correction;

/// Whether `subject` says its message forwards another (`Fwd:`, `FW:`, `WG:`, `TR:` ...).
pub(crate) fn forwarded_subject(subject: &str) -> bool {
    text::subject(text::truncate(subject, 1000)).forwarded
}

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::registry::{self as file_registry};
use signals::ApprovalWord;

/// Below this confidence a message goes to triage unless `filing.threshold` says
/// otherwise.
pub const DEFAULT_THRESHOLD: f32 = 0.7;

// ---------------------------------------------------------------------------------------
// Inputs

impl Registry {
    /// The snapshot of a registry file, with every meeting scheduled and no actions: what
    /// the golden tests and a freshly imported board look like.
    pub fn from_file(registry: &file_registry::Registry) -> Registry {
        let slug = registry.board.slug.clone();
        let mut meetings: Vec<Meeting> = registry
            .meetings
            .iter()
            .map(|m| Meeting {
                reference: file_registry::Registry::meeting_ref(&slug, m.date),
                date: m.date,
                papers_deadline: m.papers_deadline,
                status: MeetingStatus::Scheduled,
                items: m
                    .items
                    .iter()
                    .map(|i| Item {
                        number: i.number.clone(),
                        title: i.title.clone(),
                        lead: i.lead.clone(),
                    })
                    .collect(),
            })
            .collect();
        meetings.sort_by_key(|m| m.date);
        Registry {
            board_slug: slug,
            board_address: registry.board.address.as_str().to_lowercase(),
            organisations: registry
                .organisations
                .iter()
                .map(|o| Organisation {
                    short: o.short.clone(),
                    domains: o.domains.clone(),
                    active: true,
                })
                .collect(),
            members: registry.members.iter().map(Member::from).collect(),
            meetings,
            actions: Vec::new(),
        }
    }

    fn member_by_address(&self, address: &str) -> Option<&Member> {
        // An active member wins over an inactive one holding the same address.
        self.members
            .iter()
            .filter(|m| m.addresses.iter().any(|a| a == address))
            .max_by_key(|m| m.active)
    }

    /// Who sends from `address`: the member holding it (with their organisation and
    /// whether they are of the secretariat), else the organisation owning its domain.
    pub fn sender_of(&self, address: &str) -> SenderOf {
        let address = bare_address(address);
        if let Some(member) = self.member_by_address(&address) {
            return SenderOf {
                member: Some(member.name.clone()),
                organisation: member.organisation.clone(),
                secretariat: member.is_secretariat(),
            };
        }
        let organisation = address
            .rsplit_once('@')
            .and_then(|(_, domain)| self.organisation_by_domain(domain))
            .map(|(o, _)| o.short.clone());
        SenderOf {
            member: None,
            organisation,
            secretariat: false,
        }
    }

    fn member_by_name(&self, name: &str) -> Option<&Member> {
        let wanted = normalise_name(name);
        if wanted.is_empty() {
            return None;
        }
        let mut found = self
            .members
            .iter()
            .filter(|m| normalise_name(&m.name) == wanted);
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// The organisation owning `domain` or the nearest parent domain: `mail.met.example`
    /// is the MPS's when `met.example` is.
    fn organisation_by_domain<'d>(&self, domain: &'d str) -> Option<(&Organisation, &'d str)> {
        let mut candidate = domain;
        loop {
            if let Some(o) = self
                .organisations
                .iter()
                .filter(|o| o.domains.iter().any(|d| d == candidate))
                .max_by_key(|o| o.active)
            {
                return Some((o, candidate));
            }
            let (_, parent) = candidate.split_once('.')?;
            if !parent.contains('.') {
                return None;
            }
            candidate = parent;
        }
    }
}

/// A name compared without case or punctuation.
pub(super) fn normalise_name(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Message {
    /// Reply tokens in the recipient addresses: the `<token>` of `<local>+<token>@<domain>`
    /// where `<local>@<domain>` is the board's address.
    pub fn reply_tokens(&self, board_address: &str) -> Vec<String> {
        let board = board_address.to_lowercase();
        let Some((local, domain)) = board.split_once('@') else {
            return Vec::new();
        };
        let mut tokens: Vec<String> = Vec::new();
        for address in self.to.iter().chain(&self.cc).chain(&self.delivered_to) {
            // Tokens keep their spelling; only the board's part compares without case.
            let address = address_as_written(address);
            let Some((l, d)) = address.rsplit_once('@') else {
                continue;
            };
            if !d.eq_ignore_ascii_case(domain) {
                continue;
            }
            let Some(rest) = l
                .get(..local.len())
                .filter(|head| head.eq_ignore_ascii_case(local))
                .and_then(|_| l.get(local.len()..))
            else {
                continue;
            };
            if let Some(token) = rest.strip_prefix('+') {
                if !token.is_empty() && !tokens.iter().any(|t| t == token) {
                    tokens.push(token.to_owned());
                }
            }
        }
        tokens
    }

    /// The Message-IDs this message replies to, nearest first.
    pub fn thread_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        let mut push = |id: &str| {
            let id = id
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        };
        if let Some(id) = &self.in_reply_to {
            push(id);
        }
        for id in self.references.iter().rev() {
            push(id);
        }
        ids
    }
}

/// `Name <a@b>` or `a@b`, lower-cased, without brackets.
fn bare_address(text: &str) -> String {
    address_as_written(text).to_lowercase()
}

/// `Name <a@b>` or `a@b`, without brackets, in its own case.
fn address_as_written(text: &str) -> &str {
    let text = text.trim();
    let inner = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text,
    };
    inner.trim().trim_start_matches("mailto:")
}

/// A token as sent, or in lower case: some mail systems lower-case local parts.
fn by_token<'s>(map: &'s HashMap<String, SentMessage>, token: &str) -> Option<&'s SentMessage> {
    map.get(token).or_else(|| {
        let lower = token.to_lowercase();
        map.iter()
            .find(|(k, _)| k.to_lowercase() == lower)
            .map(|(_, v)| v)
    })
}

// ---------------------------------------------------------------------------------------
// Output

// ---------------------------------------------------------------------------------------
// Weighing evidence

// ---------------------------------------------------------------------------------------
// The decision

/// The texts a message offers, strongest place first.
struct Texts {
    subject: String,
    subject_is_reply: bool,
    forwarded_subject: Option<String>,
    own: String,
    forwarded_body: Option<String>,
    quoted: String,
    attachment_names: Vec<String>,
    attachment_lines: Vec<String>,
    /// The forwarded message's `From:` line: (name, address).
    forwarded_from: Option<(Option<String>, Option<String>)>,
    /// The subject is ours, echoed by a reply to mail we sent: not evidence.
    subject_echoes_ours: bool,
}

impl Texts {
    /// Where a reference may be written, with the weight of finding it there and the
    /// words that say where: each subject (the message's own first), each attachment's
    /// name, then the first 8,000 characters of the text.
    fn places(&self) -> Vec<(String, f32, String)> {
        let mut places: Vec<(String, f32, String)> = Vec::new();
        for (i, s) in self.subjects().enumerate() {
            places.push((
                s.to_owned(),
                if i == 0 { 0.9 } else { 0.85 },
                "the subject".to_owned(),
            ));
        }
        for name in &self.attachment_names {
            places.push((name.clone(), 0.8, format!("attachment \"{name}\"")));
        }
        places.push((
            text::truncate(&self.content(), 8000).to_owned(),
            0.7,
            "the text".to_owned(),
        ));
        places
    }

    fn read(message: &Message) -> Texts {
        let raw_subject = message.subject.as_deref().unwrap_or_default();
        let raw_subject = text::truncate(raw_subject, 1000);
        let subject = text::subject(raw_subject);
        let body_text = message.body_text.as_deref().unwrap_or_default();
        let mut body = text::body(body_text, subject.forwarded);
        // A reply's own words are read by the crate's one reader, from the HTML
        // structure when the message has no plain-text body of its own; a forward keeps
        // the split above, which also reads the forwarded message's header block.
        if body.forwarded.is_none() {
            let own = crate::text::reply::read_stored(
                message
                    .body_text
                    .as_deref()
                    .map(|t| text::truncate(t, text::MAX_BODY_CHARS)),
                message
                    .body_html
                    .as_deref()
                    .map(|h| text::truncate(h, 4 * text::MAX_BODY_CHARS)),
            );
            body.own = own.text.trim().to_owned();
        }
        let forwarded_subject = body
            .forwarded
            .as_ref()
            .and_then(|f| f.subject.as_deref())
            .map(|s| text::subject(text::truncate(s, 1000)).text);
        Texts {
            subject: subject.text,
            subject_is_reply: subject.reply,
            forwarded_subject,
            own: body.own,
            forwarded_from: body
                .forwarded
                .as_ref()
                .map(|f| (f.from_name.clone(), f.from_address.clone())),
            forwarded_body: body.forwarded.map(|f| f.body),
            quoted: body.quoted,
            subject_echoes_ours: false,
            attachment_names: message
                .attachments
                .iter()
                .take(50)
                .filter_map(|a| a.filename.as_deref())
                .map(|n| text::truncate(n, 300).to_owned())
                .collect(),
            attachment_lines: message
                .attachments
                .iter()
                .take(50)
                .filter_map(|a| a.first_lines.as_deref())
                .map(|n| text::truncate(n, 2000).to_owned())
                .collect(),
        }
    }

    /// The sender's own words and, for a forward, the forwarded message's.
    fn content(&self) -> String {
        match &self.forwarded_body {
            Some(f) if !f.is_empty() => format!("{}\n{}", self.own, f),
            _ => self.own.clone(),
        }
    }

    /// The subjects that are evidence: the message's own (unless it echoes ours) and a
    /// forwarded message's.
    fn subjects(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.subject.as_str())
            .filter(|_| !self.subject_echoes_ours)
            .chain(self.forwarded_subject.as_deref())
    }

    /// A reply to mail we sent: its subject echoes ours and what it quotes is ours, so
    /// neither is evidence of anything.
    fn answer_ours(&mut self) {
        self.subject_echoes_ours = self.subject_is_reply;
        self.quoted.clear();
    }
}

/// Decides what `message` is. Pure: the same inputs give the same decision. `threshold`
/// is `filing.threshold`: below it a message goes to triage.
pub fn decide(
    message: &Message,
    registry: &Registry,
    sent: &Sent,
    now: DateTime<Utc>,
    threshold: f32,
) -> FilingDecision {
    Decider::new(message, registry, sent, now).decide(threshold)
}

struct Decider<'a> {
    message: &'a Message,
    registry: &'a Registry,
    sent: &'a Sent,
    today: NaiveDate,
    texts: Texts,
    reasons: Vec<String>,
    /// The calendar response the message carries, if any.
    attendance: Option<Attendance>,
    /// The mail we sent that this replies to fixed its kind.
    family_decided: bool,
}

/// A message we sent that this one answers or bounces, and how we know.
struct Replying {
    sent: SentMessage,
    /// `reply token`, `bounce address`, `In-Reply-To` ...
    via: &'static str,
}

impl<'a> Decider<'a> {
    fn new(
        message: &'a Message,
        registry: &'a Registry,
        sent: &'a Sent,
        now: DateTime<Utc>,
    ) -> Self {
        Decider {
            message,
            registry,
            sent,
            today: now.date_naive(),
            texts: Texts::read(message),
            reasons: Vec::new(),
            attendance: calendar::response(message),
            family_decided: false,
        }
    }

    /// A member's answer to an invitation: their calendar's, else their words', with the
    /// deputy they name in their own words.
    fn answer(&self) -> Option<Attendance> {
        let mut answer = self
            .attendance
            .clone()
            .or_else(|| calendar::from_words(&self.texts.own))?;
        if answer.deputy.is_none() {
            answer.deputy = answer
                .comment
                .as_deref()
                .and_then(calendar::deputy_in)
                .or_else(|| calendar::deputy_in(text::truncate(&self.texts.own, 1000)));
            if answer.deputy.is_some() {
                answer.participation = Participation::Declined;
            }
        }
        Some(answer)
    }

    fn reason(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !self.reasons.contains(&text) {
            self.reasons.push(text);
        }
    }

    fn decide(mut self, threshold: f32) -> FilingDecision {
        let sender = self.sender();
        let reply = self.replying();
        if reply.is_some() {
            self.texts.answer_ours();
        }
        let bounce = self.bounce_evidence(&reply);
        let automatic = self.automatic_evidence(&reply);
        let kind = self.kind(&sender, &reply, &bounce, &automatic);
        let KindChoice {
            kind,
            confidence: kind_confidence,
            machine_signs,
        } = kind;

        let mut decision = FilingDecision {
            kind,
            meeting: None,
            item: None,
            action: None,
            organisation: sender.organisation.map(str::to_owned),
            member: sender.member.map(|m| m.name.clone()),
            confidence: 0.0,
            disposition: Disposition::Triage,
            reasons: Vec::new(),
            outbox_id: reply.as_ref().and_then(|r| r.sent.outbox_id),
            correction: None,
            attendance: None,
        };

        let mut confidence = Confidence::new(kind_confidence, "what kind of message it is");
        let family = reply.is_some() && self.family_decided;
        match kind {
            Kind::Bounce => {
                self.bounced_recipient(&mut decision, &reply);
                decision.meeting = reply.as_ref().and_then(|r| r.sent.meeting.clone());
            }
            Kind::AutoReply | Kind::Unrelated => {
                let meeting = self.meeting(kind, &sender, &reply);
                decision.meeting = meeting.map(|(m, _)| m.reference.clone());
                if kind == Kind::Unrelated {
                    if let Some(correction) = self.correction(&sender, &reply) {
                        decision.correction = Some(correction);
                    }
                }
            }
            Kind::AttendanceResponse => {
                let meeting = self.meeting(kind, &sender, &reply);
                decision.meeting = meeting.map(|(m, _)| m.reference.clone());
                decision.attendance = self.answer();
                confidence.cap(sender.confidence, "who the sender is");
                if decision.attendance.is_none() {
                    self.reason(
                        "it does not say whether they will attend: no calendar answer, and no \
                         words such as \"I will attend\" or \"Apologies\"",
                    );
                    confidence.cap(0.5, "it does not say whether they will attend");
                }
                if decision.meeting.is_none() {
                    self.reason("no meeting could be chosen");
                    confidence.cap(0.3, "no meeting could be chosen");
                }
            }
            Kind::ApprovalReply => {
                let meeting = self.meeting(kind, &sender, &reply);
                decision.meeting = meeting.map(|(m, _)| m.reference.clone());
                confidence.cap(sender.confidence, "who the sender is");
                if !sender.approver {
                    self.reason("the sender is not a chair or secretariat member, who approve");
                    // Answering our request, it stays filed: the approval step refuses
                    // it, says why to them and the secretariat, and records the refusal.
                    if !family {
                        confidence.cap(0.5, "the sender is not a chair or secretariat member");
                    }
                }
            }
            Kind::DraftMinutes | Kind::WrittenUpdate | Kind::ActionUpdate => {
                confidence.cap(sender.confidence, "who the sender is");
                if sender.organisation.is_none() {
                    self.reason("no organisation: the sender is not known to the registry");
                    confidence.cap(0.3, "the sender is not known to the registry");
                }
                let meeting = self.meeting(kind, &sender, &reply);
                match meeting {
                    Some((meeting, meeting_confidence)) => {
                        decision.meeting = Some(meeting.reference.clone());
                        confidence.cap(
                            meeting_confidence,
                            format!("which meeting it is for ({})", meeting.reference),
                        );
                        if kind != Kind::DraftMinutes {
                            let (item, item_confidence) = self.item(kind, meeting, &sender, &reply);
                            confidence.cap(
                                item_confidence,
                                match &item {
                                    Some(item) => format!("which agenda item it is about ({item})"),
                                    None => "which agenda item it is about".to_owned(),
                                },
                            );
                            decision.item = item;
                        }
                    }
                    None => {
                        self.reason("no meeting could be chosen");
                        confidence.cap(0.3, "no meeting could be chosen");
                    }
                }
                if kind != Kind::DraftMinutes {
                    let (action, action_confidence) = self.action(kind, &sender, &reply);
                    confidence.cap(
                        action_confidence,
                        match &action {
                            Some(action) => format!("which action it is about ({action})"),
                            None => "no action could be identified".to_owned(),
                        },
                    );
                    decision.action = action;
                }
            }
        }

        // A reply whose family our token or thread fixed is not pushed to triage by
        // wording: only a failed check of who sent it may, or an action update that
        // cannot say which action it is about. An approval reply from someone other than
        // its approver stays filed: the approval step refuses it, tells them and the
        // secretariat why, and records the refusal.
        if let Some(r) = reply.as_ref().filter(|_| family) {
            if kind != Kind::ApprovalReply && !self.sender_matches_recipient(r, &sender) {
                confidence.cap(0.5, "the reply did not come from the person we wrote to");
            } else if kind == Kind::ActionUpdate && decision.action.is_none() {
                // Stays below the threshold: the sender is asked which action.
            } else if kind == Kind::AttendanceResponse && decision.attendance.is_none() {
                // Stays below the threshold: the sender is told the answers we read.
            } else if kind == Kind::ApprovalReply && !sender.approver {
                // The sender check above failed in substance: not an approver.
            } else if sender.known {
                confidence.floor(threshold);
            }
        }

        // A forged or failed-authentication sender is as good as an unknown one.
        let authentication_failed = self.authentication_failed();
        if authentication_failed {
            confidence.cap(0.4, "the sender failed authentication");
        }
        let mut confidence_value = confidence.value;

        let replying_to_ours = reply.is_some();
        let disposition = if kind == Kind::Bounce {
            if confidence_value >= threshold {
                Disposition::Filed
            } else {
                Disposition::Triage
            }
        } else if !sender.known || authentication_failed {
            if sender.board_itself {
                self.reason("from the board's own address: minuted does not file its own mail");
            } else if !authentication_failed {
                self.reason("the sender is not known to the registry: quarantined");
            } else {
                self.reason("the sender failed authentication: quarantined");
            }
            if kind == Kind::AutoReply
                && replying_to_ours
                && !authentication_failed
                && confidence_value >= threshold
            {
                Disposition::Filed
            } else {
                Disposition::Quarantined
            }
        } else if kind.has_effect() && machine_signs {
            self.reason(format!(
                "signs of an automatic message: never filed as {} without a person",
                kind.describe()
            ));
            confidence_value = confidence_value.min(threshold - 0.01).max(0.0);
            Disposition::Triage
        } else if confidence_value >= threshold {
            Disposition::Filed
        } else {
            Disposition::Triage
        };
        if disposition == Disposition::Triage && confidence_value < threshold {
            if let Some(why) = confidence.limited_by() {
                self.reason(format!(
                    "below the threshold of {threshold:.2}: limited by {why} ({:.2})",
                    round(confidence.value)
                ));
            }
        }
        let confidence = confidence_value;

        decision.confidence = round(confidence);
        decision.disposition = disposition;
        decision.reasons = self.reasons;
        decision
    }
}

/// A display name as a person writes it: `Vigurs, Kilvinder (HMPPS)` becomes
/// `Kilvinder Vigurs`.
pub fn natural_name(display: &str) -> String {
    text::name_and_address(display).0.unwrap_or_default()
}

/// At most `max` characters of `text`, cut on a character boundary.
pub fn truncate_text(text: &str, max: usize) -> String {
    text::truncate(text, max).to_owned()
}

/// At most `max` characters of `text` on one line, cut after a whole word with "…" when
/// it is longer: what a summary line shows of a longer text.
pub fn shorten(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let keep = max.saturating_sub(1);
    let cut: String = line.chars().take(keep).collect();
    let at_boundary = line.chars().nth(keep).is_some_and(char::is_whitespace);
    let whole = match cut.rfind(' ') {
        _ if at_boundary => cut.as_str(),
        Some(space) if space > 0 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", whole.trim_end_matches([',', ';', ':', '-', '.']))
}

fn round(value: f32) -> f32 {
    if !value.is_finite() {
        return 0.0;
    }
    (value.clamp(0.0, 1.0) * 100.0).round() / 100.0
}
