//! A Dovecot restart while the worker is in IDLE: routine, not an error that stops it.
//!
//! The test runs a Dovecot of its own (the harness's configuration with other ports and
//! run directories, over the same mail root) so restarting it disturbs no other test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use minuted::clock::Clock;
use minuted::config::Security;
use minuted::ingest;
use minuted::shutdown::Shutdown;
use tokio::net::TcpStream;

use crate::helpers::*;
use crate::support;

struct PrivateDovecot {
    conf: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivateDovecot {
    fn start() -> PrivateDovecot {
        let shared = std::fs::read_to_string(support::env("MINUTED_TEST_DOVECOT_CONF")).unwrap();
        let dir = tempfile::Builder::new()
            .prefix("minuted-dovecot")
            .tempdir()
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let port = support::free_port();
        let imap_port = support::env("MINUTED_TEST_IMAP_PORT");
        let run = dir.path().join("run");
        let state = dir.path().join("state");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::create_dir_all(&state).unwrap();
        let mut conf = String::new();
        for line in shared.lines() {
            let trimmed = line.trim_start();
            let line = if trimmed.starts_with("instance_name") {
                format!(
                    "instance_name = minuted-restart-{}",
                    support::unique_name("d")
                )
            } else if trimmed.starts_with("base_dir") {
                format!("base_dir = {}", run.display())
            } else if trimmed.starts_with("state_dir") {
                format!("state_dir = {}", state.display())
            } else if trimmed.starts_with("log_path") {
                format!("log_path = {}", dir.path().join("dovecot.log").display())
            } else if trimmed == format!("port = {imap_port}") {
                format!("port = {port}")
            } else if trimmed.starts_with("port = ") {
                // IMAPS, LMTP, the SASL listener: ports of its own.
                format!("port = {}", support::free_port())
            } else {
                line.to_owned()
            };
            conf.push_str(&line);
            conf.push('\n');
        }
        let conf_path = dir.path().join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let dovecot = PrivateDovecot {
            conf: conf_path,
            port,
            _dir: dir,
        };
        dovecot.run(&[]);
        dovecot
    }

    fn run(&self, args: &[&str]) {
        let status = Command::new(support::env("MINUTED_TEST_DOVECOT_BIN"))
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "dovecot -c {} {args:?} failed",
            self.conf.display()
        );
    }

    async fn wait_listening(&self) {
        support::wait_for_port(self.port, Duration::from_secs(20)).await;
    }

    async fn wait_stopped(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "Dovecot did not stop"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The master's pid file goes last.
        let pid = self.conf.parent().unwrap().join("run/master.pid");
        while Path::new(&pid).exists() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "Dovecot did not stop"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for PrivateDovecot {
    fn drop(&mut self) {
        let _ = Command::new(support::env("MINUTED_TEST_DOVECOT_BIN"))
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .status();
    }
}

#[tokio::test]
async fn dovecot_down_for_30_s_during_idle_is_waited_out_and_ingestion_resumes() {
    let dovecot = PrivateDovecot::start();
    dovecot.wait_listening().await;
    let (_, pool) = database().await;
    let user = user();
    let mut settings = imap_settings(&user, Security::Plain);
    settings.port = Some(dovecot.port);
    settings.idle_seconds = 1500;
    settings.poll_seconds = 3600;

    let (stop, shutdown) = Shutdown::new();
    let worker = tokio::spawn(ingest::run_until_stopped(
        settings.clone(),
        None,
        pool.clone(),
        Clock::System,
        shutdown,
    ));
    append_all(
        &user,
        "INBOX",
        &[message("before-restart@x.example", "Before", "x")],
    )
    .await;
    wait_for_count(&pool, 1, Duration::from_secs(30)).await;

    // Down for 30 s: the worker retries with backoff meanwhile.
    dovecot.run(&["stop"]);
    dovecot.wait_stopped().await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(!worker.is_finished(), "the worker must wait out the outage");
    dovecot.run(&[]);
    dovecot.wait_listening().await;

    append_all(
        &user,
        "INBOX",
        &[message("after-restart@x.example", "After", "x")],
    )
    .await;
    wait_for_count(&pool, 2, Duration::from_secs(60)).await;
    assert!(!worker.is_finished(), "the worker must survive the restart");
    stop.send(true).unwrap();
    worker.await.unwrap().unwrap();
}
