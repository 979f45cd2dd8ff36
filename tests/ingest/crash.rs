//! The real binary killed (SIGKILL) at random points while it ingests, restarted, and
//! killed again: in the end every message is stored exactly once.
//!
//! The suite uses a few hundred messages; `MINUTED_TEST_CRASH_MESSAGES=2000` (and
//! `MINUTED_TEST_CRASH_KILLS`) runs the full-size version.

use std::process::{Command, Stdio};
use std::time::Duration;

use rand::Rng;
use sqlx::PgPool;

use crate::helpers::*;
use crate::support;

fn from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// N messages of mixed sizes; every tenth has no Message-ID.
fn messages(n: usize) -> Vec<Vec<u8>> {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|i| {
            let filler = "Progress on the action continues as agreed. ".repeat(rng.gen_range(1..400));
            if i % 10 == 0 {
                format!(
                    "From: agency{i}@agency.example\r\nTo: lcjb@board.example\r\nSubject: no id {i}\r\n\r\n{i} {filler}\r\n"
                )
                .into_bytes()
            } else {
                message(&format!("crash-{i}@agency.example"), &format!("Update {i}"), &filler)
            }
        })
        .collect()
}

fn ingest_command(url: &str, envs: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_minuted"));
    command
        .args(["ingest", "--once"])
        .env_remove("MINUTED_CONFIG")
        .env("MINUTED__DATABASE__URL", url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command
}

/// Starts the binary `kills` times and SIGKILLs it at a random point, then lets one run
/// finish. The first kill comes during start-up; each later one once the stored count has
/// passed a random target, plus a few random milliseconds, so kills land before, inside
/// and just after a batch's commit. Returns the count after each kill.
async fn kill_and_restart(
    pool: &PgPool,
    url: &str,
    envs: &[(&str, String)],
    n: usize,
    kills: usize,
) -> Vec<i64> {
    let mut counts = Vec::new();
    for _ in 0..kills {
        let before = count(pool).await;
        let mut child = ingest_command(url, envs).spawn().unwrap();
        // Kill once the stored count has moved a random part of the way: a fixed delay
        // lands before the first commit or after the last on a machine of another speed.
        let remaining = (n as i64 - before).max(1);
        let target = before + rand::thread_rng().gen_range(1..=(remaining / 3).max(1));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while count(pool).await < target
            && child.try_wait().unwrap().is_none()
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let wait = rand::thread_rng().gen_range(0..20);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        // Child::kill sends SIGKILL: no handler, no cleanup.
        let _ = child.kill();
        child.wait().unwrap();
        counts.push(count(pool).await);
    }
    eprintln!("stored after each kill: {counts:?}");
    let status = ingest_command(url, envs).status().unwrap();
    assert!(status.success(), "the final ingest --once failed");
    counts
}

/// At least one kill must have landed while messages were still waiting, or the test
/// proved nothing.
fn assert_killed_midway(counts: &[i64], n: usize) {
    assert!(
        counts.iter().any(|&c| c > 0 && c < n as i64),
        "no kill landed mid-ingestion: {counts:?}"
    );
}

async fn assert_each_once(pool: &PgPool, n: usize) {
    assert_eq!(count(pool).await, n as i64);
    let (with_id, distinct_ids, distinct_bytes): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(message_id), count(DISTINCT message_id), count(DISTINCT raw_sha256) FROM messages",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(with_id, distinct_ids);
    assert_eq!(distinct_bytes, n as i64);
    assert_eq!(with_id as usize, n - n.div_ceil(10));
}

#[tokio::test]
async fn the_binary_killed_mid_batch_over_imap_still_stores_every_message_once() {
    let n = from_env("MINUTED_TEST_CRASH_MESSAGES", 300);
    let kills = from_env("MINUTED_TEST_CRASH_KILLS", 5);
    let (url, pool) = database().await;
    let user = user();
    append_all(&user, "INBOX", &messages(n)).await;
    let envs = [
        ("MINUTED__MAILBOX__SOURCE", "imap".to_owned()),
        (
            "MINUTED__MAILBOX__HOST",
            support::env("MINUTED_TEST_IMAP_HOST"),
        ),
        (
            "MINUTED__MAILBOX__PORT",
            support::env("MINUTED_TEST_IMAP_PORT"),
        ),
        ("MINUTED__MAILBOX__SECURITY", "plain".to_owned()),
        ("MINUTED__MAILBOX__USERNAME", user.clone()),
        (
            "MINUTED__MAILBOX__PASSWORD",
            support::env("MINUTED_TEST_IMAP_PASSWORD"),
        ),
    ];
    let counts = kill_and_restart(&pool, &url, &envs, n, kills).await;
    assert_killed_midway(&counts, n);
    assert_each_once(&pool, n).await;
    assert!(
        search(&user, "INBOX", "UNSEEN").await.is_empty(),
        "every stored message is flagged"
    );
    assert_eq!(
        search(&user, "INBOX", "ALL").await.len(),
        n,
        "nothing deleted"
    );
}

#[tokio::test]
async fn the_binary_killed_mid_batch_on_a_maildir_still_stores_every_message_once() {
    let n = from_env("MINUTED_TEST_CRASH_MESSAGES", 300);
    let kills = from_env("MINUTED_TEST_CRASH_KILLS", 5);
    let (url, pool) = database().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("inbox");
    std::fs::create_dir_all(root.join("new")).unwrap();
    for (i, raw) in messages(n).iter().enumerate() {
        std::fs::write(
            root.join("new")
                .join(format!("{:010}.M{i}P1.test", 1_700_000_000 + i)),
            raw,
        )
        .unwrap();
    }
    let envs = [
        ("MINUTED__MAILBOX__SOURCE", "maildir".to_owned()),
        ("MINUTED__MAILBOX__PATH", root.display().to_string()),
    ];
    let counts = kill_and_restart(&pool, &url, &envs, n, kills).await;
    assert_killed_midway(&counts, n);
    assert_each_once(&pool, n).await;
    assert_eq!(std::fs::read_dir(root.join("new")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(root.join("cur")).unwrap().count(), n);
}
