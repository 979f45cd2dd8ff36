//! The rig the fault suite and the soak benchmark share: the real daemon (`minuted
//! run`) on a config of its own, mail delivered into its Maildir as a delivery agent
//! does, a PostgreSQL server of its own to stop and start, an `smtp-sink` to take away,
//! and what was acknowledged, read from files without asking the database.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;

pub const BIN: &str = env!("CARGO_BIN_EXE_minuted");
/// A member of the example board (deploy/examples/lcjb.toml).
pub const MEMBER: &str = "sadiq.khan@london.example";

/// A directory the database server's account can enter.
pub fn workdir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// A running `minuted run`, its log in `dir/daemon.log`.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts the daemon on `dir/minuted.toml` (plus `args` before `run`) and waits until
    /// it is running.
    pub fn start(dir: &Path, args: &[&str]) -> Daemon {
        let log = dir.join("daemon.log");
        // A restarted daemon appends to the log: wait for its own start.
        let before = std::fs::read_to_string(&log).map_or(0, |t| t.lines().count());
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
        daemon.wait_for_log("minuted is running", before, Duration::from_secs(60));
        daemon
    }

    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn wait_for_log(&self, text: &str, after_line: usize, within: Duration) {
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
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        self.child.wait().unwrap()
    }

    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The config of a daemon whose mail is in `dir/mail`; `database` adds `[database]`.
pub fn write_config(dir: &Path, database: Option<&str>, extra: &str) {
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
pub fn deliver(dir: &Path, id: &str) {
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

/// Delivers `raw` as message `name`, as a delivery agent does (tmp/, then new/).
pub fn deliver_raw(dir: &Path, name: &str, raw: &[u8]) {
    let inbox = dir.join("mail/inbox");
    let tmp = inbox.join("tmp").join(format!("{name}.eml"));
    std::fs::write(&tmp, raw).unwrap();
    std::fs::rename(&tmp, inbox.join("new").join(format!("{name}.eml"))).unwrap();
}

/// How many acknowledgements (files in the outbox) answer message `id`.
pub fn acknowledged(dir: &Path) -> std::collections::HashMap<String, usize> {
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
pub fn wait_acknowledged(dir: &Path, ids: &[String], within: Duration) -> Duration {
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
pub fn fresh_database() -> String {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let (url, pool) = support::fresh_database().await;
        pool.close().await;
        url
    })
}

pub fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| support::unique_name(&format!("{prefix}{i}")))
        .collect()
}

/// A PostgreSQL server of the test's own, which it stops and starts.
pub struct OwnPostgres {
    bindir: PathBuf,
    data: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    pub fn start(dir: &Path) -> OwnPostgres {
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

    pub fn run(&self, program: &str, args: &[&str]) {
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

    pub fn start_server(&self) {
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

    pub fn stop_server(&self) {
        let data = self.data.display().to_string();
        self.run("pg_ctl", &["stop", "-D", &data, "-m", "fast", "-w", "-s"]);
    }

    pub fn url(&self) -> String {
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

/// An `smtp-sink` on `port` dumping each message into `dir`; killed when dropped.
pub struct Sink(Child);

impl Sink {
    pub fn start(port: u16, dir: &Path) -> Sink {
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
pub fn delivered(dir: &Path) -> Vec<String> {
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

/// (In-Reply-To, Message-ID) of every message the sink took, one entry per delivery.
pub fn delivered_with_ids(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let header = |text: &str, name: &str| -> Option<String> {
        let start = text.find(name)? + name.len();
        Some(
            text[start..]
                .lines()
                .next()?
                .trim()
                .trim_matches(['<', '>'])
                .to_owned(),
        )
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .filter_map(|text| {
            let about = header(&text, "In-Reply-To:")?;
            let about = about.split('@').next()?.to_owned();
            Some((about, header(&text, "\nMessage-ID:")?))
        })
        .collect()
}

/// Each email in the file outbox: (file name, its headers as `name: value` lines).
pub fn outbox_emails(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("mail/outbox")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension().is_some_and(|x| x == "eml"))
                .then(|| std::fs::read_to_string(&path).unwrap_or_default())
        })
        .collect()
}

/// The value of header `name` in a stored email (unfolded), if any.
pub fn header(email: &str, name: &str) -> Option<String> {
    let head = email.split("\r\n\r\n").next().unwrap_or(email);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// The rows of `minuted outbox list --json` for the daemon's config.
pub fn outbox_rows(dir: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(BIN)
        .env_remove("MINUTED_CONFIG")
        .arg("--config")
        .arg(dir.join("minuted.toml"))
        .args(["outbox", "list", "--limit", "10000", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` from the daemon's HTTP server on `port`: the status code and the body.
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}
