//! Retention: which rule of `[retention]` each record falls under, when it expires, and
//! removing what has expired, except what a legal hold covers.
//!
//! | class      | what goes                                   | rule (default)                         |
//! |------------|---------------------------------------------|----------------------------------------|
//! | messages   | raw bytes, bodies, headers, addresses       | `kinds.KIND`, else `message_days` (6 years); `unrelated_days` (90) for mail not for the board; approved minutes' messages `approved_minutes_days` (for ever) |
//! | outbox     | subject, bodies, the data they were made of | `outbox_days` (6 years), once sent, failed, bounced or expired |
//! | revisions  | extracted text and structure                | `revision_days` (6 years); approved ones `approved_minutes_days` |
//! | events     | the row                                     | `event_days` (6 years)                  |
//! | attachments| bytes and text, once nothing retained uses them | follows the above                   |
//!
//! A removed record stays as a tombstone (id, hash, dates, kind, filing) with when and
//! under which rule it was removed, and each run records an event per rule.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::config::RetentionSettings;
use crate::store::events::{self, NewEvent};
use crate::store::records::{self as store, Class, MessageAge};

/// What one rule would remove, or removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    /// `messages`, `outbox`, `revisions` or `events`.
    pub class: &'static str,
    /// The setting that decides it, e.g. `retention.kinds.auto_reply`.
    pub rule: String,
    pub days: u32,
    /// Expired, and removed (or to be removed).
    pub due: usize,
    /// Expired, but kept for a legal hold.
    pub held: usize,
}

/// What a run removes (plan) or removed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Removal {
    pub as_of: DateTime<Utc>,
    pub rules: Vec<RuleCount>,
    /// Attachments whose bytes went because nothing retained uses them (after a run).
    pub attachments: usize,
}

/// The rule a message falls under and its period, or None when it is kept for ever.
pub fn message_rule(message: &MessageAge, settings: &RetentionSettings) -> Option<(String, u32)> {
    let rule = |name: String, days: u32| (days > 0).then_some((name, days));
    if message.approved_minutes {
        return rule(
            "retention.approved_minutes_days".into(),
            settings.approved_minutes_days,
        );
    }
    if message.status == "quarantined" || message.kind.as_deref() == Some("unrelated") {
        return rule("retention.unrelated_days".into(), settings.unrelated_days);
    }
    if let Some(kind) = &message.kind {
        if let Some(days) = settings.kinds.get(kind) {
            return rule(format!("retention.kinds.{kind}"), *days);
        }
    }
    rule("retention.message_days".into(), settings.message_days)
}

fn expired(at: DateTime<Utc>, days: u32, now: DateTime<Utc>) -> bool {
    at + Duration::days(i64::from(days)) <= now
}

/// The ids each rule covers: (rule, days) -> (due ids, held count).
type Selected = BTreeMap<(Class, String, u32), (Vec<i64>, usize)>;

/// Counts an expired record under its rule: to be removed, or kept for a hold.
fn tally(entry: &mut (Vec<i64>, usize), id: i64, held: bool) {
    if held {
        entry.1 += 1;
    } else {
        entry.0.push(id);
    }
}

/// Events before this moment have expired, when events expire at all.
fn events_cutoff(settings: &RetentionSettings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (settings.event_days > 0).then(|| now - Duration::days(i64::from(settings.event_days)))
}

fn events_rule(settings: &RetentionSettings, due: u64) -> RuleCount {
    RuleCount {
        class: "events",
        rule: "retention.event_days".into(),
        days: settings.event_days,
        due: usize::try_from(due).unwrap_or_default(),
        held: 0,
    }
}

/// The audit event of one rule's removal.
async fn record_removal(
    conn: &mut PgConnection,
    by: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    events::record(
        conn,
        NewEvent {
            board_id: None,
            actor: by,
            kind: "retention.removed",
            subject: None,
            detail,
        },
    )
    .await?;
    Ok(())
}

async fn select(
    conn: &mut PgConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Selected> {
    let mut selected: Selected = BTreeMap::new();
    let shortest = [
        settings.message_days,
        settings.unrelated_days,
        settings.approved_minutes_days,
    ]
    .into_iter()
    .chain(settings.kinds.values().copied())
    .filter(|d| *d > 0)
    .min();
    if let Some(shortest) = shortest {
        let before = now - Duration::days(i64::from(shortest));
        for message in store::message_ages(conn, before + Duration::seconds(1)).await? {
            let Some((rule, days)) = message_rule(&message, settings) else {
                continue;
            };
            if !expired(message.received_at, days, now) {
                continue;
            }
            tally(
                selected.entry((Class::Messages, rule, days)).or_default(),
                message.id,
                message.held,
            );
        }
    }
    if settings.outbox_days > 0 {
        let before = now - Duration::days(i64::from(settings.outbox_days));
        let rows = store::outbox_due(conn, before + Duration::seconds(1)).await?;
        let entry = selected
            .entry((
                Class::Outbox,
                "retention.outbox_days".into(),
                settings.outbox_days,
            ))
            .or_default();
        for (id, held) in rows {
            tally(entry, id, held);
        }
    }
    let shortest = [settings.revision_days, settings.approved_minutes_days]
        .into_iter()
        .filter(|d| *d > 0)
        .min();
    if let Some(shortest) = shortest {
        let before = now - Duration::days(i64::from(shortest));
        let revisions = store::revisions_due(conn, before + Duration::seconds(1)).await?;
        for (id, made, approved, held) in revisions {
            let (rule, days) = if approved {
                (
                    "retention.approved_minutes_days",
                    settings.approved_minutes_days,
                )
            } else {
                ("retention.revision_days", settings.revision_days)
            };
            if days == 0 || !expired(made, days, now) {
                continue;
            }
            tally(
                selected
                    .entry((Class::Revisions, rule.into(), days))
                    .or_default(),
                id,
                held,
            );
        }
    }
    selected.retain(|_, (ids, held)| !ids.is_empty() || *held > 0);
    Ok(selected)
}

fn counts(selected: &Selected) -> Vec<RuleCount> {
    selected
        .iter()
        .map(|((class, rule, days), (ids, held))| RuleCount {
            class: class.as_str(),
            rule: rule.clone(),
            days: *days,
            due: ids.len(),
            held: *held,
        })
        .collect()
}

/// What a run at `now` would remove.
pub async fn plan(
    conn: &mut PgConnection,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Removal> {
    let mut rules = counts(&select(conn, settings, now).await?);
    if let Some(before) = events_cutoff(settings, now) {
        let due = store::events_before(conn, before).await?;
        if due > 0 {
            rules.push(events_rule(
                settings,
                u64::try_from(due).unwrap_or_default(),
            ));
        }
    }
    Ok(Removal {
        as_of: now,
        rules,
        attachments: 0,
    })
}

/// Removes what has expired at `now`, in one transaction, with an event per rule.
pub async fn run(
    conn: &mut PgConnection,
    settings: &RetentionSettings,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Removal> {
    store::allow_record_changes(conn).await?;
    let selected = select(conn, settings, now).await?;
    let mut rules = counts(&selected);
    for ((class, rule, days), (ids, held)) in &selected {
        if ids.is_empty() {
            continue;
        }
        let removed = store::remove(conn, *class, ids, rule, now).await?;
        record_removal(
            conn,
            by,
            json!({
                "class": class.as_str(), "rule": rule, "days": days, "removed": removed,
                "held": held, "ids": ids,
            }),
        )
        .await?;
    }
    if let Some(before) = events_cutoff(settings, now) {
        let removed = store::remove_events(conn, before).await?;
        if removed > 0 {
            rules.push(events_rule(settings, removed));
            record_removal(
                conn,
                by,
                json!({
                    "class": "events", "rule": "retention.event_days",
                    "days": settings.event_days, "removed": removed, "before": before,
                }),
            )
            .await?;
        }
    }
    let orphaned = store::orphaned_attachments(conn).await?;
    if !orphaned.is_empty() {
        store::remove_attachments(conn, &orphaned, now).await?;
        record_removal(
            conn,
            by,
            json!({
                "class": "attachments",
                "rule": "no retained message, outgoing message or revision uses them",
                "removed": orphaned.len(), "ids": orphaned,
            }),
        )
        .await?;
    }
    Ok(Removal {
        as_of: now,
        rules,
        attachments: orphaned.len(),
    })
}

/// The daemon's daily run: once a day (the first pass of the day, whichever daemon),
/// when `retention.enabled`. None when today's run was already done.
pub async fn run_daily(
    pool: &PgPool,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Removal>> {
    if !settings.enabled {
        return Ok(None);
    }
    let mut tx = crate::database::begin(pool).await?;
    let day = now.date_naive();
    if !store::take_run(&mut tx, day, now).await? {
        return Ok(None);
    }
    let removal = run(&mut tx, settings, "retention", now).await?;
    store::record_run(&mut tx, day, &serde_json::to_value(&removal)?).await?;
    tx.commit()
        .await
        .context("failed to commit the retention run")?;
    Ok(Some(removal))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: Option<&str>, status: &str, approved: bool) -> MessageAge {
        MessageAge {
            id: 1,
            received_at: "2020-01-01T00:00:00Z".parse().unwrap(),
            status: status.into(),
            kind: kind.map(Into::into),
            approved_minutes: approved,
            held: false,
        }
    }

    #[test]
    fn each_message_falls_under_the_rule_of_what_it_was_filed_as() {
        let settings = RetentionSettings::default();
        let rule = |m: &MessageAge| message_rule(m, &settings);
        assert_eq!(
            rule(&message(Some("written_update"), "filed", false)),
            Some(("retention.message_days".into(), 2190))
        );
        assert_eq!(
            rule(&message(Some("auto_reply"), "filed", false)),
            Some(("retention.kinds.auto_reply".into(), 365))
        );
        assert_eq!(
            rule(&message(Some("unrelated"), "filed", false)),
            Some(("retention.unrelated_days".into(), 90))
        );
        assert_eq!(
            rule(&message(Some("written_update"), "quarantined", false)),
            Some(("retention.unrelated_days".into(), 90))
        );
        assert_eq!(
            rule(&message(None, "received", false)),
            Some(("retention.message_days".into(), 2190))
        );
        // Approved minutes are kept for ever unless a period is set.
        assert_eq!(rule(&message(Some("draft_minutes"), "filed", true)), None);
        let mut finite = settings.clone();
        finite.approved_minutes_days = 3650;
        assert_eq!(
            message_rule(&message(Some("draft_minutes"), "filed", true), &finite),
            Some(("retention.approved_minutes_days".into(), 3650))
        );
        let now: DateTime<Utc> = "2020-03-31T00:00:00Z".parse().unwrap();
        let received: DateTime<Utc> = "2020-01-01T00:00:00Z".parse().unwrap();
        assert!(!expired(received, 91, now));
        assert!(expired(received, 90, now));
    }
}
