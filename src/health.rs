//! Whether mail flows: the one answer behind `minuted health` and the HTTP `/readyz`.
//!
//! Something is in alarm when the daemon opened an alarm, or when a condition is due one
//! now (so the answer holds even while no daemon runs). This module reads; it opens no
//! alarm and sends nothing (that is [`crate::alerts`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::alerts;
use crate::config::AlertsSettings;
use crate::store::health::{self, FolderContact, HealthRow, OutboxHealth, ScheduleHealth};
use crate::store::tokens::{self, TokenState};

#[derive(Debug, Serialize)]
pub struct Health {
    /// False when anything is in alarm.
    pub ok: bool,
    pub checked_at: DateTime<Utc>,
    /// `up`; when the database is down, `health` prints only `ok`, `checked_at` and
    /// `database` (`up: false` with the `error`).
    pub database: DatabaseState,
    pub alarms: Vec<Alarm>,
    pub mailbox: Option<HealthRow>,
    /// Each folder's last successful read.
    pub folders: Vec<FolderContact>,
    pub outgoing: Option<HealthRow>,
    /// OAuth 2.0 accounts: flow, token expiry, last refresh, last error; never a token.
    pub sign_in: Vec<TokenState>,
    pub outbox: OutboxHealth,
    pub triage: TriageHealth,
    pub schedule: ScheduleHealth,
}

#[derive(Debug, Serialize)]
pub struct Alarm {
    pub service: String,
    pub since: DateTime<Utc>,
    pub reason: String,
    /// Whether the daemon opened it (and emailed the secretariat); false for a condition
    /// this check found that no daemon has acted on yet.
    pub notified: bool,
}

#[derive(Debug, Serialize)]
pub struct TriageHealth {
    /// Messages waiting for a person.
    pub waiting: i64,
}

/// What `health` says when the database itself is down.
#[derive(Debug, Serialize)]
pub struct DatabaseDown {
    pub ok: bool,
    pub checked_at: DateTime<Utc>,
    pub database: DatabaseState,
}

#[derive(Debug, Serialize)]
pub struct DatabaseState {
    pub up: bool,
    pub error: String,
}

/// What is true of mail now, read from the database at `now`.
pub async fn check(
    pool: &PgPool,
    settings: &AlertsSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<Health> {
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
        outbox: health::outbox(&mut conn, now).await?,
        triage: TriageHealth {
            waiting: health::triage_depth(&mut conn).await?,
        },
        schedule: health::schedule_lag(&mut conn, now).await?,
    })
}

impl DatabaseDown {
    pub fn new(error: String, now: DateTime<Utc>) -> Self {
        DatabaseDown {
            ok: false,
            checked_at: now,
            database: DatabaseState { up: false, error },
        }
    }
}
