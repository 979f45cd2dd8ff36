//! Alarms when mail stops. The ingest worker and the sender record every contact with
//! their server ([`record_ok`], [`record_failure`]); [`check`] turns what they recorded
//! into alarms:
//!
//! - an alarm opens when the mailbox has not been read for `alerts.mailbox_minutes`, or
//!   outgoing mail has failed for `alerts.outgoing_minutes`, or at once when a sign-in
//!   is refused (a revoked token or consent, a wrong password): nobody fixes those by
//!   waiting;
//! - it is resolved at the first good contact after it;
//! - each opening and each resolution is emailed once to every board's secretariat,
//!   through the outbox (so it is retried). When outgoing mail itself is down the alarm
//!   waits in the outbox, and the log says so at error level.
//!
//! At most one alarm per service is open at a time, across every process (a unique
//! index), so the secretariat hears once per incident.

use crate::store::mail_context;
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use crate::clock::Clock;
use crate::config::AlertsSettings;
use crate::domain::mail;
use crate::shutdown::{Shutdown, Wakeup};
use crate::store::health::{self, HealthRow};
use crate::store::outbox::{self, NewOutboxMessage};

/// How often the daemon looks.
pub const CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// What an alarm is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Mailbox,
    Outgoing,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Mailbox => "mailbox",
            Service::Outgoing => "outgoing",
        }
    }

    fn parse(text: &str) -> Option<Service> {
        match text {
            "mailbox" => Some(Service::Mailbox),
            "outgoing" => Some(Service::Outgoing),
            _ => None,
        }
    }

    /// As the alert says it: "reading the board's mailbox has stopped".
    fn what(self) -> &'static str {
        match self {
            Service::Mailbox => "reading the board's mailbox",
            Service::Outgoing => "sending the board's mail",
        }
    }

    fn minutes(self, settings: &AlertsSettings) -> u32 {
        match self {
            Service::Mailbox => settings.mailbox_minutes,
            Service::Outgoing => settings.outgoing_minutes,
        }
    }
}

/// Why `row` should be in alarm at `now`, if it should.
pub fn alarm_reason(
    row: &HealthRow,
    settings: &AlertsSettings,
    now: DateTime<Utc>,
) -> Option<String> {
    let service = Service::parse(&row.service)?;
    let error = row.last_error.as_deref().unwrap_or("no detail recorded");
    if row.sign_in_refused {
        return Some(format!("the sign-in was refused: {error}"));
    }
    let minutes = service.minutes(settings);
    let limit = Duration::minutes(i64::from(minutes));
    if let Some(since) = row.failing_since {
        return (now - since >= limit).then(|| {
            format!(
                "failing for {} minutes (alerts.{}_minutes is {minutes}): {error}",
                (now - since).num_minutes(),
                service.as_str()
            )
        });
    }
    // Nothing failed, but nothing read the mailbox either (the daemon stopped, or its
    // reader hangs): the reader records a good contact at least every IDLE period.
    let read_at = row.last_ok_at?;
    (service == Service::Mailbox && now - read_at >= limit).then(|| {
        format!(
            "the mailbox has not been read for {} minutes (alerts.mailbox_minutes is {minutes}); is the daemon running?",
            (now - read_at).num_minutes()
        )
    })
}

/// Records a good contact. Failures to record are logged, never passed on: the mail
/// matters more than its bookkeeping.
pub async fn record_ok(
    pool: &PgPool,
    service: Service,
    name: &str,
    folders: &[String],
    now: DateTime<Utc>,
) {
    let result = async {
        let mut conn = pool.acquire().await?;
        health::contact_ok(&mut conn, service.as_str(), name, folders, now).await
    }
    .await;
    if let Err(err) = result {
        tracing::debug!(service = service.as_str(), error = %err, "could not record a good contact");
    }
}

pub async fn record_failure(
    pool: &PgPool,
    service: Service,
    name: &str,
    error: &str,
    sign_in: bool,
    now: DateTime<Utc>,
) {
    let result = async {
        let mut conn = pool.acquire().await?;
        health::contact_failed(&mut conn, service.as_str(), name, error, sign_in, now).await
    }
    .await;
    if let Err(err) = result {
        tracing::debug!(service = service.as_str(), error = %err, "could not record a failed contact");
    }
}

/// What one check did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub opened: Vec<&'static str>,
    pub resolved: Vec<&'static str>,
}

/// Opens and resolves alarms from what was recorded, emailing the secretariat.
pub async fn check(
    pool: &PgPool,
    settings: &AlertsSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Checked> {
    let mut tx = pool.begin().await?;
    let rows = health::services(&mut tx).await?;
    let open = health::open_alarms(&mut tx).await?;
    let mut checked = Checked::default();
    for row in &rows {
        let Some(service) = Service::parse(&row.service) else {
            continue;
        };
        let alarm = open.iter().find(|a| a.service == row.service);
        match (alarm_reason(row, settings, now), alarm) {
            (Some(reason), None) => {
                if health::open_alarm(&mut tx, service.as_str(), &reason, now)
                    .await?
                    .is_none()
                {
                    continue;
                }
                let queued = tell(&mut tx, service, false, &reason, now, None, now).await?;
                checked.opened.push(service.as_str());
                if service == Service::Outgoing {
                    tracing::error!(
                        service = service.as_str(), %reason, queued,
                        "ALARM: outgoing mail has stopped; the alarm to the secretariat waits in the outbox until it works again"
                    );
                } else {
                    tracing::error!(service = service.as_str(), %reason, queued, "ALARM: the secretariat is told");
                }
            }
            (None, Some(alarm)) => {
                if !health::resolve_alarm(&mut tx, alarm.id, now).await? {
                    continue;
                }
                let queued = tell(
                    &mut tx,
                    service,
                    true,
                    &alarm.reason,
                    alarm.opened_at,
                    Some(now),
                    now,
                )
                .await?;
                checked.resolved.push(service.as_str());
                tracing::warn!(
                    service = service.as_str(),
                    queued,
                    "alarm resolved: mail works again; the secretariat is told"
                );
            }
            _ => {}
        }
    }
    tx.commit().await?;
    Ok(checked)
}

/// Queues the alert (or its resolution) to every board's secretariat; returns how many.
async fn tell(
    conn: &mut PgConnection,
    service: Service,
    resolved: bool,
    reason: &str,
    opened_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let next_step = match (service, reason.contains("sign-in")) {
        (Service::Mailbox, true) => "Check the mailbox's sign-in (\"minuted auth status\"; with a device-code sign-in, sign in again with \"minuted auth login mailbox\"). Mail sent to the board meanwhile waits in the mailbox and is read once sign-in works.",
        (Service::Mailbox, false) => "Check that the mail server answers and the network between it and minuted. Mail sent to the board meanwhile waits in the mailbox and is read once it does.",
        (Service::Outgoing, true) => "Check the sign-in to the submission server (\"minuted auth status\"; with a device-code sign-in, \"minuted auth login outgoing\"). Nothing is lost: what is due waits in the outbox and is sent once sign-in works.",
        (Service::Outgoing, false) => "Check that the submission server answers. Nothing is lost: what is due waits in the outbox and is sent once it does (\"minuted outbox list\").",
    };
    let what = service.what();
    let mut capital = what.to_owned();
    if let Some(first) = capital.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut queued = 0;
    for board_id in health::board_ids(conn).await? {
        let zone = crate::store::registry::board_zone(conn, board_id).await?;
        let context = mail::Alert {
            service: service.as_str().to_owned(),
            what: what.to_owned(),
            what_capital: capital.clone(),
            resolved,
            opened_text: zone.long_datetime(opened_at),
            resolved_text: resolved_at.map(|at| zone.long_datetime(at)),
            reason: reason.to_owned(),
            next_step: next_step.to_owned(),
        };
        for member in mail_context::secretariat(conn, board_id).await? {
            let Some(to) = member.recipient() else {
                continue;
            };
            outbox::enqueue(conn, NewOutboxMessage::mail(board_id, to, &context), now).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// The daemon's alarm worker: a check every [`CHECK_EVERY`] until shutdown. Contacts
/// are recorded, and alarms judged, in the machine's time, whatever a rehearsal clock
/// (`--clock-rate`) says: a mailbox is stale after thirty real minutes.
pub async fn run_until_stopped(
    pool: PgPool,
    settings: AlertsSettings,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let clock = Clock::System;
    let every = CHECK_EVERY;
    // The first look waits a period: at start-up the mailbox's last read may be old
    // (the daemon was stopped) until the reader's first round records a new one.
    let mut waiting = shutdown.clone();
    tokio::select! {
        _ = waiting.stopped() => return Ok(()),
        _ = tokio::time::sleep(every) => {}
    }
    shutdown
        .repeat("alarm check", every, every, Wakeup::sleeping(), || {
            check(&pool, &settings, clock.now())
        })
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        service: &str,
        failing_minutes: Option<i64>,
        sign_in: bool,
        now: DateTime<Utc>,
    ) -> HealthRow {
        HealthRow {
            service: service.into(),
            name: "imap://lcjb@mail.example:993".into(),
            last_ok_at: None,
            failing_since: failing_minutes.map(|m| now - Duration::minutes(m)),
            last_error: Some("connection refused".into()),
            last_error_at: Some(now),
            sign_in_refused: sign_in,
        }
    }

    #[test]
    fn an_alarm_is_due_after_the_configured_minutes_or_at_once_for_a_refused_sign_in() {
        let now = "2023-12-04T09:12:00Z".parse::<DateTime<Utc>>().unwrap();
        let settings = AlertsSettings {
            mailbox_minutes: 30,
            outgoing_minutes: 10,
        };
        assert_eq!(
            alarm_reason(&row("mailbox", None, false, now), &settings, now),
            None
        );
        assert_eq!(
            alarm_reason(&row("mailbox", Some(29), false, now), &settings, now),
            None
        );
        let due = alarm_reason(&row("mailbox", Some(30), false, now), &settings, now).unwrap();
        assert!(
            due.starts_with("failing for 30 minutes (alerts.mailbox_minutes is 30)"),
            "{due}"
        );
        assert!(alarm_reason(&row("outgoing", Some(10), false, now), &settings, now).is_some());
        let refused = alarm_reason(&row("mailbox", Some(0), true, now), &settings, now).unwrap();
        assert!(refused.starts_with("the sign-in was refused"), "{refused}");
        // Not read for the limit: the daemon is not running, or its reader hangs.
        let mut stale = row("mailbox", None, false, now);
        stale.last_ok_at = Some(now - Duration::minutes(31));
        let why = alarm_reason(&stale, &settings, now).unwrap();
        assert!(
            why.starts_with("the mailbox has not been read for 31 minutes"),
            "{why}"
        );
        stale.last_ok_at = Some(now - Duration::minutes(5));
        assert_eq!(alarm_reason(&stale, &settings, now), None);
        // An outbox with nothing to send is no alarm however long it has been.
        let mut quiet = row("outgoing", None, false, now);
        quiet.last_ok_at = Some(now - Duration::days(3));
        assert_eq!(alarm_reason(&quiet, &settings, now), None);
    }
}
