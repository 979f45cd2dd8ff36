//! Ingest benchmark: a Dovecot folder of 10,000 messages of mixed size (mostly 2–50 KB,
//! 1 % with a 1–5 MB attachment, plus one of about 45 MB, under the 50 MB limit, and one
//! of about 61 MB, over it) read by `mbsync` into a Maildir and by `minuted ingest --once`
//! into PostgreSQL (which files each message too, against the example board), in the
//! same run, over IMAPS to the same server. Prints messages/s, MB/s and peak RSS side by
//! side, then the IDLE latency of `minuted run` (append to stored).
//!
//! Run it with `scripts/bench-ingest.sh` (services from the test command, release build).
//! `MINUTED_BENCH_MESSAGES` changes the message count; `MINUTED_BENCH_INGEST_LOG` sets the
//! `RUST_LOG` filter of the measured `ingest --once`; `MINUTED_BENCH_DAEMON_LOG=FILE` keeps
//! the IDLE daemon's debug log (each wake, folder scan and fetch, timed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const BIN: &str = env!("CARGO_BIN_EXE_minuted");

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(run());
}

struct Measured {
    seconds: f64,
    peak_rss_kb: u64,
    output: String,
}

async fn run() {
    let n: usize = std::env::var("MINUTED_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let user = format!("{}@bench.example", support::unique_name("bench"));
    let (local, domain) = user.split_once('@').unwrap();
    let maildir = Path::new(&support::env("MINUTED_TEST_MAIL_ROOT"))
        .join(domain)
        .join(local);

    eprintln!(
        "writing {n} messages (+2 very large) into {}",
        maildir.display()
    );
    let (count, bytes) = fill_maildir(&maildir, n);
    let mb = bytes as f64 / 1_048_576.0;
    eprintln!("{count} messages, {mb:.1} MB");
    warm_up(&user, &maildir).await;

    let work = tempfile::Builder::new()
        .prefix("minuted-bench")
        .tempdir()
        .unwrap();
    let mbsync = run_mbsync(&user, work.path(), true);
    let mbsync_nofsync = run_mbsync(&user, work.path(), false);
    let (url, pool) = support::fresh_database().await;
    let minuted = run_minuted(&user, &url);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored as usize, count, "minuted stored {stored} of {count}");
    let database_bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&pool)
        .await
        .unwrap();
    let latencies = idle_latency(&user, &url, &pool).await;
    // The same on a folder of a few messages: the server's own cost of noticing and
    // opening a new message grows with the folder (Dovecot's Maildir rescans it).
    let small_user = format!("{}@bench.example", support::unique_name("idle"));
    support::imap_append(
        &small_user,
        "INBOX",
        b"From: a@x.example\r\nSubject: first\r\n\r\nx\r\n",
    )
    .await;
    let (small_url, small_pool) = support::fresh_database().await;
    let small_latencies = idle_latency(&small_user, &small_url, &small_pool).await;

    let row = |name: &str, m: &Measured| {
        format!(
            "{name:<22} {count:>9} {mb:>9.1} {:>9.2} {:>10.0} {:>8.1} {:>14.1}",
            m.seconds,
            count as f64 / m.seconds,
            mb / m.seconds,
            m.peak_rss_kb as f64 / 1024.0
        )
    };
    println!();
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>10} {:>8} {:>14}",
        "ingest (IMAPS)", "messages", "MB", "seconds", "msgs/s", "MB/s", "peak RSS (MB)"
    );
    println!("{}", row("mbsync -> Maildir", &mbsync));
    println!("{}", row("mbsync (FSync no)", &mbsync_nofsync));
    println!("{}", row("minuted ingest --once", &minuted));
    println!(
        "minuted / mbsync rate: {:.2} (FSync no: {:.2}; target >= 0.5); minuted peak RSS {:.1} MB (target < 150)",
        mbsync.seconds / minuted.seconds,
        mbsync_nofsync.seconds / minuted.seconds,
        minuted.peak_rss_kb as f64 / 1024.0
    );
    println!("minuted summary: {}", minuted.output.trim());
    println!(
        "database after ingest and filing: {:.0} MB for {mb:.0} MB of mail ({:.1} KB a message; stored, filed and indexed)",
        database_bytes as f64 / 1_048_576.0,
        database_bytes as f64 / 1024.0 / count as f64
    );
    for (folder, samples) in [
        (format!("the {count}-message folder"), latencies),
        ("a folder of a few messages".to_owned(), small_latencies),
    ] {
        let mut sorted = samples.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "IDLE latency, APPEND done to row stored, {folder} ({} samples): median {:.0} ms, max {:.0} ms (target < 1000)",
            sorted.len(),
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1]
        );
    }
}

/// Writes the messages straight into the user's Maildir (much faster than APPEND) and
/// hands them to the `mail` account Dovecot runs as. Returns (count, bytes).
fn fill_maildir(maildir: &Path, n: usize) -> (usize, u64) {
    let mut rng = StdRng::seed_from_u64(20231213);
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let mut bytes = 0u64;
    let mut count = 0usize;
    let mut write = |i: usize, raw: &[u8]| {
        let path = maildir
            .join("new")
            .join(format!("{}.M{i}P1.bench", 1_700_000_000 + i));
        std::fs::write(path, raw).unwrap();
        bytes += raw.len() as u64;
        count += 1;
    };
    for i in 0..n {
        let raw = if i % 100 == 50 {
            let size = rng.gen_range(1 << 20..5 << 20);
            with_attachment(&mut rng, i, size)
        } else if i % 5 == 0 {
            let size = rng.gen_range(1 << 10..30 << 10);
            with_attachment(&mut rng, i, size)
        } else {
            let size = rng.gen_range(2 << 10..50 << 10);
            text_message(&mut rng, i, size)
        };
        write(i, &raw);
    }
    // The worst cases for memory: just under and well over mailbox.max_message_bytes.
    write(n, &with_attachment(&mut rng, n, 33 << 20));
    write(n + 1, &with_attachment(&mut rng, n + 1, 45 << 20));
    chown_mail(maildir);
    (count, bytes)
}

fn headers(i: usize, content_type: &str) -> String {
    format!(
        "Return-Path: <agency{a}@agency.example>\r\n\
         Delivered-To: lcjb@board.example\r\n\
         From: Agency {a} <agency{a}@agency.example>\r\n\
         To: LCJB Secretariat <lcjb@board.example>\r\n\
         Subject: Written update {i} for LCJB 2023-12-13\r\n\
         Date: Wed, 6 Dec 2023 10:15:00 +0000\r\n\
         Message-ID: <bench-{i}@agency.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: {content_type}\r\n\r\n",
        a = i % 37
    )
}

const WORDS: [&str; 16] = [
    "the",
    "board",
    "agreed",
    "action",
    "update",
    "probation",
    "caseload",
    "court",
    "victims",
    "police",
    "partnership",
    "progress",
    "meeting",
    "minutes",
    "report",
    "item",
];

fn words(rng: &mut StdRng, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 100);
    let mut line = 0;
    while text.len() < bytes {
        let word = WORDS[rng.gen_range(0..WORDS.len())];
        text.push_str(word);
        line += word.len() + 1;
        if line > 70 {
            text.push_str("\r\n");
            line = 0;
        } else {
            text.push(' ');
        }
    }
    text
}

fn text_message(rng: &mut StdRng, i: usize, size: usize) -> Vec<u8> {
    if i.is_multiple_of(3) {
        let text = words(rng, size / 2);
        let html = format!(
            "<html><body><p>{}</p></body></html>",
            text.replace("\r\n", "</p>\r\n<p>")
        );
        format!(
            "{}--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--alt--\r\n",
            headers(i, "multipart/alternative; boundary=alt")
        )
        .into_bytes()
    } else {
        format!(
            "{}{}\r\n",
            headers(i, "text/plain; charset=utf-8"),
            words(rng, size)
        )
        .into_bytes()
    }
}

fn with_attachment(rng: &mut StdRng, i: usize, size: usize) -> Vec<u8> {
    let mut content = vec![0u8; size];
    rng.fill(&mut content[..]);
    let mut raw = format!(
        "{}--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n--mix\r\n\
         Content-Type: application/pdf; name=\"update-{i}.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"update-{i}.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
        headers(i, "multipart/mixed; boundary=mix"),
        words(rng, 600)
    )
    .into_bytes();
    base64_lines(&content, &mut raw);
    raw.extend_from_slice(b"--mix--\r\n");
    raw
}

fn base64_lines(data: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for line in data.chunks(57) {
        for chunk in line.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            out.push(ALPHABET[(n >> 18) as usize & 63]);
            out.push(ALPHABET[(n >> 12) as usize & 63]);
            out.push(if chunk.len() > 1 {
                ALPHABET[(n >> 6) as usize & 63]
            } else {
                b'='
            });
            out.push(if chunk.len() > 2 {
                ALPHABET[n as usize & 63]
            } else {
                b'='
            });
        }
        out.extend_from_slice(b"\r\n");
    }
}

fn chown_mail(dir: &Path) {
    let mail = nix::unistd::User::from_name("mail")
        .unwrap()
        .expect("no mail account");
    let group = nix::unistd::Group::from_name("mail")
        .unwrap()
        .expect("no mail group");
    let (uid, gid) = (mail.uid.as_raw(), group.gid.as_raw());
    let mut stack = vec![dir.to_path_buf()];
    // The domain directory above the user's too.
    if let Some(parent) = dir.parent() {
        std::os::unix::fs::chown(parent, Some(uid), Some(gid)).unwrap();
    }
    while let Some(path) = stack.pop() {
        std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        }
    }
}

/// Lets Dovecot index the folder and brings the files into the page cache, so neither
/// contender pays for that.
async fn warm_up(user: &str, maildir: &Path) {
    let mut session = support::imap_session(user).await;
    let mailbox = session.select("INBOX").await.unwrap();
    eprintln!("Dovecot indexed {} messages", mailbox.exists);
    {
        use futures::TryStreamExt;
        let sizes: Vec<_> = session
            .fetch("1:*", "(UID RFC822.SIZE)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(sizes.len() as u32, mailbox.exists);
    }
    session.logout().await.ok();
    for dir in ["new", "cur"] {
        for entry in std::fs::read_dir(maildir.join(dir)).unwrap() {
            let _ = std::fs::read(entry.unwrap().path());
        }
    }
}

/// Runs `command` under GNU time; returns wall seconds, peak RSS and stdout.
fn measure(command: Command) -> Measured {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-v")
        .arg("-o")
        .arg(report.path())
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    timed.stderr(Stdio::inherit()).stdout(Stdio::piped());
    let started = Instant::now();
    let output = timed.output().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "{:?} failed", timed);
    let report = std::fs::read_to_string(report.path()).unwrap();
    let peak_rss_kb = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Measured {
        seconds,
        peak_rss_kb,
        output: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

/// mbsync with its defaults (it fsyncs every message it writes) or with `FSync no`, the
/// fairer match for a test PostgreSQL that runs with fsync off.
fn run_mbsync(user: &str, work: &Path, fsync: bool) -> Measured {
    let store = work.join(if fsync {
        "maildir-fsync"
    } else {
        "maildir-nofsync"
    });
    std::fs::create_dir_all(&store).unwrap();
    let config = work.join(if fsync {
        "mbsyncrc-fsync"
    } else {
        "mbsyncrc-nofsync"
    });
    let mut file = std::fs::File::create(&config).unwrap();
    write!(
        file,
        "FSync {fsync}\n\nIMAPAccount bench\nHost localhost\nPort {port}\nUser {user}\nPass {password}\n\
         SSLType IMAPS\nCertificateFile {ca}\n\n\
         IMAPStore remote\nAccount bench\n\n\
         MaildirStore local\nPath {store}/\nInbox {store}/INBOX\n\n\
         Channel bench\nFar :remote:\nNear :local:\nPatterns INBOX\nSync Pull\nCreate Near\n\
         SyncState *\n",
        port = support::env("MINUTED_TEST_IMAPS_PORT"),
        password = support::env("MINUTED_TEST_IMAP_PASSWORD"),
        ca = support::env("MINUTED_TEST_TLS_CA"),
        store = store.display(),
        fsync = if fsync { "yes" } else { "no" },
    )
    .unwrap();
    drop(file);
    eprintln!("running mbsync");
    let mut command = Command::new("mbsync");
    command.arg("-q").arg("-c").arg(&config).arg("bench");
    let measured = measure(command);
    let copied = std::fs::read_dir(store.join("INBOX/cur"))
        .map(|d| d.count())
        .unwrap_or(0)
        + std::fs::read_dir(store.join("INBOX/new"))
            .map(|d| d.count())
            .unwrap_or(0);
    eprintln!("mbsync copied {copied} messages");
    measured
}

fn minuted_command(user: &str, url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("MINUTED_CONFIG")
        .env("RUST_LOG", "warn")
        .env("MINUTED__DATABASE__URL", url)
        .env("MINUTED__MAILBOX__SOURCE", "imap")
        .env("MINUTED__MAILBOX__HOST", "localhost")
        .env(
            "MINUTED__MAILBOX__PORT",
            support::env("MINUTED_TEST_IMAPS_PORT"),
        )
        .env("MINUTED__MAILBOX__SECURITY", "tls")
        .env(
            "MINUTED__MAILBOX__TLS_CA_FILE",
            support::env("MINUTED_TEST_TLS_CA"),
        )
        .env("MINUTED__MAILBOX__USERNAME", user)
        .env(
            "MINUTED__MAILBOX__PASSWORD",
            support::env("MINUTED_TEST_IMAP_PASSWORD"),
        );
    command
}

fn run_minuted(user: &str, url: &str) -> Measured {
    // Schema and the example board first, so the measured run is ingestion and filing
    // (`ingest --once` files what it stores) and nothing else.
    let status = minuted_command(user, url, &["migrate"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let registry = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/examples/lcjb.toml");
    let status = minuted_command(user, url, &["board", "import", registry])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    eprintln!("running minuted ingest --once");
    let mut command = minuted_command(user, url, &["ingest", "--once"]);
    // Its closing line splits the time: reading and filing, then the search index.
    command.env(
        "RUST_LOG",
        std::env::var("MINUTED_BENCH_INGEST_LOG")
            .unwrap_or_else(|_| "warn,minuted::cli::ingest=info".to_owned()),
    );
    measure(command)
}

/// `minuted run` in IDLE: the time from APPEND to the row being visible, eight times at
/// random intervals.
async fn idle_latency(user: &str, url: &str, pool: &sqlx::PgPool) -> Vec<f64> {
    let mut command = minuted_command(user, url, &["run"]);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    // The daemon's debug log (each wake, scan and fetch timed), to see where the time goes.
    if let Ok(path) = std::env::var("MINUTED_BENCH_DAEMON_LOG") {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        command
            .env("RUST_LOG", "info,minuted::ingest=trace")
            .stderr(log);
    }
    let mut daemon = command.spawn().unwrap();
    // Let it start, drain what is there and enter IDLE.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut latencies = Vec::new();
    for k in 0..8 {
        let message_id = format!("idle-{k}-{}@x", support::unique_name("i"));
        let raw = format!(
            "From: late@agency.example\r\nTo: lcjb@board.example\r\nSubject: idle {k}\r\nMessage-ID: <{message_id}>\r\n\r\nx\r\n"
        );
        support::imap_append(user, "INBOX", raw.as_bytes()).await;
        let started = Instant::now();
        // Looked up by its Message-ID (an index probe): a count of the whole table every
        // few milliseconds would itself load the database the daemon is writing to.
        loop {
            let stored: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM messages WHERE message_id = $1)")
                    .bind(&message_id)
                    .fetch_one(pool)
                    .await
                    .unwrap();
            if stored {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "IDLE never delivered"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        let pause = rand::thread_rng().gen_range(300..1500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    daemon.wait().unwrap();
    latencies
}
