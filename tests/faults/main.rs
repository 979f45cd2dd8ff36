//! Faults, survived quietly: the real daemon (`minuted run`) against real PostgreSQL,
//! with faults injected while mail flows. Each case asserts that nothing was lost or done
//! twice, a bound on the log lines the fault caused, and how soon work resumed.
//!
//! Mail comes in through a Maildir (written atomically, as a delivery agent does) and
//! goes out through the file transport or an `smtp-sink`, so what the daemon did is read
//! from files without asking the database, which some cases take away.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod rig;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rig::*;

#[test]
fn the_private_postmaster_killed_is_restarted_and_mail_after_it_is_filed_within_15_s() {
    let dir = workdir("minuted-fault-postmaster");
    write_config(dir.path(), None, "");
    let daemon = Daemon::start(dir.path(), &[]);
    let before = ids("before", 2);
    for id in &before {
        deliver(dir.path(), id);
    }
    wait_acknowledged(dir.path(), &before, Duration::from_secs(30));

    // The OOM killer takes the postmaster.
    let var = dir.path().join("var/postgres");
    let server_dir = std::fs::read_to_string(var.join("server-dir"))
        .map(|t| PathBuf::from(t.trim()))
        .unwrap_or(var.clone());
    let pid_text = std::fs::read_to_string(server_dir.join("data/postmaster.pid")).unwrap();
    let pid: i32 = pid_text.lines().next().unwrap().trim().parse().unwrap();
    let lines_before = daemon.lines().len();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();

    let after = ids("after", 2);
    for id in &after {
        deliver(dir.path(), id);
    }
    let mut all = before.clone();
    all.extend(after);
    let took = wait_acknowledged(dir.path(), &all, Duration::from_secs(15));
    daemon.wait_for_log(
        "the private PostgreSQL cluster was restarted",
        lines_before,
        Duration::from_secs(1),
    );
    let caused = daemon.lines().len() - lines_before;
    assert!(
        caused < 200,
        "{caused} log lines after the kill:\n{}",
        daemon.lines()[lines_before..].join("\n")
    );
    eprintln!("filed within {took:?} of the kill; {caused} log lines");
    assert!(daemon.stop().success());
}

#[test]
fn an_external_postgresql_stopped_for_10_s_loses_nothing_does_nothing_twice_and_logs_little() {
    let dir = workdir("minuted-fault-pg");
    let pg = OwnPostgres::start(dir.path());
    let port = free_port();
    write_config(
        dir.path(),
        Some(&pg.url()),
        &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let daemon = Daemon::start(dir.path(), &[]);
    let (status, body) = http_get(port, "/readyz");
    assert_eq!(status, 200, "{body}");
    let before = ids("before", 3);
    for id in &before {
        deliver(dir.path(), id);
    }
    wait_acknowledged(dir.path(), &before, Duration::from_secs(30));

    pg.stop_server();
    let lines_before = daemon.lines().len();
    let during = ids("during", 3);
    for id in &during {
        deliver(dir.path(), id);
    }
    std::thread::sleep(Duration::from_secs(10));
    let caused = daemon.lines().len() - lines_before;
    assert!(
        caused < 200,
        "{caused} log lines in a 10 s outage:\n{}",
        daemon.lines()[lines_before..].join("\n")
    );
    // Nothing was lost meanwhile: the messages wait in the Maildir.
    let waiting = std::fs::read_dir(dir.path().join("mail/inbox/new"))
        .unwrap()
        .count();
    assert_eq!(waiting, 3);
    // The process is up; it is not ready, and says why.
    assert_eq!(http_get(port, "/healthz").0, 200);
    let (status, body) = http_get(port, "/readyz");
    assert_eq!(status, 503, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["database"]["up"], false, "{ready}");
    assert!(
        !ready["database"]["error"].as_str().unwrap().is_empty(),
        "{ready}"
    );
    let (status, metrics) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("minuted_database_up 0"), "{metrics}");

    pg.start_server();
    let after = ids("after", 3);
    for id in &after {
        deliver(dir.path(), id);
    }
    let mut all = before;
    all.extend(during);
    all.extend(after);
    let took = wait_acknowledged(dir.path(), &all, Duration::from_secs(60));
    eprintln!("{caused} log lines in the outage; all filed {took:?} after the restart");
    let (status, body) = http_get(port, "/readyz");
    assert_eq!(status, 200, "ready again: {body}");
    assert!(daemon.stop().success());
}

#[test]
fn killed_while_filing_each_message_is_filed_and_acknowledged_exactly_once() {
    let dir = workdir("minuted-fault-kill");
    let database = fresh_database();
    write_config(dir.path(), Some(&database), "");
    let all = ids("m", 40);
    for id in &all {
        deliver(dir.path(), id);
    }
    // Killed (SIGKILL) part-way through: some filed, some not.
    let daemon = Daemon::start(dir.path(), &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged(dir.path()).len() < 5 {
        assert!(Instant::now() < deadline, "nothing was filed");
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.kill();
    let part = acknowledged(dir.path()).len();
    let daemon = Daemon::start(dir.path(), &[]);
    wait_acknowledged(dir.path(), &all, Duration::from_secs(60));
    eprintln!("{part} of {} acknowledged when killed", all.len());
    assert!(daemon.stop().success());
}

#[test]
fn a_full_outbox_directory_is_retried_and_every_message_written_once_space_returns() {
    let dir = workdir("minuted-fault-full");
    let database = fresh_database();
    let outbox = dir.path().join("mail/outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&outbox)
        .status()
        .unwrap();
    assert!(
        mounted.success(),
        "cannot mount a tmpfs at {}",
        outbox.display()
    );
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(outbox.clone());
    // Full: one file takes all the space.
    let filler = outbox.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=4k", "count=1000"])
        .arg(format!("of={}", filler.display()))
        .stderr(Stdio::null())
        .status();
    write_config(dir.path(), Some(&database), "");
    // A fast clock: retries after a minute come after about a second.
    let now = minuted::clock::Clock::System.now().to_rfc3339();
    let daemon = Daemon::start(dir.path(), &["--clock-start", &now, "--clock-rate", "60"]);
    let all = ids("full", 4);
    for id in &all {
        deliver(dir.path(), id);
    }
    daemon.wait_for_log("outbox message will be retried", 0, Duration::from_secs(30));
    assert!(acknowledged(dir.path()).is_empty());

    std::fs::remove_file(&filler).unwrap();
    wait_acknowledged(dir.path(), &all, Duration::from_secs(60));
    let out = Command::new(BIN)
        .env_remove("MINUTED_CONFIG")
        .args(["--config"])
        .arg(dir.path().join("minuted.toml"))
        .args(["outbox", "list", "--json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), all.len(), "{rows:?}");
    assert!(rows.iter().all(|r| r["status"] == "sent"), "{rows:?}");
    assert!(daemon.stop().success());
}

#[test]
fn the_mail_server_down_for_30_s_each_message_is_sent_exactly_once_afterwards() {
    let dir = workdir("minuted-fault-smtp");
    let database = fresh_database();
    let port = support::free_port();
    let dumps = dir.path().join("sink");
    write_config(dir.path(), Some(&database), "");
    // The config's [outgoing] section is the file transport's: point it at the sink.
    let config = std::fs::read_to_string(dir.path().join("minuted.toml")).unwrap();
    let config = config.replace(
        &format!("[outgoing]\npath = \"{}/mail/outbox\"\n", dir.path().display()),
        &format!("[outgoing]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"plain\"\n"),
    );
    std::fs::write(dir.path().join("minuted.toml"), config).unwrap();
    let sink = Sink::start(port, &dumps);
    // A fast clock: retries minutes apart come seconds apart.
    let now = minuted::clock::Clock::System.now().to_rfc3339();
    let daemon = Daemon::start(dir.path(), &["--clock-start", &now, "--clock-rate", "60"]);
    let before = ids("before", 3);
    for id in &before {
        deliver(dir.path(), id);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while delivered(&dumps).len() < before.len() {
        assert!(
            Instant::now() < deadline,
            "not sent: {:?}",
            delivered(&dumps)
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The mail server goes away for 30 s while more mail is due.
    drop(sink);
    let lines_before = daemon.lines().len();
    let during = ids("during", 5);
    for id in &during {
        deliver(dir.path(), id);
    }
    std::thread::sleep(Duration::from_secs(30));
    let caused = daemon.lines().len() - lines_before;
    assert!(caused < 200, "{caused} log lines while the server was down");
    let _sink = Sink::start(port, &dumps);

    let mut all = before;
    all.extend(during);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = delivered(&dumps);
        if all.iter().all(|id| got.contains(id)) {
            for id in &all {
                let times = got.iter().filter(|g| *g == id).count();
                assert_eq!(times, 1, "{id} sent {times} times");
            }
            assert_eq!(got.len(), all.len(), "{got:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not all sent after the server came back: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(daemon.stop().success());
}

/// Rows of `kind` per recipient.
fn per_recipient(
    rows: &[serde_json::Value],
    kind: &str,
) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for row in rows.iter().filter(|r| r["kind"] == kind) {
        *counts
            .entry(row["to"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    counts
}

#[test]
fn killed_while_applying_an_approval_each_member_gets_one_circulation() {
    let dir = workdir("minuted-fault-approve");
    let database = fresh_database();
    // No undo window: circulation is queued with the approval.
    write_config(
        dir.path(),
        Some(&database),
        "[approval]\nundo_minutes = 0\n",
    );
    let daemon = Daemon::start(dir.path(), &[]);
    let draft = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml/draft_minutes.eml"),
    )
    .unwrap();
    deliver_raw(dir.path(), "draft", &draft);
    let deadline = Instant::now() + Duration::from_secs(60);
    let request = loop {
        if let Some(found) = outbox_emails(dir.path()).into_iter().find(|e| {
            header(e, "Subject").is_some_and(|s| s.starts_with("Approval needed"))
                && header(e, "To").is_some_and(|t| t.contains("lcjb-secretariat@mopac.example"))
        }) {
            break found;
        }
        assert!(Instant::now() < deadline, "no approval request");
        std::thread::sleep(Duration::from_millis(100));
    };
    let reply_to = header(&request, "Reply-To").unwrap();
    let parent = header(&request, "Message-ID").unwrap();
    let approve = format!(
        "From: LCJB Secretariat <lcjb-secretariat@mopac.example>\r\nTo: {reply_to}\r\n\
         Subject: Re: {subject}\r\nDate: Mon, 27 Nov 2023 15:05:00 +0000\r\n\
         Message-ID: <approve-{id}@mopac.example>\r\nIn-Reply-To: {parent}\r\nReferences: {parent}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAPPROVE\r\n",
        subject = header(&request, "Subject").unwrap(),
        id = support::unique_name("a"),
    );
    deliver_raw(dir.path(), "approve", approve.as_bytes());
    // Killed while the reply is read, filed and applied.
    std::thread::sleep(Duration::from_millis(700));
    daemon.kill();
    let daemon = Daemon::start(dir.path(), &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let circulated = loop {
        let rows = outbox_rows(dir.path());
        let circulation = per_recipient(&rows, "circulation");
        let settled = rows
            .iter()
            .filter(|r| r["kind"] == "circulation")
            .all(|r| r["status"] == "sent");
        if !circulation.is_empty() && settled {
            break circulation;
        }
        assert!(Instant::now() < deadline, "no circulation: {rows:?}");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(circulated.len() > 5, "{circulated:?}");
    assert!(circulated.values().all(|n| *n == 1), "{circulated:?}");
    let files = outbox_emails(dir.path())
        .into_iter()
        .filter(|e| header(e, "Subject").is_some_and(|s| s.starts_with("Approved minutes")))
        .count();
    assert_eq!(files, circulated.len());
    assert!(daemon.stop().success());
}

#[test]
fn killed_while_firing_the_schedule_each_organisation_gets_one_update_request() {
    let dir = workdir("minuted-fault-schedule");
    let database = fresh_database();
    write_config(dir.path(), Some(&database), "");
    let config = std::fs::read_to_string(dir.path().join("minuted.toml")).unwrap();
    let config = config.replace(
        "[schedule]\nenabled = false\n",
        "[schedule]\ntick_seconds = 1\n",
    );
    std::fs::write(dir.path().join("minuted.toml"), config).unwrap();
    // 3 December 2023, 09:00 in London: the update requests for 13 December are due.
    let daemon = Daemon::start(dir.path(), &["--clock-start", "2023-12-03T09:00:05Z"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while per_recipient(&outbox_rows(dir.path()), "update_request").is_empty() {
        assert!(Instant::now() < deadline, "no update request");
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.kill();
    let daemon = Daemon::start(dir.path(), &["--clock-start", "2023-12-03T09:00:30Z"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new(BIN)
            .env_remove("MINUTED_CONFIG")
            .arg("--config")
            .arg(dir.path().join("minuted.toml"))
            .args(["schedule", "list", "--json"])
            .output()
            .unwrap();
        let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let requests: Vec<&serde_json::Value> = jobs
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["kind"] == "update_request")
            .collect();
        if !requests.is_empty() && requests.iter().all(|j| j["status"] != "pending") {
            assert!(
                requests.iter().all(|j| j["status"] == "fired"),
                "{requests:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "update requests still pending: {jobs}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let requests = per_recipient(&outbox_rows(dir.path()), "update_request");
    assert!(requests.len() > 3, "{requests:?}");
    assert!(requests.values().all(|n| *n == 1), "{requests:?}");
    assert!(daemon.stop().success());
}
