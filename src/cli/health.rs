//! `minuted health [--json]`: whether mail flows. Exits non-zero when anything is in
//! alarm: an alarm the daemon opened, or a condition that is due one now (so the answer
//! holds even while the daemon is stopped).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{print_json, print_text, with_database, Output};
use crate::alerts;
use crate::config::Loaded;
use crate::store::health::{self, FolderContact, HealthRow};
use crate::store::tokens::{self, TokenState};

#[derive(Debug, Serialize)]
struct Health {
    /// False when anything is in alarm.
    ok: bool,
    checked_at: DateTime<Utc>,
    /// `up`; when the database is down, `health` prints only `ok`, `checked_at` and
    /// `database` (`up: false` with the `error`).
    database: DatabaseState,
    alarms: Vec<Alarm>,
    mailbox: Option<HealthRow>,
    /// Each folder's last successful read.
    folders: Vec<FolderContact>,
    outgoing: Option<HealthRow>,
    /// OAuth 2.0 accounts: flow, token expiry, last refresh, last error; never a token.
    sign_in: Vec<TokenState>,
    outbox: OutboxHealth,
    triage: TriageHealth,
    schedule: ScheduleHealth,
}

#[derive(Debug, Serialize)]
struct Alarm {
    service: String,
    since: DateTime<Utc>,
    reason: String,
    /// Whether the daemon opened it (and emailed the secretariat); false for a condition
    /// this check found that no daemon has acted on yet.
    notified: bool,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct OutboxHealth {
    /// Messages not yet sent, failed or expired (pending, retrying, unknown, held, sending).
    backlog: i64,
    /// Of those, due now.
    due: i64,
    /// The oldest due message's due time.
    oldest_due_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct TriageHealth {
    /// Messages waiting for a person.
    waiting: i64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct ScheduleHealth {
    /// Jobs past their due time and not yet done.
    overdue: i64,
    oldest_due_at: Option<DateTime<Utc>>,
    /// How far behind the schedule runs: now minus the oldest overdue job's due time.
    lag_seconds: i64,
}

/// What `health` says when the database itself is down.
#[derive(Debug, Serialize)]
struct DatabaseDown {
    ok: bool,
    checked_at: DateTime<Utc>,
    database: DatabaseState,
}

#[derive(Debug, Serialize)]
struct DatabaseState {
    up: bool,
    error: String,
}

pub async fn run(output: Output, loaded: &Loaded) -> anyhow::Result<()> {
    let now = crate::clock::Clock::System.now();
    let settings = &loaded.settings.alerts;
    // A database that is down is reported, never started (a private cluster) by asking.
    if let Err(error) = crate::database::probe(&loaded.settings).await {
        let down = DatabaseDown {
            ok: false,
            checked_at: now,
            database: DatabaseState {
                up: false,
                error: error.clone(),
            },
        };
        if output.json {
            print_json(&down)?;
        } else {
            print_text(&format!("ALARM\n  database: down: {error}\n"))?;
        }
        anyhow::bail!("in alarm: database")
    }
    let health = with_database(loaded, async |pool| {
        let mut conn = pool.acquire().await?;
        let services = health::services(&mut conn).await?;
        let open = health::open_alarms(&mut conn).await?;
        let mut alarms: Vec<Alarm> = open
            .into_iter()
            .map(|a| Alarm {
                service: a.service,
                since: a.opened_at,
                reason: a.reason,
                notified: true,
            })
            .collect();
        for row in &services {
            if alarms.iter().any(|a| a.service == row.service) {
                continue;
            }
            if let Some(reason) = alerts::alarm_reason(row, settings, now) {
                alarms.push(Alarm {
                    service: row.service.clone(),
                    since: row.failing_since.or(row.last_error_at).unwrap_or(now),
                    reason,
                    notified: false,
                });
            }
        }
        let outbox: OutboxHealth = sqlx::query_as(
            "SELECT count(*) AS backlog,
                    count(*) FILTER (WHERE status IN ('pending', 'retrying', 'unknown')
                                     AND next_attempt_at <= $1) AS due,
                    min(next_attempt_at) FILTER (WHERE status IN ('pending', 'retrying', 'unknown')
                                                 AND next_attempt_at <= $1) AS oldest_due_at
             FROM outbox WHERE status IN ('pending', 'retrying', 'unknown', 'held', 'sending')",
        )
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        let triage: TriageHealth =
            sqlx::query_as("SELECT count(*) AS waiting FROM messages WHERE status = 'triage'")
                .fetch_one(&mut *conn)
                .await?;
        let schedule: ScheduleHealth = sqlx::query_as(
            "SELECT count(*) AS overdue, min(due_at) AS oldest_due_at,
                    COALESCE(EXTRACT(EPOCH FROM $1 - min(due_at))::BIGINT, 0) AS lag_seconds
             FROM schedule_jobs WHERE status = 'pending' AND due_at <= $1",
        )
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        Ok(Health {
            ok: alarms.is_empty(),
            checked_at: now,
            database: DatabaseState {
                up: true,
                error: String::new(),
            },
            alarms,
            mailbox: services.iter().find(|s| s.service == "mailbox").cloned(),
            folders: health::folder_contacts(&mut conn).await?,
            outgoing: services.iter().find(|s| s.service == "outgoing").cloned(),
            sign_in: tokens::states(&mut conn).await?,
            outbox,
            triage,
            schedule,
        })
    })
    .await?;
    if output.json {
        print_json(&health)?;
    } else {
        print_text(&text(&health))?;
    }
    if health.ok {
        Ok(())
    } else {
        let services: Vec<&str> = health.alarms.iter().map(|a| a.service.as_str()).collect();
        anyhow::bail!("in alarm: {}", services.join(", "))
    }
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "never".to_owned(),
        |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn text(health: &Health) -> String {
    let mut out = String::new();
    out.push_str(if health.ok {
        "OK: mail flows\n"
    } else {
        "ALARM\n"
    });
    for alarm in &health.alarms {
        let told = if alarm.notified {
            ""
        } else {
            " (not yet acted on by a daemon)"
        };
        out.push_str(&format!(
            "  {} since {}: {}{told}\n",
            alarm.service,
            when(Some(alarm.since)),
            alarm.reason
        ));
    }
    for (label, row) in [("mailbox", &health.mailbox), ("outgoing", &health.outgoing)] {
        match row {
            None => out.push_str(&format!("{label}: no contact recorded yet\n")),
            Some(row) => {
                out.push_str(&format!(
                    "{label}: {}, last good contact {}",
                    row.name,
                    when(row.last_ok_at)
                ));
                if let Some(since) = row.failing_since {
                    out.push_str(&format!(
                        "; failing since {}: {}",
                        when(Some(since)),
                        row.last_error.as_deref().unwrap_or_default()
                    ));
                }
                out.push('\n');
            }
        }
    }
    for folder in &health.folders {
        out.push_str(&format!(
            "  folder {}: read {}\n",
            folder.folder,
            when(Some(folder.last_ok_at))
        ));
    }
    for account in &health.sign_in {
        out.push_str(&format!(
            "sign-in {} ({}): token expires {}{}\n",
            account.account,
            account.flow,
            when(account.expires_at),
            account
                .last_error
                .as_ref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "outbox: {} waiting, {} due, oldest due {}\n",
        health.outbox.backlog,
        health.outbox.due,
        when(health.outbox.oldest_due_at)
    ));
    out.push_str(&format!("triage: {} waiting\n", health.triage.waiting));
    out.push_str(&format!(
        "schedule: {} jobs overdue, {} s behind\n",
        health.schedule.overdue, health.schedule.lag_seconds
    ));
    out
}
