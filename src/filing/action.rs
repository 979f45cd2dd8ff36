//! Which action an action update is about: what our mail was about or listed, refs in
//! the subject, attachments and text, checked against the register and its owner.

use super::*;

impl<'a> Decider<'a> {
    // -- the action ---------------------------------------------------------------------

    pub(super) fn action(
        &mut self,
        kind: Kind,
        sender: &Sender<'a>,
        reply: &Option<Replying>,
    ) -> (Option<String>, f32) {
        let slug = self.registry.board_slug.clone();
        let mut tally: Tally<String> = Tally::new();
        if let Some(r) = reply {
            if let Some(reference) = r.sent.action.as_deref() {
                tally.add(
                    reference.to_uppercase(),
                    0.95,
                    format!("our {} was about {reference}", r.sent.kind.describe()),
                );
            } else if kind == Kind::ActionUpdate {
                let listed = self.listed_open_actions(r, sender);
                if let [reference] = listed.as_slice() {
                    tally.add(
                        reference.clone(),
                        0.95,
                        format!(
                            "our {} listed one open action, {reference}",
                            r.sent.kind.describe()
                        ),
                    );
                }
            }
        }
        let mut places = self.texts.places();
        // A reply to an action pack that names no action itself is about the one action
        // the quoted pack names; with several quoted it could be any of them.
        let quoted = text::truncate(&self.texts.quoted, 4000).to_owned();
        let quoted_refs = signals::actions(&quoted, &slug);
        let named_outside = places
            .iter()
            .any(|(text, _, _)| !signals::actions(text, &slug).is_empty());
        let quoted_weight = if !named_outside && tally.is_empty() && quoted_refs.len() == 1 {
            0.75
        } else {
            0.3
        };
        places.push((quoted, quoted_weight, "the quoted message".to_owned()));
        for (text, weight, place) in &places {
            for reference in signals::actions(text, &slug) {
                tally.add(
                    reference.clone(),
                    *weight,
                    format!("{place} names action {reference}"),
                );
            }
        }
        let Some(resolved) = tally.resolve() else {
            if kind == Kind::ActionUpdate {
                self.reason("no action could be identified");
                return (None, 0.6);
            }
            return (None, 1.0);
        };
        for r in &resolved.reasons {
            self.reason(r.clone());
        }
        let mut confidence = if kind == Kind::ActionUpdate {
            resolved.confidence
        } else {
            1.0
        };
        if let Some((other, _, why)) = &resolved.runner_up {
            self.reason(format!(
                "conflicting: {why} (filed against {}, not {other})",
                resolved.winner
            ));
            // An update may well mention several actions; only an action update must
            // be about one.
            if kind == Kind::ActionUpdate {
                confidence = resolved.confidence;
            }
        }
        let reference = resolved.winner;
        if !self.registry.actions.is_empty() {
            match self
                .registry
                .actions
                .iter()
                .find(|a| a.reference.eq_ignore_ascii_case(&reference))
            {
                None => {
                    self.reason(format!("{reference} is not in the action register"));
                    confidence = confidence.min(0.6);
                }
                Some(action) => {
                    if !action.open {
                        self.reason(format!("{reference} is already closed"));
                    }
                    if let (Some(owner), Some(organisation)) =
                        (action.owner_organisation.as_deref(), sender.organisation)
                    {
                        if owner == organisation {
                            self.reason(format!("{reference} is owned by {owner}"));
                        } else if sender.secretariat {
                            // The secretariat reports on any action (an agency's update
                            // passed on, or an action closed at a meeting).
                            self.reason(format!(
                                "{reference} is owned by {owner}; the secretariat may update it"
                            ));
                        } else {
                            self.reason(format!(
                                "conflicting: {reference} is owned by {owner}, not {organisation}"
                            ));
                            confidence = confidence.min(0.65);
                        }
                    }
                }
            }
        }
        (Some(reference), confidence)
    }

    /// The open actions of the sender's organisation that the mail answered listed.
    pub(super) fn listed_open_actions(&self, r: &Replying, sender: &Sender<'a>) -> Vec<String> {
        r.sent
            .actions
            .iter()
            .filter(|reference| {
                match self
                    .registry
                    .actions
                    .iter()
                    .find(|a| a.reference.eq_ignore_ascii_case(reference))
                {
                    Some(action) => {
                        action.open
                            && (sender.secretariat
                                || sender.organisation.is_none()
                                || action.owner_organisation.is_none()
                                || action.owner_organisation.as_deref() == sender.organisation)
                    }
                    // Not in the snapshot: take the mail's word for it.
                    None => true,
                }
            })
            .map(|a| a.to_uppercase())
            .collect()
    }
}
