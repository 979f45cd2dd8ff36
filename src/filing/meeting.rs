//! Which meeting a message is for: what our mail was about, tags and dates in the
//! subject, attachments and text, the next meeting whose papers window is open, and the
//! direction of time (updates look ahead, minutes look back).

use super::*;

impl<'a> Decider<'a> {
    // -- the meeting --------------------------------------------------------------------

    /// The meeting a message belongs to, with confidence. Updates look forward (a past
    /// meeting named in an update is history, not its destination); minutes look back.
    pub(super) fn meeting(
        &mut self,
        kind: Kind,
        _sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) -> Option<(&'a Meeting, f32)> {
        let registry = self.registry;
        let slug = registry.board_slug.clone();
        let mut tally: Tally<usize> = Tally::new();
        let index_of = |reference: &str| {
            registry
                .meetings
                .iter()
                .position(|m| m.reference.eq_ignore_ascii_case(reference))
        };

        if let Some(r) = reply {
            if let Some(reference) = r.sent.meeting.as_deref() {
                match index_of(reference) {
                    Some(i) => tally.add(
                        i,
                        0.95,
                        format!("our {} was about {reference}", r.sent.kind.describe()),
                    ),
                    None => self.reason(format!(
                        "our {} names {reference}, which the registry no longer holds",
                        r.sent.kind.describe()
                    )),
                }
            }
        }

        // A calendar answer names the event it answers; ours name their meeting.
        if let Some(uid) = self.attendance.as_ref().and_then(|a| a.uid.as_deref()) {
            if let Some(i) = crate::domain::icalendar::meeting_of_uid(uid).and_then(index_of) {
                tally.add(
                    i,
                    0.95,
                    format!(
                        "the calendar answer's UID names {}",
                        registry.meetings[i].reference
                    ),
                );
            }
        }

        let explicit_only = matches!(kind, Kind::AutoReply | Kind::Unrelated | Kind::Bounce);
        // (text, tagged weight, untagged weight, where)
        let mut places: Vec<(String, f32, f32, String)> = Vec::new();
        for (i, s) in self.texts.subjects().enumerate() {
            let w = if i == 0 { 1.0 } else { 0.95 };
            places.push((s.to_owned(), 0.95 * w, 0.7 * w, "the subject".to_owned()));
        }
        for name in &self.texts.attachment_names {
            places.push((name.clone(), 0.85, 0.65, format!("attachment \"{name}\"")));
        }
        if !explicit_only {
            let content = text::truncate(&self.texts.content(), 8000).to_owned();
            places.push((content, 0.8, 0.45, "the text".to_owned()));
            for lines in &self.texts.attachment_lines {
                places.push((
                    lines.clone(),
                    0.75,
                    0.45,
                    "the attachment's text".to_owned(),
                ));
            }
            places.push((
                text::truncate(&self.texts.quoted, 4000).to_owned(),
                0.5,
                0.2,
                "the quoted message".to_owned(),
            ));
        }
        for (text, tagged_weight, untagged_weight, place) in &places {
            for mention in signals::dates(text, &slug) {
                if explicit_only && !mention.tagged {
                    continue;
                }
                let matching = self.meeting_for_date(&mention);
                match matching {
                    Some(i) => {
                        let (w, how) = if mention.tagged {
                            (*tagged_weight, "the meeting tag")
                        } else {
                            (*untagged_weight, "the date")
                        };
                        tally.add(
                            i,
                            w,
                            format!(
                                "{place} names {} by {how} \"{}\"",
                                registry.meetings[i].reference,
                                mention.written.trim()
                            ),
                        );
                    }
                    None if mention.tagged => {
                        self.reason(format!(
                            "{place} carries the tag \"{}\", which is no meeting of the board",
                            mention.written.trim()
                        ));
                    }
                    None => {}
                }
            }
        }
        if !explicit_only
            && matches!(kind, Kind::WrittenUpdate | Kind::ActionUpdate)
            && signals::names_next_meeting(&format!(
                "{}\n{}",
                self.texts.subject,
                text::truncate(&self.texts.own, 2000)
            ))
        {
            if let Some(i) = self.next_meeting() {
                tally.add(
                    i,
                    0.5,
                    format!(
                        "the message speaks of the next meeting, {}",
                        registry.meetings[i].reference
                    ),
                );
            }
        }

        // Direction: updates are for meetings to come, minutes are of meetings held.
        let today = self.today;
        let mut adjusted: Tally<usize> = Tally::new();
        let mut notes: Vec<String> = Vec::new();
        let mut held_for_action: Vec<usize> = Vec::new();
        for (i, w, r) in tally.entries.drain(..) {
            let date = registry.meetings[i].date;
            // An action update is reported at the next meeting, whatever meeting raised
            // the action: a reply to an action pack points at that one.
            if kind == Kind::ActionUpdate && date < today {
                if !held_for_action.contains(&i) {
                    held_for_action.push(i);
                }
                continue;
            }
            let factor = match kind {
                Kind::WrittenUpdate | Kind::ActionUpdate if date < today => {
                    notes.push(format!(
                        "{} has already been held",
                        registry.meetings[i].reference
                    ));
                    0.35
                }
                Kind::DraftMinutes if date > today => {
                    notes.push(format!(
                        "{} has not been held yet",
                        registry.meetings[i].reference
                    ));
                    0.3
                }
                _ => 1.0,
            };
            adjusted.add(i, w * factor, r);
        }

        for i in held_for_action {
            self.reason(format!(
                "{} has already been held: an action update is reported at the next meeting",
                registry.meetings[i].reference
            ));
        }

        // The next meeting, whose papers window is open: the destination of an update
        // that names none, and confirmation for one that names it only faintly (a date
        // in the text).
        let window = self.next_meeting().map(|i| {
            let meeting = &registry.meetings[i];
            let (w, why) = match meeting.papers_deadline {
                Some(deadline) if today <= deadline => (0.8, format!("papers due {deadline}")),
                Some(deadline) => (0.72, format!("papers were due {deadline}")),
                None => (0.75, "no papers deadline set".to_owned()),
            };
            (i, w, why)
        });
        let updates = matches!(kind, Kind::WrittenUpdate | Kind::ActionUpdate);
        if let (true, false, Some((next, w, why))) = (updates, adjusted.is_empty(), &window) {
            if let Some(best) = adjusted.resolve() {
                if best.winner == *next && best.runner_up.is_none() && best.confidence < *w {
                    let reference = &registry.meetings[*next].reference;
                    adjusted.add(
                        *next,
                        *w,
                        format!("{reference} is the next meeting ({why})"),
                    );
                }
            }
        }
        if adjusted.is_empty() && !explicit_only {
            match kind {
                Kind::WrittenUpdate | Kind::ActionUpdate => {
                    if let Some((i, w, why)) = &window {
                        adjusted.add(
                            *i,
                            *w,
                            format!(
                                "nothing names a meeting: the next one is {} ({why})",
                                registry.meetings[*i].reference
                            ),
                        );
                    }
                }
                Kind::DraftMinutes => {
                    if let Some(i) = self.last_meeting_awaiting_minutes() {
                        adjusted.add(
                            i,
                            0.75,
                            format!(
                                "nothing names a meeting: the last one held is {}",
                                registry.meetings[i].reference
                            ),
                        );
                    }
                }
                _ => {}
            }
        }

        let resolved = adjusted.resolve()?;
        for r in &resolved.reasons {
            self.reason(r.clone());
        }
        let winner_ref = registry.meetings[resolved.winner].reference.clone();
        for note in notes {
            if note.starts_with(&winner_ref)
                || resolved
                    .runner_up
                    .as_ref()
                    .is_some_and(|(k, _, _)| note.starts_with(&registry.meetings[*k].reference))
            {
                self.reason(note);
            }
        }
        if let Some((other, _, why)) = &resolved.runner_up {
            self.reason(format!(
                "conflicting: {why} (filed against {winner_ref}, not {})",
                registry.meetings[*other].reference
            ));
        }
        Some((&registry.meetings[resolved.winner], resolved.confidence))
    }

    /// The meeting a written date means: an exact date, or a day and month taken in the
    /// year nearest to now.
    pub(super) fn meeting_for_date(&self, mention: &signals::DateMention) -> Option<usize> {
        self.registry
            .meetings
            .iter()
            .enumerate()
            .filter(|(_, m)| mention.matches(m.date))
            .min_by_key(|(_, m)| (m.date - self.today).num_days().abs())
            .map(|(i, _)| i)
    }

    /// The next meeting not yet held: its papers window is open.
    pub(super) fn next_meeting(&self) -> Option<usize> {
        self.registry
            .meetings
            .iter()
            .enumerate()
            .filter(|(_, m)| m.date >= self.today && m.status == MeetingStatus::Scheduled)
            .min_by_key(|(_, m)| m.date)
            .map(|(i, _)| i)
    }

    /// The most recent meeting held whose minutes are not yet approved.
    pub(super) fn last_meeting_awaiting_minutes(&self) -> Option<usize> {
        self.registry
            .meetings
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.date <= self.today
                    && matches!(
                        m.status,
                        MeetingStatus::Scheduled
                            | MeetingStatus::Held
                            | MeetingStatus::MinutesDraft
                    )
            })
            .max_by_key(|(_, m)| m.date)
            .map(|(i, _)| i)
    }

    /// The meeting still to come on the date `mention` names.
    pub(super) fn upcoming_meeting_on(&self, mention: &signals::DateMention) -> Option<String> {
        self.registry
            .meetings
            .iter()
            .find(|m| m.date >= self.today && mention.matches(m.date))
            .map(|m| m.reference.clone())
    }

    /// An item of a meeting still to come whose title the text matches, when exactly one
    /// does.
    pub(super) fn upcoming_item_titled(&self, text: &str) -> Option<(&'a Meeting, &'a Item)> {
        let words = text::words(text);
        let mut found = self
            .registry
            .meetings
            .iter()
            .filter(|m| m.date >= self.today)
            .flat_map(|m| m.items.iter().map(move |i| (m, i)))
            // Two telling words at least: "LCJB Actions" alone would match any
            // subject saying "actions".
            .filter(|(_, i)| {
                let title_words = significant_words(&i.title);
                title_words.len() >= 2 && title_matches(&i.title, &words)
            });
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }
}
