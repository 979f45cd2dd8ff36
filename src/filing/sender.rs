//! Who sent a message, as far as the registry knows: the member or organisation of the
//! From address (or the Sender header), a display name that matches a member whose
//! address this is not, the original sender of a message the secretariat forwards, a
//! failed DMARC, and whether a reply came from whom our mail went to.
//!
//! It does not decide the kind or the meeting.

use super::*;

/// Who the message is from, as far as the registry knows.
#[derive(Debug, Clone, Default)]
pub(super) struct Sender<'r> {
    pub(super) member: Option<&'r Member>,
    pub(super) organisation: Option<&'r str>,
    /// How sure the identification is.
    pub(super) confidence: f32,
    /// Whether the registry knows the sender (member or organisation domain).
    pub(super) known: bool,
    /// A member of the secretariat wrote (or forwarded) it.
    pub(super) secretariat: bool,
    /// A chair or secretariat member wrote it.
    pub(super) approver: bool,
    /// Sent from the board's own address.
    pub(super) board_itself: bool,
    /// A display name that matches a member whose address this is not.
    pub(super) named_like: Option<&'r Member>,
    /// The secretariat forwarded a known agency's message: the identity is the original
    /// sender's.
    pub(super) forwarded_by_secretariat: bool,
}

impl<'a> Decider<'a> {
    // -- the sender ---------------------------------------------------------------------

    pub(super) fn sender(&mut self) -> Sender<'a> {
        let registry = self.registry;
        let from = self
            .message
            .from
            .as_deref()
            .map(bare_address)
            .filter(|a| a.contains('@'));
        let header_sender = self
            .message
            .sender
            .as_deref()
            .map(bare_address)
            .filter(|a| a.contains('@'));
        let mut sender = match &from {
            Some(address) => self.identify(address, "sender"),
            None => {
                self.reason("the message has no From address");
                Sender::default()
            }
        };
        if !sender.known && !sender.board_itself {
            if let Some(address) = header_sender.filter(|s| Some(s) != from.as_ref()) {
                let on_behalf = self.identify(&address, "Sender header");
                if on_behalf.known {
                    sender = Sender {
                        confidence: on_behalf.confidence.min(0.75),
                        ..on_behalf
                    };
                }
            }
        }
        if !sender.known {
            if let Some(name) = self.message.from_name.as_deref() {
                if let Some(member) = registry.member_by_name(name) {
                    self.reason(format!(
                        "the display name matches member {}, but the address is not theirs",
                        member.name
                    ));
                    sender.named_like = Some(member);
                }
            }
        }
        self.forwarded_sender(sender)
    }

    /// The member or organisation an address belongs to.
    pub(super) fn identify(&mut self, address: &str, role: &str) -> Sender<'a> {
        let registry = self.registry;
        let board = registry.board_address.as_str();
        if crate::domain::address::is_same_or_tagged(address, board) {
            return Sender {
                board_itself: true,
                ..Sender::default()
            };
        }
        if let Some(member) = registry.member_by_address(address) {
            let organisation = member.organisation.as_deref();
            let org_text = organisation.map_or_else(String::new, |o| format!(" of {o}"));
            let mut confidence = 0.97;
            if member.active {
                self.reason(format!(
                    "{role} {address} is member {}{org_text}",
                    member.name
                ));
            } else {
                self.reason(format!(
                    "{role} {address} is {}{org_text}, no longer an active member",
                    member.name
                ));
                confidence = 0.8;
            }
            return Sender {
                member: Some(member),
                organisation,
                confidence,
                known: true,
                secretariat: member.is_secretariat(),
                approver: member.is_approver(),
                board_itself: false,
                named_like: None,
                forwarded_by_secretariat: false,
            };
        }
        let domain = address.rsplit('@').next().unwrap_or_default();
        if let Some((organisation, matched)) = registry.organisation_by_domain(domain) {
            let mut confidence = 0.88;
            if organisation.active {
                self.reason(format!(
                    "{role}'s domain {matched} belongs to {}",
                    organisation.short
                ));
            } else {
                self.reason(format!(
                    "{role}'s domain {matched} belongs to {}, no longer active",
                    organisation.short
                ));
                confidence = 0.6;
            }
            return Sender {
                organisation: Some(organisation.short.as_str()),
                confidence,
                known: true,
                ..Sender::default()
            };
        }
        self.reason(format!(
            "{role} {address} is not a member and its domain belongs to no organisation"
        ));
        // Not zero: the best guess for a quarantined message still says how sure the rest
        // of the decision is.
        Sender {
            confidence: 0.3,
            ..Sender::default()
        }
    }

    /// For a message the secretariat forwards, the original sender is who it is from.
    pub(super) fn forwarded_sender(&mut self, sender: Sender<'a>) -> Sender<'a> {
        let Some((from_name, from_address)) = self.texts.forwarded_from.clone() else {
            return sender;
        };
        let registry = self.registry;
        let original = from_address
            .as_deref()
            .and_then(|a| registry.member_by_address(a))
            .or_else(|| {
                from_name
                    .as_deref()
                    .and_then(|n| registry.member_by_name(n))
            });
        let original_organisation =
            original
                .and_then(|m| m.organisation.as_deref())
                .or_else(|| {
                    from_address
                        .as_deref()
                        .and_then(|a| a.rsplit('@').next())
                        .and_then(|d| registry.organisation_by_domain(d))
                        .map(|(o, _)| o.short.as_str())
                });
        let who = original
            .map(|m| m.name.clone())
            .or_else(|| from_address.clone())
            .or_else(|| from_name.clone())
            .unwrap_or_else(|| "an unnamed sender".to_owned());
        if sender.secretariat {
            match original_organisation {
                Some(organisation) => {
                    let secretary = sender.member.map_or("the secretariat", |m| m.name.as_str());
                    self.reason(format!(
                        "forwarded by the secretariat ({secretary}); the original sender is {who} of {organisation}"
                    ));
                    Sender {
                        member: original,
                        organisation: Some(organisation),
                        confidence: if original.is_some() { 0.92 } else { 0.85 },
                        known: true,
                        secretariat: original.is_some_and(Member::is_secretariat),
                        approver: original.is_some_and(Member::is_approver),
                        board_itself: false,
                        named_like: None,
                        forwarded_by_secretariat: true,
                    }
                }
                None => {
                    self.reason(format!(
                        "forwarded by the secretariat from {who}, whom the registry does not know"
                    ));
                    Sender {
                        organisation: None,
                        member: None,
                        confidence: 0.5,
                        ..sender
                    }
                }
            }
        } else {
            if original_organisation.is_some() && original_organisation != sender.organisation {
                self.reason(format!(
                    "forwards a message from {who} of {}",
                    original_organisation.unwrap_or_default()
                ));
            }
            sender
        }
    }

    pub(super) fn authentication_failed(&mut self) -> bool {
        let Some(results) = &self.message.headers.authentication_results else {
            return false;
        };
        let lower = results.to_lowercase();
        if lower.contains("dmarc=fail") {
            self.reason("Authentication-Results: dmarc=fail");
            return true;
        }
        false
    }

    /// Whether a reply comes from whom the mail it answers went to, or from someone of
    /// the same organisation (a colleague answering a request passed on to them), or the
    /// secretariat.
    pub(super) fn sender_matches_recipient(&mut self, r: &Replying, sender: &Sender<'a>) -> bool {
        let Some(recipient) = r.sent.recipient.as_deref().map(bare_address) else {
            return true;
        };
        let from = self.message.from.as_deref().map(bare_address);
        if from.as_deref() == Some(recipient.as_str()) {
            return true;
        }
        if sender.forwarded_by_secretariat {
            return true;
        }
        let recipient_organisation = self
            .registry
            .member_by_address(&recipient)
            .and_then(|m| m.organisation.as_deref())
            .or_else(|| {
                self.registry
                    .organisation_by_domain(recipient.rsplit('@').next().unwrap_or_default())
                    .map(|(o, _)| o.short.as_str())
            });
        if sender.secretariat
            || (recipient_organisation.is_some() && recipient_organisation == sender.organisation)
        {
            return true;
        }
        self.reason(format!(
            "our {} went to {recipient}, not to {}",
            r.sent.kind.describe(),
            from.as_deref().unwrap_or("this sender")
        ));
        false
    }
}
