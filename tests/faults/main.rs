//! Faults, survived quietly: the real daemon (`minuted run`) against real PostgreSQL,
//! with faults injected while mail flows. Each case asserts that nothing was lost or done
//! twice, a bound on the log lines the fault caused, and how soon work resumed.
//!
//! Mail comes in through a Maildir (written atomically, as a delivery agent does) and
//! goes out through the file transport, so what the daemon did is read from files
//! without asking the database, which some cases take away.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_minuted");
/// A member of the example board (deploy/examples/lcjb.toml).
const MEMBER: &str = "sadiq.khan@london.example";

/// A directory the database server's account can enter.
fn workdir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A running `minuted run`, its log in `dir/daemon.log`.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts the daemon on `dir/minuted.toml` (plus `args` before `run`) and waits until
    /// it is running.
    fn start(dir: &Path, args: &[&str]) -> Daemon {
        let log = dir.join("daemon.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(BIN)
            .env_remove("DATABASE_URL")
            .env_remove("MINUTED_CONFIG")
            .env("RUST_LOG", "info")
            .arg("--config")
            .arg(dir.join("minuted.toml"))
            .args(args)
            .arg("run")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        let daemon = Daemon { child, log };
        let before = 0;
        daemon.wait_for_log("minuted is running", before, Duration::from_secs(60));
        daemon
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn wait_for_log(&self, text: &str, after_line: usize, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if self
                .lines()
                .iter()
                .skip(after_line)
                .any(|l| l.contains(text))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no \"{text}\" in the log within {within:?}:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, and the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        self.child.wait().unwrap()
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The config of a daemon whose mail is in `dir/mail`; `database` adds `[database]`.
fn write_config(dir: &Path, database: Option<&str>, extra: &str) {
    let registry = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let database =
        database.map_or_else(String::new, |url| format!("[database]\nurl = \"{url}\"\n"));
    std::fs::write(
        dir.join("minuted.toml"),
        format!(
            "data_dir = \"{d}/var\"\n{database}[board]\nfile = \"{r}\"\n\
             [mailbox]\npath = \"{d}/mail/inbox\"\npoll_seconds = 1\n\
             [outgoing]\npath = \"{d}/mail/outbox\"\n[schedule]\nenabled = false\n{extra}",
            d = dir.display(),
            r = registry.display(),
        ),
    )
    .unwrap();
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(dir.join("mail/inbox").join(sub)).unwrap();
    }
}

/// Delivers a written update from a member, as a delivery agent does (tmp/, then new/).
fn deliver(dir: &Path, id: &str) {
    let raw = format!(
        "From: Sadiq Khan <{MEMBER}>\r\nTo: lcjb@board.example\r\n\
         Subject: Written update for the next meeting ({id})\r\n\
         Date: Mon, 4 Dec 2023 09:00:00 +0000\r\nMessage-ID: <{id}@london.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Our written update for the next meeting: all on track.\r\n"
    );
    let inbox = dir.join("mail/inbox");
    let tmp = inbox.join("tmp").join(format!("{id}.eml"));
    std::fs::write(&tmp, raw).unwrap();
    std::fs::rename(&tmp, inbox.join("new").join(format!("{id}.eml"))).unwrap();
}

/// How many acknowledgements (files in the outbox) answer message `id`.
fn acknowledged(dir: &Path) -> std::collections::HashMap<String, usize> {
    let mut found = std::collections::HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir.join("mail/outbox")) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "eml") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if let Some(start) = text.find("In-Reply-To: <") {
                let rest = &text[start + 14..];
                let id = rest.split('@').next().unwrap_or_default().to_owned();
                *found.entry(id).or_default() += 1;
            }
        }
    }
    found
}

/// Waits until every one of `ids` has been acknowledged; then each exactly once.
fn wait_acknowledged(dir: &Path, ids: &[String], within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let found = acknowledged(dir);
        if ids.iter().all(|id| found.contains_key(id)) {
            for id in ids {
                assert_eq!(found[id], 1, "{id} acknowledged {} times", found[id]);
            }
            assert_eq!(
                found.len(),
                ids.len(),
                "acknowledgements of other messages: {found:?}"
            );
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "not every message was acknowledged within {within:?}: {found:?} of {ids:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A database of its own on the test server (the daemon migrates it).
fn fresh_database() -> String {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let (url, pool) = support::fresh_database().await;
        pool.close().await;
        url
    })
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| support::unique_name(&format!("{prefix}{i}")))
        .collect()
}

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

/// A PostgreSQL server of the test's own, which it stops and starts.
struct OwnPostgres {
    bindir: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    fn start(dir: &Path) -> OwnPostgres {
        let bindir = minuted::database::ServerBinaries::find().unwrap().bindir;
        let as_postgres = nix::unistd::Uid::effective().is_root();
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).unwrap();
        if as_postgres {
            Command::new("chown")
                .arg("postgres:")
                .arg(&data)
                .status()
                .unwrap();
        }
        let pg = OwnPostgres {
            bindir,
            data,
            port: support::free_port(),
            as_postgres,
        };
        let data = pg.data.display().to_string();
        pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        pg.start_server();
        pg
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bindir.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start_server(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='' -c fsync=off",
            self.port
        );
        let data = self.data.display().to_string();
        let log = self.data.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &["start", "-D", &data, "-l", &log, "-w", "-s", "-o", &options],
        );
    }

    fn stop_server(&self) {
        let data = self.data.display().to_string();
        self.run("pg_ctl", &["stop", "-D", &data, "-m", "fast", "-w", "-s"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let path = self.bindir.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let _ = command
            .args(["stop", "-D", &data, "-m", "immediate", "-s"])
            .output();
    }
}

#[test]
fn an_external_postgresql_stopped_for_10_s_loses_nothing_does_nothing_twice_and_logs_little() {
    let dir = workdir("minuted-fault-pg");
    let pg = OwnPostgres::start(dir.path());
    write_config(dir.path(), Some(&pg.url()), "");
    let daemon = Daemon::start(dir.path(), &[]);
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

/// An `smtp-sink` on `port` dumping each message into `dir`; killed when dropped.
struct Sink(Child);

impl Sink {
    fn start(port: u16, dir: &Path) -> Sink {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let mut command = Command::new(support::env("MINUTED_TEST_SMTP_SINK"));
        if nix::unistd::geteuid().is_root() {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .arg("-d")
            .arg(dir.join("m"))
            .arg(format!("127.0.0.1:{port}"))
            .arg("64")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "smtp-sink did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Sink(child)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The In-Reply-To of every message the sink took, one entry per delivery.
fn delivered(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .filter_map(|text| {
            let start = text.find("In-Reply-To: <")? + 14;
            Some(text[start..].split('@').next()?.to_owned())
        })
        .collect()
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
