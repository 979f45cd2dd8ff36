//! `minuted health [--json]`: whether mail flows. Exits non-zero when anything is in
//! alarm: an alarm the daemon opened, or a condition that is due one now (so the answer
//! holds even while the daemon is stopped).

use chrono::{DateTime, Utc};

use super::{print_json, print_text, with_database, Output};
use crate::config::Loaded;
use crate::health::{DatabaseDown, Health};

pub async fn run(output: Output, loaded: &Loaded) -> anyhow::Result<()> {
    let now = crate::clock::Clock::System.now();
    let settings = &loaded.settings.alerts;
    // A database that is down is reported, never started (a private cluster) by asking.
    if let Err(error) = crate::database::probe(&loaded.settings).await {
        let down = DatabaseDown::new(error.clone(), now);
        if output.json {
            print_json(&down)?;
        } else {
            print_text(&format!("ALARM\n  database: down: {error}\n"))?;
        }
        anyhow::bail!("in alarm: database")
    }
    let health = with_database(loaded, async |pool| {
        crate::health::check(pool, settings, now).await
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
