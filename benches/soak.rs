//! Soak: mail flows into the real daemon (`minuted run`, release build) for ten minutes
//! while faults are injected at random — its PostgreSQL stopped for 10 s, its mail server
//! (`smtp-sink`) away for 20 s, the daemon killed (SIGKILL) and started again — then the
//! faults stop and the run waits for the daemon to catch up. It prints messages in,
//! messages filed, acknowledgements sent, duplicates (a message acknowledged by two
//! different emails: must be 0), resends (the same email delivered twice after a crash,
//! recognisable by its Message-ID), lost (never acknowledged: must be 0), peak RSS and log
//! lines per minute.
//!
//! Run it with `scripts/bench-soak.sh` (services from the test command, release build).
//! `MINUTED_SOAK_SECONDS` (default 600) and `MINUTED_SOAK_RATE` (messages a second,
//! default 5) change the run; `MINUTED_SOAK_SEED` fixes the faults' order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "../tests/faults/rig.rs"]
mod rig;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use rig::*;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let seconds: u64 = env_or("MINUTED_SOAK_SECONDS", 600);
    let rate: f64 = env_or("MINUTED_SOAK_RATE", 5.0);
    let seed: u64 = env_or("MINUTED_SOAK_SEED", 7);
    let mut rng = StdRng::seed_from_u64(seed);

    let dir = workdir("minuted-soak");
    let pg = OwnPostgres::start(dir.path());
    let port = support::free_port();
    let dumps = dir.path().join("sink");
    write_config(dir.path(), Some(&pg.url()), "");
    let config = std::fs::read_to_string(dir.path().join("minuted.toml")).unwrap();
    let config = config.replace(
        &format!("[outgoing]\npath = \"{}/mail/outbox\"\n", dir.path().display()),
        &format!(
            "[outgoing]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n"
        ),
    );
    std::fs::write(dir.path().join("minuted.toml"), config).unwrap();
    let mut sink = Some(Sink::start(port, &dumps));
    let mut daemon = Daemon::start(dir.path(), &[]);
    let mut peak = 0;
    let mut faults: HashMap<&str, u32> = HashMap::new();

    println!("soak: {seconds} s at {rate} messages/s, faults every 40-80 s (seed {seed})");
    let started = Instant::now();
    let every = Duration::from_secs_f64(1.0 / rate);
    let mut sent_in: Vec<String> = Vec::new();
    let mut next_fault = started + Duration::from_secs(rng.gen_range(40..80));
    // (what, when it ends)
    let mut ongoing: Option<(&str, Instant)> = None;
    while started.elapsed() < Duration::from_secs(seconds) {
        let id = support::unique_name("soak");
        deliver(dir.path(), &id);
        sent_in.push(id);
        peak = peak.max(peak_rss_kb(daemon.child.id()));
        let now = Instant::now();
        if let Some((what, until)) = ongoing {
            if now >= until {
                match what {
                    "database" => pg.start_server(),
                    "mail server" => sink = Some(Sink::start(port, &dumps)),
                    _ => {}
                }
                println!("  {:>4} s: {what} back", started.elapsed().as_secs());
                ongoing = None;
            }
        } else if now >= next_fault {
            let what = ["database", "mail server", "daemon"][rng.gen_range(0..3)];
            *faults.entry(what).or_default() += 1;
            println!("  {:>4} s: {what} down", started.elapsed().as_secs());
            match what {
                "database" => {
                    pg.stop_server();
                    ongoing = Some((what, now + Duration::from_secs(10)));
                }
                "mail server" => {
                    sink = None;
                    ongoing = Some((what, now + Duration::from_secs(20)));
                }
                _ => {
                    daemon.kill();
                    daemon = Daemon::start(dir.path(), &[]);
                }
            }
            next_fault = now + Duration::from_secs(rng.gen_range(40..80));
        }
        std::thread::sleep(every);
    }
    match ongoing {
        Some(("database", _)) => pg.start_server(),
        Some(("mail server", _)) => sink = Some(Sink::start(port, &dumps)),
        _ => {}
    }
    assert!(sink.is_some());

    // Catch up: every message acknowledged, or ten minutes.
    let flow_ended = Instant::now();
    let acknowledged = loop {
        let got = delivered(&dumps);
        let distinct: std::collections::HashSet<&String> = got.iter().collect();
        peak = peak.max(peak_rss_kb(daemon.child.id()));
        if sent_in.iter().all(|id| distinct.contains(id))
            || flow_ended.elapsed() > Duration::from_secs(600)
        {
            break got;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let caught_up = flow_ended.elapsed();
    let log_lines = daemon.lines().len();
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    assert!(daemon.stop().success());

    // By message: how many acknowledgement emails (distinct Message-IDs) and deliveries.
    let mut emails: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    let mut deliveries: HashMap<String, usize> = HashMap::new();
    for (about, message_id) in delivered_with_ids(&dumps) {
        emails.entry(about.clone()).or_default().insert(message_id);
        *deliveries.entry(about).or_default() += 1;
    }
    let lost = sent_in
        .iter()
        .filter(|id| !emails.contains_key(*id))
        .count();
    let duplicates = emails.values().filter(|ids| ids.len() > 1).count();
    let resends: usize = emails
        .iter()
        .map(|(about, ids)| deliveries[about] - ids.len())
        .sum();
    let filed: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let pool = sqlx::PgPool::connect(&pg.url()).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM filings WHERE current")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    println!("messages in          {}", sent_in.len());
    println!("messages filed       {filed}");
    println!(
        "acknowledgements     {} delivered ({} messages)",
        acknowledged.len(),
        emails.len()
    );
    println!("duplicates           {duplicates}");
    println!("resends (same id)    {resends}");
    println!("lost                 {lost}");
    println!("faults               {faults:?}");
    println!(
        "caught up            {:.0} s after the flow ended",
        caught_up.as_secs_f64()
    );
    println!("peak RSS             {:.1} MB", peak as f64 / 1024.0);
    println!("log lines per minute {:.1}", log_lines as f64 / minutes);
    assert_eq!(lost, 0, "messages never acknowledged");
    assert_eq!(duplicates, 0, "messages acknowledged twice");
}
