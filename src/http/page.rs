//! The status page and the sign-in page as HTML: the overview put into words, rendered
//! with Handlebars (every value escaped) from templates embedded in the binary. Plain
//! HTML and CSS that reads on a phone; no script.

use chrono::{DateTime, Utc};
use handlebars::Handlebars;
use serde::Serialize;

use crate::domain::zone::Zone;
use crate::overview::{MeetingOverview, Overview};

const STATUS: &str = include_str!("status.html.hbs");
const SIGN_IN: &str = include_str!("signin.html.hbs");
const SEARCH: &str = include_str!("search.html.hbs");

/// The compiled page templates.
#[derive(Debug)]
pub struct Pages(Handlebars<'static>);

impl Pages {
    pub fn new() -> anyhow::Result<Pages> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_template_string("status", STATUS)?;
        registry.register_template_string("signin", SIGN_IN)?;
        registry.register_template_string("search", SEARCH)?;
        Ok(Pages(registry))
    }

    /// The status page for `user`, times in `zone`.
    pub fn status(&self, overview: &Overview, zone: Zone, user: &str) -> anyhow::Result<String> {
        Ok(self
            .0
            .render("status", &StatusView::of(overview, zone, user))?)
    }

    /// The search form, and the results of `query` when one was given.
    pub fn search(
        &self,
        query: &str,
        hits: Option<&[crate::store::search::Hit]>,
        zone: Zone,
    ) -> anyhow::Result<String> {
        let hits: Vec<HitView> = hits
            .unwrap_or_default()
            .iter()
            .map(|h| HitView {
                id: h.id,
                subject: h.subject.clone().unwrap_or_else(|| "(no subject)".into()),
                received: zone
                    .local(h.received_at)
                    .format("%a %-d %b %Y %H:%M")
                    .to_string(),
                from: h.from.clone().unwrap_or_default(),
                filed: [
                    h.kind.as_deref().map(crate::overview::kind_words),
                    h.meeting.as_deref(),
                    h.organisation.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
                snippet: pieces(&h.snippet),
                attachment: h.attachment.clone(),
            })
            .collect();
        Ok(self.0.render(
            "search",
            &SearchView {
                query: query.to_owned(),
                searched: !query.is_empty(),
                count: hits.len(),
                hits,
            },
        )?)
    }

    /// The sign-in form, with what went wrong last time.
    pub fn sign_in(&self, problem: Option<&str>) -> anyhow::Result<String> {
        #[derive(Serialize)]
        struct SignIn<'a> {
            problem: Option<&'a str>,
        }
        Ok(self.0.render("signin", &SignIn { problem })?)
    }
}

#[derive(Debug, Serialize)]
struct SearchView {
    query: String,
    searched: bool,
    count: usize,
    hits: Vec<HitView>,
}

#[derive(Debug, Serialize)]
struct HitView {
    id: i64,
    subject: String,
    received: String,
    from: String,
    filed: String,
    snippet: Vec<Piece>,
    attachment: Option<String>,
}

/// Part of a snippet: the words found are `marked`.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct Piece {
    text: String,
    marked: bool,
}

/// A snippet with its matches between `[` and `]`, as pieces to escape and mark.
fn pieces(snippet: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = snippet;
    while let Some(start) = rest.find('[') {
        let Some(len) = rest[start..].find(']') else {
            break;
        };
        if start > 0 {
            out.push(Piece {
                text: rest[..start].to_owned(),
                marked: false,
            });
        }
        out.push(Piece {
            text: rest[start + 1..start + len].to_owned(),
            marked: true,
        });
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece {
            text: rest.to_owned(),
            marked: false,
        });
    }
    out
}

#[derive(Debug, Serialize)]
struct StatusView {
    user: String,
    generated: String,
    zone: String,
    upcoming: Vec<MeetingView>,
    recent: Vec<MeetingView>,
    triage: Vec<TriageView>,
    triage_count: usize,
    approvals_open: Vec<ApprovalView>,
    approvals_decided: Vec<ApprovalView>,
    actions: Vec<ActionLine>,
    action_count: usize,
    overdue: usize,
    outbox_problems: Vec<ProblemView>,
    bouncing: Vec<String>,
    events: Vec<EventView>,
}

#[derive(Debug, Serialize)]
struct MeetingView {
    reference: String,
    title: String,
    date: String,
    status: String,
    cancelled: bool,
    papers_deadline: Option<String>,
    attendance: String,
    reported: Vec<String>,
    outstanding: Vec<String>,
    minutes: String,
}

#[derive(Debug, Serialize)]
struct TriageView {
    id: i64,
    received: String,
    from: String,
    subject: String,
    guess: String,
    confidence: String,
    reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ApprovalView {
    what: String,
    approver: String,
    status: String,
    when: String,
    reason: Option<String>,
}

#[derive(Debug, Serialize)]
struct ActionLine {
    reference: String,
    owner: String,
    text: String,
    due: String,
    overdue: bool,
    latest: Option<String>,
}

#[derive(Debug, Serialize)]
struct ProblemView {
    to: String,
    subject: String,
    status: String,
    when: String,
    error: String,
}

#[derive(Debug, Serialize)]
struct EventView {
    when: String,
    actor: String,
    kind: String,
    subject: String,
}

impl StatusView {
    fn of(overview: &Overview, zone: Zone, user: &str) -> StatusView {
        let when = |at: DateTime<Utc>| zone.local(at).format("%a %-d %b %Y %H:%M").to_string();
        let (upcoming, recent): (Vec<&MeetingOverview>, Vec<&MeetingOverview>) =
            overview.meetings.iter().partition(|m| m.upcoming);
        let (open, decided): (Vec<_>, Vec<_>) =
            overview.approvals.iter().partition(|a| a.status == "open");
        let approval = |a: &crate::store::overview::ApprovalLine| ApprovalView {
            what: crate::overview::approval_what(a),
            approver: a.approver.clone(),
            status: match a.status.as_str() {
                "open" => format!("waiting, until {}", when(a.expires_at)),
                other => other.replace('_', " "),
            },
            when: when(a.decided_at.unwrap_or(a.created_at)),
            reason: a.reason.clone(),
        };
        StatusView {
            user: user.to_owned(),
            generated: when(overview.generated_at),
            zone: zone.name().to_owned(),
            upcoming: upcoming.into_iter().map(meeting).collect(),
            recent: recent.into_iter().rev().map(meeting).collect(),
            triage: overview
                .triage
                .iter()
                .map(|t| TriageView {
                    id: t.id,
                    received: when(t.received_at),
                    from: t.from.clone().unwrap_or_else(|| "(no sender)".into()),
                    subject: t.subject.clone().unwrap_or_else(|| "(no subject)".into()),
                    guess: crate::overview::best_guess(t),
                    confidence: format!("{:.0}%", t.confidence * 100.0),
                    reasons: t.reasons.clone(),
                })
                .collect(),
            triage_count: overview.triage.len(),
            action_count: overview.actions.len(),
            approvals_open: open.into_iter().map(approval).collect(),
            approvals_decided: decided.into_iter().map(approval).collect(),
            overdue: overview.actions.iter().filter(|a| a.overdue).count(),
            actions: overview
                .actions
                .iter()
                .map(|a| ActionLine {
                    reference: a.reference.clone(),
                    owner: a.owner.clone().unwrap_or_else(|| "no owner".into()),
                    text: a.text.clone(),
                    due: a.due.clone(),
                    overdue: a.overdue,
                    latest: a
                        .latest_update
                        .as_ref()
                        .map(|u| format!("{}: {}", u.kind, u.text)),
                })
                .collect(),
            outbox_problems: overview
                .outbox_problems
                .iter()
                .map(|p| ProblemView {
                    to: p.to.clone(),
                    subject: p
                        .subject
                        .clone()
                        .unwrap_or_else(|| p.kind.replace('_', " ")),
                    status: p.status.clone(),
                    when: when(p.at),
                    error: p.last_error.clone().unwrap_or_default(),
                })
                .collect(),
            bouncing: overview.bouncing.iter().map(|b| b.to_string()).collect(),
            events: overview
                .events
                .iter()
                .map(|e| EventView {
                    when: when(e.at),
                    actor: e.actor.clone(),
                    kind: e.kind.replace(['.', '_'], " "),
                    subject: match (&e.subject_type, e.subject_id) {
                        (Some(t), Some(id)) => format!("{} {id}", t.replace('_', " ")),
                        _ => String::new(),
                    },
                })
                .collect(),
        }
    }
}

fn meeting(m: &MeetingOverview) -> MeetingView {
    let status = &m.status;
    let a = &m.attendance;
    let attendance = if a.invited == 0 {
        "no invitations sent yet".to_owned()
    } else {
        format!(
            "{} invited: {} attending, {} apologies, {} tentative, {} not answered",
            a.invited, a.attending, a.apologies, a.tentative, a.no_response
        )
    };
    let reported = status
        .expected
        .iter()
        .filter(|e| !e.updates.is_empty())
        .map(|e| e.organisation.clone())
        .collect();
    let minutes = match status.draft_minutes.last() {
        None => "no draft received".to_owned(),
        Some(draft) => format!(
            "{} received, latest {} from {}; meeting {}",
            plural(status.draft_minutes.len(), "draft"),
            draft.received_at.format("%-d %b %Y"),
            draft.from.as_deref().unwrap_or("an unknown sender"),
            status.status.replace('_', " ")
        ),
    };
    MeetingView {
        reference: status.meeting_ref.clone(),
        title: status.title.clone(),
        date: status.date.format("%A %-d %B %Y").to_string(),
        status: status.status.replace('_', " "),
        cancelled: a.cancelled,
        papers_deadline: status
            .papers_deadline
            .map(|d| d.format("%A %-d %B %Y").to_string()),
        attendance,
        reported,
        outstanding: status.outstanding.clone(),
        minutes,
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_is_cut_into_the_words_found_and_the_rest() {
        let piece = |text: &str, marked| Piece {
            text: text.into(),
            marked,
        };
        assert_eq!(
            pieces("the [domestic] [abuse] pilot"),
            [
                piece("the ", false),
                piece("domestic", true),
                piece(" ", false),
                piece("abuse", true),
                piece(" pilot", false)
            ]
        );
        assert_eq!(pieces("no match"), [piece("no match", false)]);
        assert_eq!(pieces("an [unclosed"), [piece("an [unclosed", false)]);
    }
}
