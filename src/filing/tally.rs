//! Weighing evidence: a tally of candidates per dimension (kind, meeting, item, action)
//! with the weight and reason of each signal, resolved to a winner and how sure; and the
//! confidence of a whole decision with what limits it.
//!
//! Pure arithmetic over reasons; it knows nothing of messages.

/// Evidence for one dimension of the decision (kind, meeting, item, ...): candidates
/// with the weights of the signals that support them.
pub(super) struct Tally<K> {
    pub(super) entries: Vec<(K, f32, String)>,
}

/// The outcome of a tally: the winner, how sure, and the strongest disagreement.
pub(super) struct Resolved<K> {
    pub(super) winner: K,
    pub(super) confidence: f32,
    pub(super) reasons: Vec<String>,
    pub(super) runner_up: Option<(K, f32, String)>,
}

impl<K: Clone + PartialEq> Tally<K> {
    pub(super) fn new() -> Self {
        Tally {
            entries: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, key: K, weight: f32, reason: impl Into<String>) {
        if weight > 0.0 {
            self.entries.push((key, weight.min(0.99), reason.into()));
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn score(&self, key: &K) -> f32 {
        1.0 - self
            .entries
            .iter()
            .filter(|(k, _, _)| k == key)
            .fold(1.0, |miss, (_, w, _)| miss * (1.0 - w))
    }

    pub(super) fn strongest(&self, key: &K) -> f32 {
        self.entries
            .iter()
            .filter(|(k, _, _)| k == key)
            .fold(0.0, |m, (_, w, _)| f32::max(m, *w))
    }

    /// Candidates in order of first mention, so ties go to what the message named first.
    pub(super) fn candidates(&self) -> Vec<K> {
        let mut keys: Vec<K> = Vec::new();
        for (k, _, _) in &self.entries {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
        keys
    }

    pub(super) fn resolve(&self) -> Option<Resolved<K>> {
        let mut ranked: Vec<(K, f32, f32)> = self
            .candidates()
            .into_iter()
            .map(|k| {
                let s = self.score(&k);
                let strongest = self.strongest(&k);
                (k, s, strongest)
            })
            .collect();
        // Stable: equal scores keep first-mention order; a stronger single signal breaks
        // a tie in the combined score.
        ranked.sort_by(|a, b| {
            b.1.partial_cmp(&a.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.2.partial_cmp(&a.2).unwrap_or(std::cmp::Ordering::Equal))
        });
        let mut ranked = ranked.into_iter();
        let (winner, score, _) = ranked.next()?;
        let runner_up = ranked.next().map(|(k, s, _)| {
            let reason = self
                .entries
                .iter()
                .filter(|(key, _, _)| *key == k)
                .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal))
                .map(|(_, _, r)| r.clone())
                .unwrap_or_default();
            (k, s, reason)
        });
        // A disagreement costs little while it is faint and up to about half the
        // confidence when it is as strong as the winner: a tie always goes to a person.
        let confidence = match &runner_up {
            Some((_, r, _)) if score > 0.0 => {
                let ratio = (r / score).min(1.0);
                score * (1.0 - 0.45 * ratio * ratio)
            }
            _ => score,
        };
        let reasons = self
            .entries
            .iter()
            .filter(|(k, _, _)| *k == winner)
            .map(|(_, _, r)| r.clone())
            .collect();
        Some(Resolved {
            winner,
            confidence,
            reasons,
            runner_up,
        })
    }
}

/// How sure a decision is, and which of the parts it needs limits it: a decision below
/// the threshold names the weakest part instead of leaving a bare number.
pub(super) struct Confidence {
    pub(super) value: f32,
    pub(super) limit: String,
}

impl Confidence {
    pub(super) fn new(value: f32, why: &str) -> Self {
        Confidence {
            value,
            limit: why.to_owned(),
        }
    }

    /// At most `value`, because of `why`.
    pub(super) fn cap(&mut self, value: f32, why: impl Into<String>) {
        if value < self.value {
            self.value = value;
            self.limit = why.into();
        }
    }

    /// At least `value`: stronger evidence settles what weaker evidence left open.
    pub(super) fn floor(&mut self, value: f32) {
        self.value = self.value.max(value);
    }

    pub(super) fn limited_by(&self) -> Option<&str> {
        (!self.limit.is_empty()).then_some(self.limit.as_str())
    }
}
