//! Quorum: for a board whose registry sets `quorum_members` or `quorum_organisations`, the
//! secretariat is told once, from `schedule.quorum_days` before a meeting, if the
//! apologies recorded put its quorum at risk. Everyone invited who has not sent apologies
//! is counted as coming; a deputy attending in a member's place counts for them and their
//! organisation.

use std::collections::BTreeSet;

use anyhow::Context;
use chrono::Duration;
use serde_json::json;
use sqlx::PgPool;

use crate::clock::Clock;
use crate::config::ScheduleSettings;
use crate::domain::mail;
use crate::store::attendance::{self as store, InviteMeeting, RegisterLine};
use crate::store::events::{self, NewEvent};
use crate::store::mail_context;
use crate::store::outbox::{self, NewOutboxMessage};

/// A board's quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    pub members: Option<u32>,
    pub organisations: Option<u32>,
}

/// What puts the quorum at risk: (what it needs, what is expected), in words; `None` when
/// it is safe.
pub fn at_risk(quorum: Quorum, register: &[RegisterLine]) -> Option<(String, String)> {
    let coming: Vec<&RegisterLine> = register
        .iter()
        .filter(|l| l.invitation.as_deref() == Some("REQUEST"))
        .filter(|l| l.response.as_deref() != Some("apologies") || l.deputy.is_some())
        .collect();
    if let Some(needed) = quorum.members {
        let expected = coming.len();
        if expected < needed as usize {
            return Some((format!("{needed} members"), format!("{expected} members")));
        }
    }
    if let Some(needed) = quorum.organisations {
        let organisations: BTreeSet<&str> = coming
            .iter()
            .filter_map(|l| l.organisation.as_deref())
            .collect();
        if organisations.len() < needed as usize {
            return Some((
                format!("{needed} organisations"),
                format!("{} organisations", organisations.len()),
            ));
        }
    }
    None
}

/// Tells the secretariat of each meeting in its warning window whose quorum is at risk,
/// once a meeting. Returns how many meetings were warned of.
pub async fn check(
    pool: &PgPool,
    settings: &ScheduleSettings,
    meetings: &[InviteMeeting],
    clock: &Clock,
) -> anyhow::Result<usize> {
    let now = clock.now();
    let mut warned = 0;
    for meeting in meetings.iter().filter(|m| !m.cancelled) {
        let start = super::invite::starts_at(meeting);
        let from = meeting.zone.instant(
            meeting.date - Duration::days(i64::from(settings.quorum_days)),
            settings.send_time(),
        );
        if now < from || now >= start {
            continue;
        }
        let mut tx = crate::database::begin(pool).await?;
        let (members, organisations) = store::quorum_of(&mut tx, meeting.board_id).await?;
        let quorum = Quorum {
            members: members.and_then(|n| u32::try_from(n).ok()),
            organisations: organisations.and_then(|n| u32::try_from(n).ok()),
        };
        if quorum.members.is_none() && quorum.organisations.is_none() {
            continue;
        }
        if store::lock_quorum_warned(&mut tx, meeting.id).await? {
            continue;
        }
        let register = store::register(&mut tx, meeting.id).await?;
        let Some((quorum_text, expected_text)) = at_risk(quorum, &register) else {
            continue;
        };
        let context = mail::QuorumWarning {
            quorum_text,
            expected_text,
            apologies: super::pack::apologies(&register),
            no_response: register
                .iter()
                .filter(|l| l.invitation.as_deref() == Some("REQUEST") && l.response.is_none())
                .map(|l| l.member.clone())
                .collect(),
        };
        let mut rows = Vec::new();
        for member in mail_context::secretariat(&mut tx, meeting.board_id).await? {
            if let Some(to) = member.recipient() {
                let mut row = NewOutboxMessage::mail(meeting.board_id, to, &context);
                row.meeting_id = Some(meeting.id);
                row.not_after = Some(start);
                rows.push(row);
            }
        }
        let ids = outbox::enqueue_many(&mut tx, &rows, now).await?;
        store::mark_quorum_warned(&mut tx, meeting.id, now).await?;
        events::record(
            &mut tx,
            NewEvent {
                board_id: Some(meeting.board_id),
                actor: "system",
                kind: "meeting.quorum_at_risk",
                subject: Some(("meeting", meeting.id)),
                detail: json!({
                    "meeting": meeting.meeting_ref,
                    "quorum": context.quorum_text,
                    "expected": context.expected_text,
                    "outbox": ids,
                }),
            },
        )
        .await?;
        tx.commit()
            .await
            .context("failed to commit the quorum warning")?;
        warned += 1;
    }
    Ok(warned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        member: &str,
        organisation: &str,
        response: Option<&str>,
        deputy: Option<&str>,
    ) -> RegisterLine {
        RegisterLine {
            member: member.into(),
            organisation: Some(organisation.into()),
            invitation: Some("REQUEST".into()),
            sequence: Some(0),
            response: response.map(str::to_owned),
            reason: None,
            deputy: deputy.map(str::to_owned),
            deputy_source: None,
            late: false,
            via: None,
            responded_at: None,
        }
    }

    #[test]
    fn an_organisation_counts_while_someone_of_it_or_a_deputy_comes() {
        let quorum = Quorum {
            members: None,
            organisations: Some(3),
        };
        let mut register = vec![
            line("A", "MPS", None, None),
            line("B", "CPS", Some("apologies"), Some("C")),
            line("D", "HMCTS", Some("apologies"), None),
            line("E", "HMCTS", Some("attending"), None),
        ];
        assert_eq!(at_risk(quorum, &register), None);
        register[3].response = Some("apologies".into());
        assert_eq!(
            at_risk(quorum, &register),
            Some(("3 organisations".into(), "2 organisations".into()))
        );
    }
}
