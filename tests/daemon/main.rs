//! The `minuted` binary as an operator runs it: the daemon on its private PostgreSQL
//! cluster (started, shared, stopped on SIGTERM), `check-config`, and the registry
//! commands end to end. These tests run the real binary and the real PostgreSQL server
//! programs; they never use `database.url`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod surfaces;

const BIN: &str = env!("CARGO_BIN_EXE_minuted");

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A data directory the server's account can enter.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("minuted-daemon-test")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn minuted(data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("DATABASE_URL")
        .env_remove("MINUTED_CONFIG")
        .env("MINUTED__DATA_DIR", data_dir.join("var"))
        .env("RUST_LOG", "info")
        .current_dir(data_dir);
    command
}

fn run_ok(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{:?} failed: {}\n{}",
        command,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Starts `minuted run` and waits until it logs that it is running.
fn start_daemon(data_dir: &Path, extra_env: &[(&str, &str)]) -> (Child, mpsc::Receiver<String>) {
    let mut command = minuted(data_dir);
    command
        .arg("run")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[minuted] {line}");
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(remaining) {
            Ok(line) if line.contains("minuted is running") => break,
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                panic!("minuted did not report that it is running");
            }
        }
    }
    (child, receiver)
}

fn terminate(child: &mut Child) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("minuted did not exit within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The postmaster's pid file exists exactly while the server runs.
fn cluster_running(data_dir: &Path) -> bool {
    let pid_file = data_dir.join("var/postgres/data/postmaster.pid");
    let Ok(text) = std::fs::read_to_string(pid_file) else {
        return false;
    };
    let pid: i32 = text
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .parse()
        .unwrap_or(0);
    pid > 0 && Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn sigterm_stops_the_daemon_and_its_private_cluster_and_the_next_start_reuses_the_data() {
    let dir = data_dir();
    let lcjb = repo_file("deploy/examples/lcjb.toml");
    let (mut daemon, _logs) = start_daemon(
        dir.path(),
        &[("MINUTED__BOARD__FILE", lcjb.to_str().unwrap())],
    );
    assert!(
        cluster_running(dir.path()),
        "the private cluster runs under data_dir"
    );
    let (status, took) = terminate(&mut daemon);
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(took < Duration::from_secs(10), "took {took:?} to stop");
    assert!(!cluster_running(dir.path()), "postgres was left running");

    // The next start reuses the cluster: the board imported above is still there, and
    // `board show` (its own short-lived user of the cluster) stops it again afterwards.
    let shown = run_ok(minuted(dir.path()).args(["board", "show", "--json"]));
    let view: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(view["slug"], "lcjb", "{view}");
    assert!(
        !cluster_running(dir.path()),
        "board show left postgres running"
    );
}

#[test]
fn two_processes_share_one_private_cluster_and_the_last_one_out_stops_it() {
    let dir = data_dir();
    let (mut first, _first_logs) = start_daemon(dir.path(), &[]);
    let (mut second, _second_logs) = start_daemon(dir.path(), &[]);

    let (status, _) = terminate(&mut first);
    assert!(status.success());
    assert!(
        cluster_running(dir.path()),
        "the cluster stopped while the second daemon still used it"
    );
    let migrated = run_ok(minuted(dir.path()).arg("migrate"));
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("version"));
    assert!(cluster_running(dir.path()));

    let (status, _) = terminate(&mut second);
    assert!(status.success());
    assert!(!cluster_running(dir.path()), "postgres was left running");
}

#[test]
fn check_config_names_the_bad_key_and_exits_non_zero() {
    let dir = data_dir();
    let config = dir.path().join("minuted.toml");
    std::fs::write(
        &config,
        "[mailbox]\nsource = \"imap\"\nafter = \"delete\"\n[outgoing]\ntransport = \"smtp\"\n",
    )
    .unwrap();
    let output = minuted(dir.path())
        .args(["--config", config.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in ["mailbox.host", "mailbox.after", "outgoing.host"] {
        assert!(stderr.contains(key), "{key} not named in: {stderr}");
    }
    assert!(output.stdout.is_empty(), "errors go to stderr only");
}

#[test]
fn check_config_accepts_the_documented_example() {
    let dir = data_dir();
    let output = run_ok(
        minuted(dir.path())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("MINUTED_CONFIG", repo_file("deploy/minuted.example.toml"))
            .arg("check-config"),
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("configuration OK"));
}

#[test]
fn an_unknown_key_in_the_config_file_is_refused_with_its_line() {
    let dir = data_dir();
    let config = dir.path().join("minuted.toml");
    std::fs::write(
        &config,
        "data_dir = \"./var\"\n\n[outgoing]\nfrom_address = \"x\"\n",
    )
    .unwrap();
    let output = minuted(dir.path())
        .args(["--config", config.to_str().unwrap(), "run"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("minuted.toml:4:1"), "{stderr}");
    assert!(stderr.contains("from_address"), "{stderr}");
    assert!(!cluster_running(dir.path()));
}

#[test]
fn output_into_a_closed_pipe_is_not_a_crash_and_still_stops_the_cluster() {
    let dir = data_dir();
    run_ok(minuted(dir.path()).args([
        "board",
        "import",
        repo_file("deploy/examples/lcjb.toml").to_str().unwrap(),
    ]));
    // Both ends closed before minuted writes anything: `minuted board show 2>&1 | true`.
    let mut child = minuted(dir.path())
        .args(["board", "show", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(!cluster_running(dir.path()), "postgres was left running");
}

#[test]
fn a_data_dir_the_server_account_cannot_enter_still_works_when_run_as_root() {
    // As root, the postgres account cannot enter a 0700 directory, as it cannot enter a
    // checkout under /root.
    let private = tempfile::Builder::new()
        .prefix("minuted-private")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let (mut daemon, _logs) = start_daemon(private.path(), &[]);
    let note = private.path().join("var/postgres/server-dir");
    let server_dir = if nix::unistd::geteuid().is_root() {
        let server_dir = PathBuf::from(std::fs::read_to_string(&note).unwrap().trim());
        assert!(server_dir.join("data/PG_VERSION").is_file());
        Some(server_dir)
    } else {
        assert!(
            !note.exists(),
            "only root needs a separate server directory"
        );
        None
    };
    let (status, _) = terminate(&mut daemon);
    assert!(status.success(), "exit status after SIGTERM: {status}");
    if let Some(server_dir) = server_dir {
        assert!(
            !server_dir.join("data/postmaster.pid").exists(),
            "postgres was left running"
        );
        std::fs::remove_dir_all(server_dir).unwrap();
    }
}
