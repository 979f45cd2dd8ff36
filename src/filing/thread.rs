//! Mail we sent that a message answers or bounces: by our reply token, our Message-ID
//! in its thread, or a VERP bounce address; the undelivered recipient of a bounce, and a
//! `WRONG ITEM` correction to our acknowledgement.
//!
//! It does not weigh wording.

use super::*;

pub(super) fn describe_sent(sent: &SentMessage) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &sent.meeting {
        parts.push(m.clone());
    }
    if let Some(a) = &sent.action {
        parts.push(a.clone());
    }
    if let Some(to) = sent.member.as_ref().or(sent.recipient.as_ref()) {
        parts.push(format!("to {to}"));
    }
    if let Some(id) = sent.outbox_id {
        parts.push(format!("outbox #{id}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

impl<'a> Decider<'a> {
    // -- mail we sent -------------------------------------------------------------------

    pub(super) fn replying(&mut self) -> Option<Replying> {
        let found = self.replying_to_anything()?;
        if found.sent.kind != SentKind::ReplyHelp {
            return Some(found);
        }
        // A reply to our answer is about what the answer was about: the mail of ours
        // further up the thread decides what it is.
        let underlying = self
            .message
            .thread_ids()
            .into_iter()
            .find_map(|id| {
                self.sent
                    .message_ids
                    .get(&id)
                    .filter(|s| s.kind != SentKind::ReplyHelp)
            })
            .cloned();
        match underlying {
            Some(sent) => {
                self.reason(format!(
                    "it answers our answer to a reply; further up the thread is our {}{}",
                    sent.kind.describe(),
                    describe_sent(&sent)
                ));
                Some(Replying {
                    sent,
                    via: "thread",
                })
            }
            None => Some(found),
        }
    }

    pub(super) fn replying_to_anything(&mut self) -> Option<Replying> {
        let sent = self.sent;
        let tokens = self.message.reply_tokens(&self.registry.board_address);
        for token in &tokens {
            if let Some(s) = by_token(&sent.bounce_tokens, token) {
                self.reason(format!(
                    "sent to the bounce address of our {}{}",
                    s.kind.describe(),
                    describe_sent(s)
                ));
                return Some(Replying {
                    sent: s.clone(),
                    via: "bounce address",
                });
            }
            if let Some(s) = by_token(&sent.reply_tokens, token) {
                self.reason(format!(
                    "sent to the reply token of our {}{}",
                    s.kind.describe(),
                    describe_sent(s)
                ));
                return Some(Replying {
                    sent: s.clone(),
                    via: "reply token",
                });
            }
        }
        for id in self.message.thread_ids() {
            if let Some(s) = sent.message_ids.get(&id) {
                self.reason(format!(
                    "replies to our {}{} (Message-ID {id})",
                    s.kind.describe(),
                    describe_sent(s)
                ));
                return Some(Replying {
                    sent: s.clone(),
                    via: "thread",
                });
            }
        }
        if let Some(id) = self
            .message
            .dsn
            .as_ref()
            .and_then(|d| d.original_message_id.as_deref())
        {
            let id = id.trim().trim_start_matches('<').trim_end_matches('>');
            if let Some(s) = sent.message_ids.get(id) {
                self.reason(format!(
                    "the report is about our {}{}",
                    s.kind.describe(),
                    describe_sent(s)
                ));
                return Some(Replying {
                    sent: s.clone(),
                    via: "bounced Message-ID",
                });
            }
        }
        // A bounce address whose tag did not match its row (the snapshot left it out) is
        // not ours: a forged bounce names no outbox row.
        if let Some(token) = tokens.first() {
            self.reason(format!(
                "addressed to reply token {token}, which matches nothing we sent"
            ));
        }
        None
    }

    // -- bounces and corrections --------------------------------------------------------

    pub(super) fn bounced_recipient(
        &mut self,
        decision: &mut FilingDecision,
        reply: &Option<Replying>,
    ) {
        let registry = self.registry;
        let recipient = reply
            .as_ref()
            .and_then(|r| r.sent.recipient.clone())
            .or_else(|| {
                self.message
                    .dsn
                    .as_ref()
                    .and_then(|d| d.recipients.iter().find_map(|r| r.address.clone()))
            })
            .or_else(|| {
                self.message
                    .headers
                    .x_failed_recipients
                    .as_deref()
                    .and_then(|f| f.split(',').next())
                    .map(str::to_owned)
            })
            .map(|a| bare_address(a.rsplit(';').next().unwrap_or_default()));
        let member = reply
            .as_ref()
            .and_then(|r| r.sent.member.as_deref())
            .and_then(|name| registry.members.iter().find(|m| m.name == name))
            .or_else(|| {
                recipient
                    .as_deref()
                    .and_then(|a| registry.member_by_address(a))
            });
        decision.member = member.map(|m| m.name.clone());
        decision.organisation = member.and_then(|m| m.organisation.clone()).or_else(|| {
            recipient
                .as_deref()
                .and_then(|a| a.rsplit('@').next())
                .and_then(|d| registry.organisation_by_domain(d))
                .map(|(o, _)| o.short.clone())
        });
        match (&recipient, member) {
            (Some(address), Some(m)) => {
                self.reason(format!("the undelivered address {address} is {}'s", m.name))
            }
            (Some(address), None) => {
                self.reason(format!("the undelivered address {address} is no member's"))
            }
            _ => {}
        }
    }

    pub(super) fn correction(
        &mut self,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) -> Option<Correction> {
        let r = reply.as_ref()?;
        if r.sent.kind != SentKind::Acknowledgement {
            return None;
        }
        let item = signals::correction(&self.texts.own)?;
        let message = r.sent.about_message?;
        let same_person = match (sender.member, r.sent.member.as_deref()) {
            (Some(m), Some(name)) => m.name == name,
            _ => {
                let from = self.message.from.as_deref().map(bare_address);
                from.is_some() && from == r.sent.recipient.as_deref().map(bare_address)
            }
        };
        if !same_person {
            self.reason("asks to re-file a message, but is not from the person we acknowledged");
            return None;
        }
        self.reason(format!(
            "asks to re-file message {message} against item {item}"
        ));
        Some(Correction { message, item })
    }
}
