//! How minuted reaches PostgreSQL: the server at `database.url`, or — the embedded
//! default — a private cluster that minuted creates and runs in `data_dir/postgres`.
//!
//! The private cluster listens on a unix socket only (in a directory only its owner can
//! enter), with trust authentication, and is shared by every minuted process on the same
//! `data_dir`: each holds a shared lock on `users.lock` while it uses the cluster, and the
//! last one out stops it. Starting and stopping are serialised by `control.lock`, so two
//! processes never race to `initdb` or `pg_ctl start` the same directory.
//!
//! PostgreSQL refuses to run as root. When minuted is root (containers, CI) the server
//! runs as the `postgres` account that Debian's package creates.
//!
//! This module owns processes and files, not SQL: queries live in `store`.

use std::fs::{self, File};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::Settings;
use crate::store;

/// The database role and database name inside the private cluster.
const CLUSTER_USER: &str = "minuted";
const CLUSTER_DB: &str = "minuted";
/// The account the server runs as when minuted is root.
const UNPRIVILEGED_ACCOUNT: &str = "postgres";

/// Begins a transaction on `pool`, saying so when it cannot.
pub async fn begin(pool: &PgPool) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    pool.begin().await.context("failed to begin a transaction")
}

/// An open database: the pool, and the private cluster when minuted runs one.
pub struct Database {
    pub pool: PgPool,
    cluster: Option<Cluster>,
}

impl Database {
    /// Connects to `database.url`, or starts (creating on first use) the private cluster.
    /// Does not migrate: callers decide.
    pub async fn open(settings: &Settings) -> anyhow::Result<Database> {
        let max = settings.database.max_connections;
        match &settings.database.url {
            Some(url) => {
                let options: PgConnectOptions = url
                    .expose()
                    .parse()
                    .context("database.url is not a valid PostgreSQL URL")?;
                let options = options.log_statements(tracing::log::LevelFilter::Trace);
                let pool = store::connect(options, max).await.with_context(|| {
                    "cannot connect to the PostgreSQL server at database.url".to_string()
                })?;
                Ok(Database {
                    pool,
                    cluster: None,
                })
            }
            None => {
                let dir = settings.data_dir.join("postgres");
                let cluster = tokio::task::spawn_blocking(move || Cluster::start(&dir))
                    .await
                    .context("cluster start-up task failed")??;
                if let Err(err) = ensure_database(&cluster).await {
                    let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
                    return Err(err);
                }
                let options = cluster
                    .connect_options(CLUSTER_DB)
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = match store::connect(options, max).await {
                    Ok(pool) => pool,
                    Err(err) => {
                        let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
                        return Err(err)
                            .context("cannot connect to the private PostgreSQL cluster");
                    }
                };
                Ok(Database {
                    pool,
                    cluster: Some(cluster),
                })
            }
        }
    }

    /// With the private cluster: what watches its server and restarts it.
    pub fn watch(&self) -> Option<ClusterWatch> {
        self.cluster.as_ref().map(|c| ClusterWatch {
            dir: c.dir.clone(),
            server_dir: c.server_dir.clone(),
            binaries: c.binaries.clone(),
            account: c.account,
        })
    }

    /// Closes the pool and, if this was the last process using the private cluster,
    /// stops it.
    pub async fn close(self) -> anyhow::Result<()> {
        close_pool(&self.pool).await;
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop())
                .await
                .context("cluster stop task failed")??;
        }
        Ok(())
    }
}

/// How long [`close_pool`] waits for connections still on their way back to the pool.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Closes every connection of `pool` before it returns. `Pool::close` alone may return
/// while a connection dropped a moment before is still on its way back (sqlx pings it
/// first) and then lands in the emptied pool, open: stopping the private cluster under it
/// made sqlx warn "terminating connection due to administrator command" after a command
/// that had succeeded. So close again until no connection is left, for [`CLOSE_WAIT`].
async fn close_pool(pool: &PgPool) {
    let step = std::time::Duration::from_millis(10);
    let mut waited = std::time::Duration::ZERO;
    pool.close().await;
    while pool.size() > 0 && waited < CLOSE_WAIT {
        tokio::time::sleep(step).await;
        waited += step;
        pool.close().await;
    }
}

/// The PostgreSQL server programs minuted needs for its private cluster.
#[derive(Debug, Clone)]
pub struct ServerBinaries {
    pub bindir: PathBuf,
}

impl ServerBinaries {
    /// Looks on PATH, then in `pg_config --bindir`, then under /usr/lib/postgresql/*/bin
    /// (newest version first).
    pub fn find() -> anyhow::Result<ServerBinaries> {
        let path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        let pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
        Self::find_in(path, pg_config, Path::new("/usr/lib/postgresql"))
    }

    /// The search itself, over the given places, so tests can point it at empty ones.
    fn find_in(
        path: Vec<PathBuf>,
        pg_config_bindir: Option<PathBuf>,
        versioned_root: &Path,
    ) -> anyhow::Result<ServerBinaries> {
        let mut candidates = path;
        candidates.extend(pg_config_bindir);
        if let Ok(entries) = fs::read_dir(versioned_root) {
            let mut versions: Vec<(u32, PathBuf)> = entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    Some((version, e.path().join("bin")))
                })
                .collect();
            versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
            candidates.extend(versions.into_iter().map(|(_, dir)| dir));
        }
        candidates
            .into_iter()
            .find(|dir| {
                ["initdb", "pg_ctl", "postgres"]
                    .iter()
                    .all(|bin| dir.join(bin).is_file())
            })
            .map(|bindir| ServerBinaries { bindir })
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found on PATH, \
                     in `pg_config --bindir` or under {}/*/bin. Install Debian's \
                     package `postgresql` (apt-get install postgresql), or set database.url to \
                     use an existing server",
                    versioned_root.display()
                )
            })
    }

    fn program(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

/// The unix account the server runs as: ourselves, or `postgres` when we are root.
#[derive(Debug, Clone, Copy)]
struct Account {
    uid: u32,
    gid: u32,
    switch: bool,
}

impl Account {
    fn for_server() -> anyhow::Result<Account> {
        let euid = nix::unistd::geteuid();
        if !euid.is_root() {
            return Ok(Account {
                uid: euid.as_raw(),
                gid: nix::unistd::getegid().as_raw(),
                switch: false,
            });
        }
        let user = nix::unistd::User::from_name(UNPRIVILEGED_ACCOUNT)
            .context("cannot look up the postgres account")?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "minuted runs as root, and PostgreSQL refuses to; it runs the private cluster \
                     as the `{UNPRIVILEGED_ACCOUNT}` account, which does not exist. Install Debian's \
                     package `postgresql` (it creates the account), or run minuted as another user"
                )
            })?;
        Ok(Account {
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            switch: true,
        })
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        if self.switch {
            command.uid(self.uid).gid(self.gid);
            // The server's account cannot read root's home; keep it out of there.
            command.current_dir("/").env("HOME", "/");
        }
        command.stdin(Stdio::null());
        command
    }

    /// Whether this account may enter every directory down to `path`.
    fn can_reach(&self, path: &Path) -> bool {
        path.ancestors().all(|dir| match fs::metadata(dir) {
            Ok(meta) => {
                let mode = meta.mode();
                if meta.uid() == self.uid {
                    mode & 0o100 != 0
                } else if meta.gid() == self.gid {
                    mode & 0o010 != 0
                } else {
                    mode & 0o001 != 0
                }
            }
            Err(_) => false,
        })
    }

    fn own(&self, path: &Path) -> anyhow::Result<()> {
        if self.switch {
            nix::unistd::chown(
                path,
                Some(nix::unistd::Uid::from_raw(self.uid)),
                Some(nix::unistd::Gid::from_raw(self.gid)),
            )
            .with_context(|| format!("cannot give {} to the postgres account", path.display()))?;
        }
        Ok(())
    }
}

/// A private cluster this process has started or joined. Holding it holds a shared lock on
/// `users.lock`; [`Cluster::stop`] releases it and stops the server if nobody else holds one.
pub struct Cluster {
    /// `data_dir/postgres`: the locks live here.
    dir: PathBuf,
    /// Where the server's files live: `dir` itself, unless the server's account cannot
    /// reach it (see [`server_dir_for`]).
    server_dir: PathBuf,
    binaries: ServerBinaries,
    account: Account,
    users: File,
    /// Set once [`Cluster::stop`] has run, so `Drop` (a panic, an early return) does not
    /// stop the server a second time.
    left: bool,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.left {
            if let Err(err) = self.leave() {
                tracing::error!(error = %format!("{err:#}"), "failed to stop the private PostgreSQL cluster");
            }
        }
    }
}

impl Cluster {
    fn data(dir: &Path) -> PathBuf {
        dir.join("data")
    }
    fn socket_dir(dir: &Path) -> PathBuf {
        dir.join("run")
    }

    /// Creates the cluster on first use, starts it unless another process has, and joins it.
    pub fn start(dir: &Path) -> anyhow::Result<Cluster> {
        let binaries = ServerBinaries::find()?;
        let account = Account::for_server()?;
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the database directory {}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;

        let control = lock_file(&dir.join("control.lock"))?;
        control
            .lock()
            .context("cannot lock the private cluster's control.lock")?;

        let server_dir = server_dir_for(&dir, account)?;
        let data = Self::data(&server_dir);
        if !data.join("PG_VERSION").is_file() {
            initdb(&binaries, account, &server_dir)?;
        }
        let socket_dir = Self::socket_dir(&server_dir);
        fs::create_dir_all(&socket_dir)?;
        fs::set_permissions(&socket_dir, fs::Permissions::from_mode(0o700))?;
        account.own(&socket_dir)?;

        if !server_running(&binaries, account, &data)? {
            tracing::debug!(dir = %dir.display(), "starting the private PostgreSQL cluster");
            start_server(&binaries, account, &server_dir)?;
        } else {
            tracing::debug!(dir = %dir.display(), "joining the private PostgreSQL cluster already running");
        }

        let users = lock_file(&dir.join("users.lock"))?;
        users
            .lock_shared()
            .context("cannot take a shared lock on the private cluster's users.lock")?;
        drop(control);
        Ok(Cluster {
            dir,
            server_dir,
            binaries,
            account,
            users,
            left: false,
        })
    }

    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(Self::socket_dir(&self.server_dir))
            .username(CLUSTER_USER)
            .database(database)
    }

    /// Leaves the cluster; the last process out stops the server.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.leave()
    }

    fn leave(&mut self) -> anyhow::Result<()> {
        self.left = true;
        let control = lock_file(&self.dir.join("control.lock"))?;
        control.lock().context("cannot lock control.lock")?;
        self.users.unlock().context("cannot release users.lock")?;
        let last = match self.users.try_lock() {
            Ok(()) => true,
            Err(std::fs::TryLockError::WouldBlock) => false,
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(err).context("cannot test users.lock");
            }
        };
        if last {
            tracing::debug!(dir = %self.dir.display(), "stopping the private PostgreSQL cluster");
            let status = self
                .account
                .command(&self.binaries.program("pg_ctl"))
                .arg("stop")
                .arg("-D")
                .arg(Self::data(&self.server_dir))
                .args(["-m", "fast", "-w", "-t", "30", "-s"])
                .status()
                .context("cannot run pg_ctl stop")?;
            if !status.success()
                && server_running(&self.binaries, self.account, &Self::data(&self.server_dir))?
            {
                bail!("pg_ctl stop failed ({status}); the private cluster is still running");
            }
        } else {
            tracing::debug!(
                "other minuted processes still use the private cluster; leaving it running"
            );
        }
        Ok(())
    }
}

/// How often the private cluster's server is looked at.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Restarts tried, with backoff, before minuted gives up and exits.
pub const MAX_RESTARTS: u32 = 5;

/// Watches the private cluster's server (its postmaster) and restarts it when it dies —
/// killed by the OOM killer, say. Several minuted processes share a cluster: each
/// watches, and the restart happens under `control.lock`, so the first to notice
/// restarts it and the others find it running.
pub struct ClusterWatch {
    dir: PathBuf,
    server_dir: PathBuf,
    binaries: ServerBinaries,
    account: Account,
}

impl ClusterWatch {
    fn alive(&self) -> bool {
        postmaster_alive(&self.server_dir)
    }

    /// Starts the server unless another process has already.
    fn restart(&self) -> anyhow::Result<bool> {
        let control = lock_file(&self.dir.join("control.lock"))?;
        control
            .lock()
            .context("cannot lock the private cluster's control.lock")?;
        if server_running(
            &self.binaries,
            self.account,
            &Cluster::data(&self.server_dir),
        )? {
            return Ok(false);
        }
        start_server(&self.binaries, self.account, &self.server_dir)?;
        Ok(true)
    }

    /// Until shutdown: looks every second; when the server has died, restarts it with
    /// backoff. Returns an error only when [`MAX_RESTARTS`] tries in a row failed: the
    /// daemon then exits non-zero, and a service manager's `Restart=on-failure` takes
    /// over.
    pub async fn supervise(self, mut shutdown: crate::shutdown::Shutdown) -> anyhow::Error {
        let watch = std::sync::Arc::new(self);
        loop {
            tokio::select! {
                _ = shutdown.stopped() => return std::future::pending().await,
                _ = tokio::time::sleep(WATCH_EVERY) => {}
            }
            let looking = watch.clone();
            if tokio::task::spawn_blocking(move || looking.alive())
                .await
                .unwrap_or(true)
            {
                continue;
            }
            tracing::error!(dir = %watch.dir.display(), "the private PostgreSQL cluster's server has stopped; restarting it");
            let mut backoff = crate::retry::Backoff::with_cap(std::time::Duration::from_secs(16));
            let mut attempt = 0;
            loop {
                attempt += 1;
                let restarting = watch.clone();
                let result = tokio::task::spawn_blocking(move || restarting.restart())
                    .await
                    .unwrap_or_else(|err| Err(anyhow::anyhow!("the restart task failed: {err}")));
                match result {
                    Ok(true) => {
                        tracing::warn!(
                            attempt,
                            "the private PostgreSQL cluster was restarted; work resumes"
                        );
                        break;
                    }
                    Ok(false) => {
                        tracing::info!(
                            "another minuted process restarted the private PostgreSQL cluster"
                        );
                        break;
                    }
                    Err(err) if attempt >= MAX_RESTARTS => {
                        return err.context(format!(
                            "the private PostgreSQL cluster in {} could not be restarted after {MAX_RESTARTS} tries; exiting",
                            watch.dir.display()
                        ));
                    }
                    Err(err) => {
                        let delay = backoff.next_delay();
                        tracing::error!(attempt, error = %format!("{err:#}"), retry_in_ms = delay.as_millis() as u64, "cannot restart the private PostgreSQL cluster");
                        tokio::select! {
                            _ = shutdown.stopped() => return std::future::pending().await,
                            _ = tokio::time::sleep(delay) => {}
                        }
                    }
                }
            }
        }
    }
}

/// Whether the postmaster named in `server_dir`'s `postmaster.pid` is alive.
fn postmaster_alive(server_dir: &Path) -> bool {
    let pid_file = Cluster::data(server_dir).join("postmaster.pid");
    let Ok(text) = fs::read_to_string(pid_file) else {
        return false;
    };
    let Some(pid) = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    else {
        return false;
    };
    crate::shutdown::process_runs(pid)
}

/// Whether the database answers, without starting anything: the private cluster's
/// server is running, or the server at `database.url` accepts a connection within 5 s.
/// For `health`, which must not bring up a cluster that is down.
pub async fn probe(settings: &Settings) -> Result<(), String> {
    match &settings.database.url {
        Some(url) => {
            let options: PgConnectOptions = url
                .expose()
                .parse()
                .map_err(|e| format!("database.url is not a valid PostgreSQL URL: {e}"))?;
            match tokio::time::timeout(std::time::Duration::from_secs(5), options.connect()).await {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                    Ok(())
                }
                Ok(Err(err)) => Err(format!(
                    "the PostgreSQL server at database.url does not answer: {err}"
                )),
                Err(_) => {
                    Err("the PostgreSQL server at database.url did not answer within 5 s".into())
                }
            }
        }
        None => {
            let dir = settings.data_dir.join("postgres");
            let server_dir = fs::read_to_string(dir.join("server-dir"))
                .map(|t| PathBuf::from(t.trim()))
                .unwrap_or(dir.clone());
            if postmaster_alive(&server_dir) {
                Ok(())
            } else {
                Err(format!(
                    "the private PostgreSQL cluster in {} is not running",
                    dir.display()
                ))
            }
        }
    }
}

/// Where the server keeps its files. Normally `dir`. When minuted is root and `dir` sits
/// below a directory the server's account may not enter (a clone in /root, say), the
/// server's files go to /var/lib/minuted/clusters/<hash of dir> instead, and a note in
/// `dir/server-dir` says where; the locks stay in `dir`.
fn server_dir_for(dir: &Path, account: Account) -> anyhow::Result<PathBuf> {
    if !account.switch || account.can_reach(dir) {
        return Ok(dir.to_owned());
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let name = hex::encode(&digest[..8]);
    let root = Path::new(FALLBACK_SERVER_ROOT);
    let server_dir = root.join(name);
    fs::create_dir_all(&server_dir)
        .with_context(|| format!("cannot create {}", server_dir.display()))?;
    account.own(&server_dir)?;
    let note = dir.join("server-dir");
    let said_before = note.is_file();
    fs::write(&note, format!("{}\n", server_dir.display()))?;
    // Said once, when the files move; every later command finds the note.
    if said_before {
        tracing::debug!(dir = %dir.display(), server_dir = %server_dir.display(), "the private cluster's files are kept in server_dir");
    } else {
        tracing::warn!(
            dir = %dir.display(),
            server_dir = %server_dir.display(),
            "the postgres account cannot reach data_dir; the private cluster's files are kept in server_dir"
        );
    }
    Ok(server_dir)
}

const FALLBACK_SERVER_ROOT: &str = "/var/lib/minuted/clusters";

fn lock_file(path: &Path) -> anyhow::Result<File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

fn initdb(binaries: &ServerBinaries, account: Account, dir: &Path) -> anyhow::Result<()> {
    let data = Cluster::data(dir);
    tracing::debug!(dir = %data.display(), "creating the private PostgreSQL cluster");
    // A half-made directory from an interrupted initdb would make initdb refuse.
    if data.exists() {
        fs::remove_dir_all(&data)
            .with_context(|| format!("cannot clear the incomplete cluster {}", data.display()))?;
    }
    fs::create_dir_all(&data)?;
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700))?;
    account.own(&data)?;
    let output = account
        .command(&binaries.program("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            CLUSTER_USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run initdb")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if account.switch && stderr.contains("ermission denied") {
            format!(
                " The `{UNPRIVILEGED_ACCOUNT}` account must be able to reach {}: choose a data_dir \
                 outside a private home directory such as /root, or set database.url.",
                data.display()
            )
        } else {
            String::new()
        };
        let _ = fs::remove_dir_all(&data);
        bail!("initdb failed ({}): {}{hint}", output.status, stderr.trim());
    }
    Ok(())
}

fn server_running(
    binaries: &ServerBinaries,
    account: Account,
    data: &Path,
) -> anyhow::Result<bool> {
    let status = account
        .command(&binaries.program("pg_ctl"))
        .arg("status")
        .arg("-D")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run pg_ctl status")?;
    // 0: running; 3: not running; 4: no data directory.
    Ok(status.success())
}

fn start_server(binaries: &ServerBinaries, account: Account, dir: &Path) -> anyhow::Result<()> {
    let data = Cluster::data(dir);
    let log = dir.join("server.log");
    if !log.exists() {
        File::create(&log)?;
    }
    account.own(&log)?;
    if log.metadata()?.uid() != account.uid && account.switch {
        bail!("{} is not owned by the postgres account", log.display());
    }
    let socket_dir = Cluster::socket_dir(dir);
    let options = format!(
        "-c listen_addresses='' -c unix_socket_directories='{}' -c unix_socket_permissions=0700",
        socket_dir.display()
    );
    let output = account
        .command(&binaries.program("pg_ctl"))
        .arg("start")
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log)
        .args(["-w", "-t", "60", "-s", "-o", &options])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run pg_ctl start")?;
    if !output.status.success() {
        let tail = fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(10).collect();
        bail!(
            "the private PostgreSQL cluster did not start ({}): {}\nlast lines of {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(())
}

/// Creates minuted's database in the cluster when it is missing (first start).
async fn ensure_database(cluster: &Cluster) -> anyhow::Result<()> {
    let mut conn = cluster
        .connect_options("postgres")
        .connect()
        .await
        .context("cannot connect to the private cluster")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(CLUSTER_DB)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let created = sqlx::query(&format!("CREATE DATABASE {CLUSTER_DB}"))
            .execute(&mut conn)
            .await;
        match created {
            Ok(_) => {}
            // Another process starting at the same moment created it first.
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => {}
            Err(err) => return Err(err).context("cannot create minuted's database"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_server_programs_are_an_error_naming_the_debian_package() {
        let empty = tempfile::tempdir().unwrap();
        let err = ServerBinaries::find_in(vec![empty.path().to_owned()], None, empty.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("apt-get install postgresql"), "{err}");
        assert!(err.contains("database.url"), "{err}");
    }

    #[test]
    fn the_newest_versioned_directory_with_all_three_programs_is_chosen() {
        let root = tempfile::tempdir().unwrap();
        for (version, programs) in [
            ("13", &["initdb", "pg_ctl", "postgres"][..]),
            ("16", &["initdb", "pg_ctl", "postgres"][..]),
            ("17", &["initdb", "pg_ctl"][..]),
        ] {
            let bin = root.path().join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            for program in programs {
                fs::write(bin.join(program), "").unwrap();
            }
        }
        let found = ServerBinaries::find_in(Vec::new(), None, root.path()).unwrap();
        assert_eq!(found.bindir, root.path().join("16/bin"));
    }
}
