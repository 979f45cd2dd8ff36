//! The secretariat's daily digest: once a day at `digest.time` in the board's zone, what
//! arrived since the last one and how it was filed, what waits in triage, the
//! organisations still outstanding as the next papers deadline nears, what failed or
//! bounced, overdue actions and approvals waiting.
//!
//! It goes only when there is something to say: mail arrived, something waits in triage,
//! a send failed or bounced, or organisations are outstanding within [`OUTSTANDING_DAYS`]
//! of the papers deadline. Overdue actions, approvals waiting and bouncing addresses are
//! standing facts: they are in a digest that goes, but do not by themselves send one.
//!
//! Each board's day is taken once (`digests`, keyed by board and day) in the same
//! transaction as the outbox row, so two daemons send it once; a day with nothing to say
//! is taken too, so it is not reconsidered every tick.

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgConnection;
use sqlx::PgPool;

use crate::clock::Clock;
use crate::config::{DigestSettings, ScheduleSettings};
use crate::domain::mail::{self, DigestAction, DigestFailure, DigestMessage, DigestOutstanding};
use crate::domain::zone::Zone;
use crate::overview::{approval_what, best_guess, kind_words, open_actions};
use crate::store::meeting_status;
use crate::store::outbox::{self, NewOutboxMessage};
use crate::store::overview::{self as store, Arrival};
use crate::store::{health, mail_context, triage};

/// Outstanding organisations are news from this many days before the papers deadline.
pub const OUTSTANDING_DAYS: i64 = 7;

/// Sends each board's digest when its time has come today; returns how many boards'
/// digests were queued.
pub async fn send_due(
    pool: &PgPool,
    digest: &DigestSettings,
    schedule: &ScheduleSettings,
    clock: &Clock,
) -> anyhow::Result<usize> {
    let now = clock.now();
    let mut conn = pool.acquire().await?;
    let boards = health::board_ids(&mut conn).await?;
    drop(conn);
    let mut sent = 0;
    for board_id in boards {
        let mut tx = crate::database::begin(pool).await?;
        let zone = crate::store::registry::board_zone(&mut tx, board_id).await?;
        let local = zone.local(now);
        if local.time() < digest.time() {
            continue;
        }
        let today = local.date();
        let Some(since) = store::take_digest(&mut tx, board_id, today, now).await? else {
            continue;
        };
        let context = compose(&mut tx, board_id, zone, schedule, since, now, today).await?;
        if let Some(context) = context {
            let mut ids = Vec::new();
            for member in mail_context::secretariat(&mut tx, board_id).await? {
                if let Some(to) = member.recipient() {
                    let mut row = NewOutboxMessage::mail(board_id, to, &context);
                    // A digest not sent by the next one's time is stale.
                    row.not_after = Some(now + Duration::days(1));
                    ids.push(outbox::enqueue(&mut tx, row, now).await?);
                }
            }
            if let Some(&first) = ids.first() {
                store::digest_sent(&mut tx, board_id, today, first).await?;
                sent += 1;
            }
            tracing::info!(board_id, day = %today, recipients = ids.len(), "daily digest queued");
        } else {
            tracing::debug!(board_id, day = %today, "daily digest: nothing to say");
        }
        tx.commit().await.context("failed to commit the digest")?;
    }
    Ok(sent)
}

/// The digest of `board_id` for `[since, now)`, or None when there is nothing to say.
async fn compose(
    conn: &mut PgConnection,
    board_id: i64,
    zone: Zone,
    schedule: &ScheduleSettings,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> anyhow::Result<Option<mail::Digest>> {
    let short = |at: DateTime<Utc>| zone.local(at).format("%a %-d %b %H:%M").to_string();
    let arrivals = store::arrivals(conn, board_id, since, now).await?;
    let waiting = triage::triage_on(conn, Some(board_id), false, None).await?;
    let failures = store::outbox_problems(conn, Some(board_id), Some(since), 100).await?;
    let outstanding = match store::next_meeting(conn, board_id, today).await? {
        Some(reference) => {
            let status = meeting_status::meeting_status_on(conn, &reference).await?;
            let deadline = status
                .papers_deadline
                .unwrap_or(status.date - Duration::days(i64::from(schedule.papers_deadline_days)));
            let near = today >= deadline - Duration::days(OUTSTANDING_DAYS);
            (near && !status.outstanding.is_empty()).then(|| DigestOutstanding {
                meeting_ref: status.meeting_ref.clone(),
                meeting_date_text: status.date.format("%A %-d %B %Y").to_string(),
                deadline_text: deadline.format("%A %-d %B %Y").to_string(),
                organisations: status.outstanding.clone(),
            })
        }
        None => None,
    };
    if arrivals.is_empty() && waiting.is_empty() && failures.is_empty() && outstanding.is_none() {
        return Ok(None);
    }
    let overdue = open_actions(conn, Some(board_id), today)
        .await?
        .into_iter()
        .filter(|a| a.overdue)
        .map(|a| DigestAction {
            reference: a.reference,
            owner: a.owner.unwrap_or_else(|| "no owner".into()),
            text: a.text,
            due: a.due,
        })
        .collect();
    let approvals = store::approvals(conn, Some(board_id), 0)
        .await?
        .into_iter()
        .filter(|a| a.status == "open")
        .map(|a| {
            format!(
                "{}: {}, asked {}",
                approval_what(&a),
                a.approver,
                zone.local(a.created_at).format("%A %-d %B %Y")
            )
        })
        .collect();
    let bouncing = store::bouncing_addresses(conn, Some(board_id))
        .await?
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(Some(mail::Digest {
        date_text: today.format("%A %-d %B %Y").to_string(),
        since_text: zone.long_datetime(since),
        arrived_summary: summary(&arrivals),
        arrived: arrivals
            .iter()
            .map(|a| DigestMessage {
                id: a.id,
                received_text: short(a.received_at),
                from: a.from.clone().unwrap_or_else(|| "(no sender)".into()),
                subject: a.subject.clone().unwrap_or_else(|| "(no subject)".into()),
                filed_as: filed_as(a),
            })
            .collect(),
        triage: waiting
            .iter()
            .map(|t| DigestMessage {
                id: t.id,
                received_text: short(t.received_at),
                from: t.from.clone().unwrap_or_else(|| "(no sender)".into()),
                subject: t.subject.clone().unwrap_or_else(|| "(no subject)".into()),
                filed_as: format!(
                    "best guess: {} ({:.0}%)",
                    best_guess(t),
                    t.confidence * 100.0
                ),
            })
            .collect(),
        outstanding,
        failures: failures
            .into_iter()
            .map(|p| DigestFailure {
                to: p.to,
                subject: p.subject.unwrap_or_else(|| kind_words(&p.kind).to_owned()),
                what: match p.last_error {
                    Some(error) if !error.is_empty() => format!("{}: {error}", p.status),
                    _ => p.status,
                },
            })
            .collect(),
        bouncing,
        overdue,
        approvals,
    }))
}

/// What a message that arrived became, in words.
fn filed_as(a: &Arrival) -> String {
    match a.status.as_str() {
        "triage" => return "waiting in triage".to_owned(),
        "quarantined" => return "quarantined (not read as mail for the board)".to_owned(),
        "received" => return "not filed yet".to_owned(),
        _ => {}
    }
    let mut words = vec![a.kind.as_deref().map_or("filed", kind_words).to_owned()];
    if let Some(meeting) = &a.meeting {
        words.push(format!("for {meeting}"));
    }
    if let Some(org) = &a.organisation {
        words.push(format!("from {org}"));
    }
    words.join(" ")
}

/// "3 messages: 2 written updates, 1 waiting in triage".
pub fn summary(arrivals: &[Arrival]) -> String {
    if arrivals.is_empty() {
        return String::new();
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for a in arrivals {
        let what = match a.status.as_str() {
            "triage" => "waiting in triage".to_owned(),
            "quarantined" => "quarantined".to_owned(),
            "received" => "not filed yet".to_owned(),
            _ => a.kind.as_deref().map_or("filed", kind_words).to_owned(),
        };
        match counts.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => counts.push((what, 1)),
        }
    }
    let parts: Vec<String> = counts
        .into_iter()
        .map(|(what, n)| format!("{n} {}", if n == 1 { what } else { plural(&what) }))
        .collect();
    format!(
        "{} message{}: {}",
        arrivals.len(),
        if arrivals.len() == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// A filing's words for more than one.
fn plural(what: &str) -> String {
    if what == "answer to an invitation" {
        return "answers to invitations".to_owned();
    }
    if let Some(stem) = what.strip_suffix("reply") {
        return format!("{stem}replies");
    }
    if what.ends_with("update") || what.ends_with("bounce") {
        return format!("{what}s");
    }
    what.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(status: &str, kind: Option<&str>) -> Arrival {
        Arrival {
            id: 1,
            received_at: "2023-12-04T09:00:00Z".parse().unwrap(),
            from: None,
            subject: None,
            status: status.into(),
            kind: kind.map(Into::into),
            meeting: Some("LCJB-2023-12-13".into()),
            organisation: Some("MPS".into()),
        }
    }

    #[test]
    fn what_arrived_is_counted_by_what_it_was_filed_as() {
        let arrivals = [
            arrival("filed", Some("written_update")),
            arrival("filed", Some("written_update")),
            arrival("triage", Some("written_update")),
            arrival("filed", Some("draft_minutes")),
        ];
        assert_eq!(
            summary(&arrivals),
            "4 messages: 2 written updates, 1 waiting in triage, 1 draft minutes"
        );
        assert_eq!(summary(&[]), "");
        assert_eq!(
            filed_as(&arrivals[0]),
            "written update for LCJB-2023-12-13 from MPS"
        );
        assert_eq!(filed_as(&arrivals[2]), "waiting in triage");
    }
}
