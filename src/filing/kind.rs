//! What kind of message it is: machines first (bounces, automatic replies), then a
//! calendar response, then the family that mail of ours fixes for a reply to it, and only
//! then the tally of wording, tags and attachments (spam, thread, content, updates).
//!
//! It does not choose the meeting, item or action.

use super::*;

pub(super) struct KindChoice {
    pub(super) kind: Kind,
    pub(super) confidence: f32,
    /// A bounce or auto-reply signal was seen, even if it did not decide the kind.
    pub(super) machine_signs: bool,
}

impl<'a> Decider<'a> {
    // -- machines ----------------------------------------------------------------------

    pub(super) fn bounce_evidence(&mut self, reply: &Option<Replying>) -> Tally<()> {
        let mut tally = Tally::new();
        if let Some(dsn) = &self.message.dsn {
            let failures: Vec<String> = dsn
                .recipients
                .iter()
                .take(5)
                .map(|r| {
                    format!(
                        "{} {}{}",
                        r.action.as_deref().unwrap_or("undelivered"),
                        r.address.as_deref().unwrap_or("an unnamed recipient"),
                        r.status
                            .as_deref()
                            .map_or_else(String::new, |s| format!(" ({s})"))
                    )
                })
                .collect();
            let detail = if failures.is_empty() {
                String::new()
            } else {
                format!(": {}", failures.join(", "))
            };
            tally.add((), 0.99, format!("a delivery-status notification{detail}"));
        }
        if let Some(failed) = self.message.headers.x_failed_recipients.as_deref() {
            tally.add((), 0.85, format!("X-Failed-Recipients: {}", failed.trim()));
        }
        let from = self
            .message
            .from
            .as_deref()
            .map(bare_address)
            .unwrap_or_default();
        if signals::is_daemon_address(&from) {
            tally.add((), 0.6, format!("from the mail system ({from})"));
        }
        let subject = self.message.subject.as_deref().unwrap_or_default();
        if let Some(phrase) = signals::bounce_subject(subject) {
            tally.add((), 0.7, format!("the subject says \"{phrase}\""));
        }
        // The bounce address only confirms a bounce: out-of-office replies go there too.
        if let Some(r) = reply.as_ref().filter(|_| !tally.is_empty()) {
            if r.via == "bounce address" || r.via == "bounced Message-ID" {
                tally.add((), 0.95, format!("matched to outbox row by {}", r.via));
            }
        }
        tally
    }

    pub(super) fn automatic_evidence(&mut self, reply: &Option<Replying>) -> Tally<Kind> {
        let headers = &self.message.headers;
        let mut tally = Tally::new();
        if let Some(value) = headers.auto_submitted.as_deref() {
            let v = value.trim().to_lowercase();
            if !v.is_empty() && v != "no" {
                let w = if v.starts_with("auto-replied") {
                    0.95
                } else {
                    0.9
                };
                tally.add(
                    Kind::AutoReply,
                    w,
                    format!("Auto-Submitted: {}", value.trim()),
                );
            }
        }
        for (name, value) in [
            ("X-Autoreply", &headers.x_autoreply),
            ("X-Autorespond", &headers.x_autorespond),
        ] {
            if let Some(v) = value.as_deref() {
                if !v.trim().eq_ignore_ascii_case("no") {
                    tally.add(Kind::AutoReply, 0.95, format!("{name}: {}", v.trim()));
                }
            }
        }
        let listed = headers.list_id.is_some() || headers.list_unsubscribe.is_some();
        if let Some(p) = headers.precedence.as_deref() {
            let v = p.trim().to_lowercase();
            match v.as_str() {
                "auto_reply" | "auto-reply" => {
                    tally.add(Kind::AutoReply, 0.95, format!("Precedence: {}", p.trim()));
                }
                "bulk" | "junk" | "list" if listed => {
                    tally.add(
                        Kind::Unrelated,
                        0.8,
                        format!("Precedence: {} from a mailing list", p.trim()),
                    );
                }
                "bulk" | "junk" | "list" => {
                    tally.add(Kind::AutoReply, 0.8, format!("Precedence: {}", p.trim()));
                }
                _ => {}
            }
        }
        if listed {
            let list = headers.list_id.as_deref().unwrap_or("List-Unsubscribe");
            tally.add(
                Kind::Unrelated,
                0.6,
                format!("mailing-list mail ({})", list.trim()),
            );
        }
        let subject = self.message.subject.as_deref().unwrap_or_default();
        if let Some(phrase) = signals::out_of_office_subject(subject) {
            tally.add(
                Kind::AutoReply,
                0.9,
                format!("the subject says \"{phrase}\""),
            );
        }
        if let Some(phrase) = signals::out_of_office_body(&self.texts.own) {
            tally.add(Kind::AutoReply, 0.6, format!("the text says \"{phrase}\""));
        }
        if let Some(r) = reply {
            if r.via == "bounce address" && self.message.dsn.is_none() {
                tally.add(
                    Kind::AutoReply,
                    0.7,
                    "only automatic mail is sent to a bounce address",
                );
            }
        }
        tally
    }

    // -- the kind -----------------------------------------------------------------------

    pub(super) fn kind(
        &mut self,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
        bounce: &Tally<()>,
        automatic: &Tally<Kind>,
    ) -> KindChoice {
        let bounce_score = bounce.score(&());
        let auto_score = automatic.score(&Kind::AutoReply);
        if bounce_score >= 0.5 {
            for (_, _, r) in &bounce.entries {
                self.reason(r.clone());
            }
            return KindChoice {
                kind: Kind::Bounce,
                confidence: bounce_score,
                machine_signs: true,
            };
        }
        if auto_score >= 0.5 {
            for (k, _, r) in &automatic.entries {
                if *k == Kind::AutoReply {
                    self.reason(r.clone());
                }
            }
            return KindChoice {
                kind: Kind::AutoReply,
                confidence: auto_score,
                machine_signs: true,
            };
        }
        let machine_signs = bounce_score > 0.0 || auto_score > 0.0;

        // A correction answers our acknowledgement: what it says about updates is about
        // the message it corrects, not a new update.
        if let Some(r) = reply {
            if r.sent.kind == SentKind::Acknowledgement
                && signals::correction(&self.texts.own).is_some()
            {
                self.reason("a reply to our acknowledgement asking to re-file the message");
                return KindChoice {
                    kind: Kind::Unrelated,
                    confidence: 0.95,
                    machine_signs,
                };
            }
        }

        // A calendar reply says what it is in its own structure.
        if let Some(attendance) = &self.attendance {
            self.reason(format!("a calendar response: {}", attendance.describe()));
            return KindChoice {
                kind: Kind::AttendanceResponse,
                confidence: 0.95,
                machine_signs: false,
            };
        }

        // Cryptographic and threading evidence decides the family before any words do.
        if let Some(r) = reply {
            if let Some(choice) = self.reply_family(r, sender, machine_signs) {
                return choice;
            }
        }

        let mut tally: Tally<Kind> = Tally::new();
        for (k, w, r) in &automatic.entries {
            if *k == Kind::Unrelated {
                tally.add(*k, *w, r.clone());
            }
        }
        self.spam_evidence(&mut tally, sender);
        self.thread_evidence(&mut tally, sender, reply);
        self.content_evidence(&mut tally, sender, reply);

        let resolved = tally.resolve();
        let Some(resolved) = resolved else {
            return if sender.known {
                self.reason(
                    "nothing names a kind; from a known organisation, most likely a written update",
                );
                KindChoice {
                    kind: Kind::WrittenUpdate,
                    confidence: 0.45,
                    machine_signs,
                }
            } else {
                self.reason("nothing names a kind, and the sender is unknown");
                KindChoice {
                    kind: Kind::Unrelated,
                    confidence: 0.6,
                    machine_signs,
                }
            };
        };
        for r in &resolved.reasons {
            self.reason(r.clone());
        }
        if let Some((other, _, why)) = &resolved.runner_up {
            self.reason(format!("conflicting: {why} suggests {}", other.describe()));
        }
        if machine_signs {
            let machine = automatic
                .entries
                .iter()
                .map(|(_, _, r)| r)
                .chain(bounce.entries.iter().map(|(_, _, r)| r));
            for r in machine {
                self.reason(format!("conflicting: {r}"));
            }
        }
        KindChoice {
            kind: resolved.winner,
            confidence: resolved.confidence,
            machine_signs,
        }
    }

    /// The kind a reply to mail we sent must be, from what that mail asked for: our
    /// reply token or Message-ID fixes it, and no wording can change it. `None` for mail
    /// that asks for nothing in particular (circulation, an acknowledgement that is not
    /// being corrected), which the words then decide.
    pub(super) fn reply_family(
        &mut self,
        r: &Replying,
        sender: &Sender<'a>,
        machine_signs: bool,
    ) -> Option<KindChoice> {
        let confidence = if r.via == "reply token" { 0.99 } else { 0.95 };
        let what = r.sent.kind.describe();
        let kind = match r.sent.kind {
            SentKind::ApprovalRequest => Kind::ApprovalReply,
            // Only the approver's confirmation asks for a reply (UNDO); a reply to a notice
            // or a refusal is read by its words, so that it cannot start a round of
            // refusals between the approval step and an automatic responder.
            SentKind::ApprovalResult if r.sent.undo_offered => Kind::ApprovalReply,
            SentKind::ApprovalResult => return None,
            SentKind::ActionPack | SentKind::ActionChaser => Kind::ActionUpdate,
            SentKind::UpdateRequest | SentKind::UpdateChaser => {
                if self.answers_for_an_action(r, sender) {
                    Kind::ActionUpdate
                } else {
                    Kind::WrittenUpdate
                }
            }
            SentKind::Invitation => Kind::AttendanceResponse,
            SentKind::Acknowledgement
            | SentKind::Circulation
            | SentKind::MeetingPack
            | SentKind::ReplyHelp
            | SentKind::Other => return None,
        };
        self.reason(format!(
            "a reply to our {what} ({} {}): {}",
            match r.via {
                "reply token" => "by its reply token,",
                _ => "by its thread,",
            },
            "which decides what it answers",
            kind.describe()
        ));
        self.family_decided = true;
        Some(KindChoice {
            kind,
            confidence,
            machine_signs,
        })
    }

    /// Whether a reply to an update request or chaser reports on one action rather than
    /// sending a written update: it opens with `Done` or `Update:` and names an action,
    /// or the mail it answers listed actions (one makes it that action's update; with
    /// several the sender is asked which).
    pub(super) fn answers_for_an_action(&mut self, r: &Replying, sender: &Sender<'a>) -> bool {
        let slug = self.registry.board_slug.clone();
        let Some(word) = signals::action_progress(&self.texts.own) else {
            return false;
        };
        if let Some(reference) = signals::actions(&self.texts.own, &slug).first() {
            self.reason(format!(
                "the reply opens with \"{word}\" and names {reference}"
            ));
            return true;
        }
        let listed = self.listed_open_actions(r, sender);
        match listed.len() {
            0 => false,
            1 => {
                self.reason(format!(
                    "the reply opens with \"{word}\" and our mail listed one open action, {}",
                    listed[0]
                ));
                true
            }
            n => {
                self.reason(format!(
                    "the reply opens with \"{word}\" but our mail listed {n} open actions ({}): it must say which",
                    listed.join(", ")
                ));
                true
            }
        }
    }

    pub(super) fn spam_evidence(&mut self, tally: &mut Tally<Kind>, sender: &Sender<'a>) {
        let headers = &self.message.headers;
        let flagged = headers
            .x_spam_flag
            .as_deref()
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes"))
            || headers
                .x_spam_status
                .as_deref()
                .is_some_and(|v| v.trim().to_lowercase().starts_with("yes"));
        if flagged {
            tally.add(Kind::Unrelated, 0.9, "the mail server marked it as spam");
        }
        let text = format!(
            "{}\n{}",
            self.texts.subject,
            text::truncate(&self.texts.own, 4000)
        );
        let phrases = signals::spam_phrases(&text);
        if !phrases.is_empty() {
            let w = match phrases.len() {
                1 => 0.35,
                2 => 0.6,
                _ => 0.8,
            };
            tally.add(
                Kind::Unrelated,
                w,
                format!(
                    "spam wording: {}",
                    phrases
                        .iter()
                        .map(|p| format!("\"{p}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        let risky: Vec<&str> = self
            .texts
            .attachment_names
            .iter()
            .map(String::as_str)
            .filter(|n| {
                let lower = n.to_lowercase();
                [
                    ".exe", ".scr", ".js", ".vbs", ".bat", ".cmd", ".jar", ".iso", ".img", ".html",
                    ".htm", ".lnk",
                ]
                .iter()
                .any(|ext| lower.ends_with(ext))
            })
            .collect();
        if let Some(name) = risky.first() {
            tally.add(
                Kind::Unrelated,
                0.6,
                format!("an executable or web-page attachment ({name})"),
            );
        }
        if sender.board_itself {
            tally.add(Kind::Unrelated, 0.9, "from the board's own address");
        }
    }

    pub(super) fn thread_evidence(
        &mut self,
        tally: &mut Tally<Kind>,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) {
        let Some(r) = reply else {
            return;
        };
        let strength = if r.via == "reply token" { 1.0 } else { 0.96 };
        let what = format!("a reply to our {}", r.sent.kind.describe());
        match r.sent.kind {
            SentKind::ApprovalRequest => {
                tally.add(Kind::ApprovalReply, 0.97 * strength, what);
            }
            SentKind::ActionPack | SentKind::ActionChaser => {
                tally.add(Kind::ActionUpdate, 0.93 * strength, what);
            }
            SentKind::UpdateRequest | SentKind::UpdateChaser => {
                tally.add(Kind::WrittenUpdate, 0.9 * strength, what);
            }
            SentKind::Acknowledgement => {
                tally.add(Kind::WrittenUpdate, 0.6 * strength, what);
            }
            // A reply to a notice asks for nothing: its words decide.
            SentKind::ApprovalResult => {}
            SentKind::Invitation => {
                tally.add(Kind::AttendanceResponse, 0.9 * strength, what);
            }
            SentKind::Circulation
            | SentKind::MeetingPack
            | SentKind::ReplyHelp
            | SentKind::Other => {
                if sender.known {
                    tally.add(Kind::WrittenUpdate, 0.35 * strength, what);
                }
            }
        }
    }

    pub(super) fn content_evidence(
        &mut self,
        tally: &mut Tally<Kind>,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) {
        let slug = self.registry.board_slug.clone();
        let subjects: Vec<String> = self.texts.subjects().map(str::to_owned).collect();
        let content = text::truncate(&self.texts.content(), text::MAX_BODY_CHARS).to_owned();
        let opening = text::truncate(&content, 600).to_lowercase();

        // Draft minutes: only the secretariat sends them.
        let mut minutes: Vec<(f32, String)> = Vec::new();
        // A reply's subject echoes what it answers: "Re: draft minutes" is a comment or
        // an approval, rarely a new draft.
        let echo = if self.texts.subject_is_reply {
            0.3
        } else {
            1.0
        };
        for s in &subjects {
            let lower = s.to_lowercase();
            if lower.contains("minutes") && lower.contains("draft") {
                minutes.push((
                    0.85 * echo,
                    format!("the subject \"{s}\" says draft minutes"),
                ));
            } else if lower.contains("minutes") {
                minutes.push((0.55 * echo, format!("the subject \"{s}\" mentions minutes")));
            }
        }
        for name in &self.texts.attachment_names {
            let lower = name.to_lowercase();
            if lower.contains("minutes") && lower.contains("draft") {
                minutes.push((0.85, format!("attachment \"{name}\" is draft minutes")));
            } else if lower.contains("minutes") {
                minutes.push((0.6, format!("attachment \"{name}\" is minutes")));
            }
        }
        let structure: Vec<&str> = std::iter::once(content.as_str())
            .chain(self.texts.attachment_lines.iter().map(String::as_str))
            .collect();
        let reads_as_minutes = structure
            .iter()
            .any(|t| text::lists_attendance(text::truncate(t, 3000)));
        if reads_as_minutes {
            minutes.push((
                0.5,
                "the text lists attendees and apologies, as minutes do".to_owned(),
            ));
        }
        let minutes_factor = if !sender.secretariat {
            if !minutes.is_empty() {
                self.reason("minutes come from the secretariat, and this sender is not");
            }
            0.35
        } else {
            1.0
        };
        for (w, r) in minutes {
            tally.add(Kind::DraftMinutes, w * minutes_factor, r);
        }

        // Approval replies: the word at the top, and a subject about approval.
        if let Some(word) = signals::approval_word(&self.texts.own) {
            let about_approval = subjects.iter().any(|s| {
                let l = s.to_lowercase();
                l.contains("approv") || l.contains("draft minutes")
            });
            if about_approval {
                let said = if word == ApprovalWord::Approve {
                    "approves"
                } else {
                    "rejects"
                };
                tally.add(
                    Kind::ApprovalReply,
                    match (sender.approver, self.texts.subject_is_reply) {
                        (true, true) => 0.8,
                        (true, false) => 0.6,
                        (false, _) => 0.4,
                    },
                    format!("the reply {said}, and the subject is about approval"),
                );
            }
        }

        // Action updates: references and progress words.
        for s in &subjects {
            for reference in signals::actions(s, &slug) {
                tally.add(
                    Kind::ActionUpdate,
                    0.85,
                    format!("the subject names action {reference}"),
                );
            }
        }
        for name in &self.texts.attachment_names {
            for reference in signals::actions(name, &slug) {
                tally.add(
                    Kind::ActionUpdate,
                    0.7,
                    format!("attachment \"{name}\" names action {reference}"),
                );
            }
        }
        let body_actions = signals::actions(&content, &slug);
        if let Some(reference) = body_actions.first() {
            tally.add(
                Kind::ActionUpdate,
                0.55,
                format!("the text names action {reference}"),
            );
        }
        if tally.score(&Kind::ActionUpdate) > 0.0 {
            if let Some(word) = signals::action_progress(&self.texts.own) {
                tally.add(
                    Kind::ActionUpdate,
                    0.3,
                    format!("the text opens with \"{word}\""),
                );
            }
        }
        // "Your LCJB actions", "action log"; not "Action required", which is spam's.
        if subjects.iter().any(|s| {
            let lower = s.to_lowercase();
            text::words(s).iter().any(|w| w == "actions")
                || [
                    "action log",
                    "action update",
                    "action pack",
                    "action tracker",
                ]
                .iter()
                .any(|p| lower.contains(p))
        }) {
            tally.add(Kind::ActionUpdate, 0.5, "the subject is about actions");
        }
        // Progress at the top of a reply quoting an action: the answer to an action pack.
        if let Some(word) = signals::action_progress(&self.texts.own) {
            let quoted = signals::actions(text::truncate(&self.texts.quoted, 4000), &slug);
            if let Some(reference) = quoted.first() {
                tally.add(
                    Kind::ActionUpdate,
                    0.6,
                    format!("the reply opens with \"{word}\" above a message naming {reference}"),
                );
            }
        }

        // Written updates. An unknown sender's or a mailing list's "update" is weak
        // evidence: spam and newsletters say it too.
        let listed = self.message.headers.list_id.is_some()
            || self.message.headers.list_unsubscribe.is_some();
        let mut factor = if (!sender.known && sender.named_like.is_none()) || listed {
            0.5
        } else {
            1.0
        };
        // In a reply to our action pack, "progress" or a document attached is the
        // action's progress: an update's wording says little against the thread.
        if reply
            .as_ref()
            .is_some_and(|r| matches!(r.sent.kind, SentKind::ActionPack | SentKind::ActionChaser))
        {
            factor *= 0.5;
        }
        if sender.forwarded_by_secretariat {
            tally.add(
                Kind::WrittenUpdate,
                0.55,
                "the secretariat forwards an agency's message to the board",
            );
        }
        self.update_evidence(
            tally,
            &subjects,
            &content,
            &opening,
            factor,
            reads_as_minutes,
        );
    }

    pub(super) fn update_evidence(
        &mut self,
        tally: &mut Tally<Kind>,
        subjects: &[String],
        content: &str,
        opening: &str,
        factor: f32,
        reads_as_minutes: bool,
    ) {
        let slug = self.registry.board_slug.clone();
        const UPDATE_WORDS: [&str; 11] = [
            "update",
            "report",
            "briefing",
            "paper",
            "submission",
            "progress",
            "return",
            "highlight",
            "position statement",
            "figures",
            "note for",
        ];
        for s in subjects {
            let lower = s.to_lowercase();
            // "LCJB-A17 - progress" is about the action, not a written update; "Draft
            // minutes - LCJB 20 September" is about minutes, whatever meeting it tags.
            let about_action = !signals::actions(s, &slug).is_empty();
            if lower.contains("minutes") {
                continue;
            }
            if about_action {
            } else if lower.contains("written update") || lower.contains("written submission") {
                tally.add(
                    Kind::WrittenUpdate,
                    0.8 * factor,
                    format!("the subject \"{s}\" says written update"),
                );
            } else if let Some(word) = UPDATE_WORDS.iter().find(|w| lower.contains(*w)) {
                tally.add(
                    Kind::WrittenUpdate,
                    0.7 * factor,
                    format!("the subject \"{s}\" says {word}"),
                );
            }
            // A reply's subject echoes the dates and the tag of what it answers.
            let echo = if self.texts.subject_is_reply {
                0.6
            } else {
                1.0
            };
            let dates = signals::dates(s, &slug);
            if let Some(meeting) = dates
                .iter()
                .filter(|d| !d.tagged)
                .find_map(|d| self.upcoming_meeting_on(d))
            {
                tally.add(
                    Kind::WrittenUpdate,
                    0.45 * factor * echo,
                    format!("the subject \"{s}\" names the date of {meeting}"),
                );
            }
            if dates.iter().any(|d| d.tagged) {
                tally.add(
                    Kind::WrittenUpdate,
                    0.5 * factor * echo,
                    format!("the subject \"{s}\" carries the board's meeting tag"),
                );
            }
            if !signals::items(s).is_empty() {
                tally.add(
                    Kind::WrittenUpdate,
                    0.65 * factor,
                    format!("the subject \"{s}\" names an agenda item"),
                );
            } else if let Some((meeting, item)) = self.upcoming_item_titled(s) {
                tally.add(
                    Kind::WrittenUpdate,
                    0.5 * factor,
                    format!(
                        "the subject \"{s}\" matches the title of item {} of {}",
                        item.number, meeting.reference
                    ),
                );
            }
        }
        for name in &self.texts.attachment_names {
            let lower = name.to_lowercase();
            if lower.contains("minutes") {
                continue;
            }
            if lower.contains("written update") || lower.contains("written submission") {
                tally.add(
                    Kind::WrittenUpdate,
                    0.8 * factor,
                    format!("attachment \"{name}\" says written update"),
                );
            } else if let Some(word) = UPDATE_WORDS.iter().find(|w| lower.contains(*w)) {
                tally.add(
                    Kind::WrittenUpdate,
                    0.65 * factor,
                    format!("attachment \"{name}\" says {word}"),
                );
            } else if [".docx", ".doc", ".pdf", ".odt", ".rtf", ".pptx", ".xlsx"]
                .iter()
                .any(|ext| lower.ends_with(ext))
            {
                tally.add(
                    Kind::WrittenUpdate,
                    0.45 * factor,
                    format!("a document is attached (\"{name}\")"),
                );
            }
        }
        for line in &self.texts.attachment_lines {
            let lower = text::truncate(line, 400).to_lowercase();
            if lower.contains("written update") || lower.contains("update") {
                tally.add(
                    Kind::WrittenUpdate,
                    0.55 * factor,
                    "the attachment opens as an update",
                );
                break;
            }
        }
        const BODY_PHRASES: [&str; 9] = [
            "written update",
            "our update",
            "an update",
            "update on",
            "update for",
            "update from",
            "note for the board",
            "paper for the",
            "for the pack",
        ];
        if let Some(phrase) = BODY_PHRASES.iter().find(|p| opening.contains(*p)) {
            tally.add(
                Kind::WrittenUpdate,
                0.45 * factor,
                format!("the text says \"{phrase}\""),
            );
        } else if opening.contains("update") || opening.contains("progress") {
            tally.add(
                Kind::WrittenUpdate,
                0.3 * factor,
                "the text talks of an update",
            );
        } else if opening.contains("attached")
            || opening.contains("enclosed")
            || opening.contains("please find below")
        {
            tally.add(
                Kind::WrittenUpdate,
                0.3 * factor,
                "the text points to an attachment",
            );
        }
        // Minutes name every item of their meeting: that says nothing of an update.
        if !reads_as_minutes && !signals::items(text::truncate(content, 2000)).is_empty() {
            tally.add(
                Kind::WrittenUpdate,
                0.35 * factor,
                "the text names an agenda item",
            );
        }
    }
}
