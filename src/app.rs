//! The daemon: built from settings, run until a shutdown future resolves.
//!
//! `run` opens the database (starting the private cluster when no URL is configured),
//! applies migrations, imports `board.file` when set, starts the workers, and on shutdown
//! tells them to stop, waits at most `daemon.shutdown_grace_seconds`, and closes the
//! database (stopping the private cluster if this was its last user).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinSet;

use crate::approval::key::ApprovalKey;
use crate::approval::keyed;
use crate::clock::Clock;
use crate::config::Settings;
use crate::database::Database;
use crate::filing::worker as filing_worker;
use crate::oauth::{Account, TokenSource};
use crate::outbox::{transport, worker};
use crate::shutdown::{Shutdown, Wakeups};
use crate::templates::Templates;
use crate::{ingest, registry, store};

/// Opens the database and brings its schema up to date.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let database = Database::open(settings).await?;
    if let Err(err) = store::migrate(&database.pool).await {
        let _ = database.close().await;
        return Err(err).context("failed to apply database migrations");
    }
    Ok(database)
}

/// Imports the registry file named by `board.file`, if any.
pub async fn import_board_file(settings: &Settings, database: &Database) -> anyhow::Result<()> {
    let Some(path) = &settings.board.file else {
        return Ok(());
    };
    let registry = registry::load(path)?;
    let summary = store::registry::import(&database.pool, &registry, "system")
        .await
        .with_context(|| format!("failed to import the board registry {}", path.display()))?;
    tracing::info!(file = %path.display(), summary = %serde_json::to_string(&summary).unwrap_or_default(), "board registry imported");
    Ok(())
}

/// The email templates, embedded and overridden from `templates.dir`, all compiled and
/// checked.
pub fn load_templates(settings: &Settings) -> anyhow::Result<Templates> {
    Templates::load(settings.templates.dir.as_deref()).context("the email templates are not usable")
}

/// The sender worker as configured, on the system clock.
pub fn sender(
    settings: &Settings,
    pool: &sqlx::PgPool,
    templates: Arc<Templates>,
) -> anyhow::Result<worker::Worker> {
    let sign_in = TokenSource::for_account(Account::Outgoing, settings, pool)?;
    let transport = transport::from_settings(&settings.outgoing, sign_in)?;
    let worker_settings = worker::WorkerSettings::from_outgoing(&settings.outgoing)?;
    Ok(worker::Worker::new(
        pool.clone(),
        Clock::System,
        transport,
        templates,
        worker_settings,
    ))
}

/// Runs the daemon until `shutdown` resolves, then stops within the grace period.
pub async fn run_until_stopped(
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // Templates first: a broken one stops the daemon before anything starts.
    let templates = Arc::new(load_templates(&settings)?);
    let database = open_database(&settings).await?;
    let result = serve(&settings, &database, templates, shutdown).await;
    let closed = database.close().await;
    result?;
    closed
}

async fn serve(
    settings: &Settings,
    database: &Database,
    templates: Arc<Templates>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    import_board_file(settings, database).await?;
    // Bound first: a port in use stops start-up with the reason, before any mail moves.
    let listener = crate::http::bind(&settings.http).await?;

    let (stop, stop_signal) = Shutdown::new();
    let (received, filed, queued) = (
        store::filings::RECEIVED_CHANNEL,
        store::filings::FILED_CHANNEL,
        store::outbox::QUEUED_CHANNEL,
    );
    let wakeups = Wakeups::start(
        &database.pool,
        &[received, filed, queued],
        stop_signal.clone(),
    );
    let mut workers: JoinSet<anyhow::Result<()>> = JoinSet::new();
    let mailbox_sign_in = TokenSource::for_account(Account::Mailbox, settings, &database.pool)?;
    workers.spawn(ingest::run_until_stopped(
        settings.mailbox.clone(),
        mailbox_sign_in,
        database.pool.clone(),
        Clock::System,
        stop_signal.clone(),
    ));
    let sender = sender(settings, &database.pool, templates)?;
    workers.spawn(sender.run_until_stopped(stop_signal.clone(), wakeups.on(queued)));
    workers.spawn(filing_worker::run_until_stopped(
        database.pool.clone(),
        settings.filing.clone(),
        Clock::System,
        stop_signal.clone(),
        wakeups.on(received),
    ));
    // The approval key is read (or made) once, before anything depends on it, and held
    // by the workers that sign with it.
    let approval_key = Arc::new(ApprovalKey::new(settings));
    approval_key.get()?;
    if let Some(listener) = listener {
        // Installed before the workers run, so their first timings are kept.
        crate::measure::exporter();
        let server = crate::http::Server::new(
            database.pool.clone(),
            &settings.http,
            settings.alerts.clone(),
            approval_key.get()?,
            Clock::System,
        )?;
        workers.spawn(crate::http::run_until_stopped(
            listener,
            server,
            stop_signal.clone(),
        ));
    }
    // Draft minutes becoming revisions, and approval replies applied: the two kinds of
    // work that sign with the approval key.
    for run_until_stopped in [
        keyed::run_until_stopped::<crate::minutes::worker::Drafts>,
        keyed::run_until_stopped::<crate::approval::worker::Replies>,
    ] {
        workers.spawn(run_until_stopped(
            database.pool.clone(),
            settings.approval.clone(),
            approval_key.clone(),
            Clock::System,
            stop_signal.clone(),
            wakeups.on(filed),
        ));
    }
    workers.spawn(crate::actions::run_until_stopped(
        database.pool.clone(),
        Clock::System,
        stop_signal.clone(),
        wakeups.on(filed),
    ));
    workers.spawn(crate::records::index::run_until_stopped(
        database.pool.clone(),
        stop_signal.clone(),
    ));
    workers.spawn(crate::alerts::run_until_stopped(
        database.pool.clone(),
        settings.alerts.clone(),
        stop_signal.clone(),
    ));
    if settings.schedule.enabled {
        workers.spawn(crate::schedule::run_until_stopped(
            database.pool.clone(),
            crate::schedule::WorkerSettings::from(settings),
            approval_key,
            Clock::System,
            format!("run:{}", std::process::id()),
            stop_signal.clone(),
        ));
    }
    tracing::info!(workers = workers.len(), "minuted is running");

    // The private cluster's server is watched and restarted; when it cannot be, the
    // daemon stops and exits non-zero.
    let watched = async {
        match database.watch() {
            Some(watch) => watch.supervise(stop_signal.clone()).await,
            None => std::future::pending().await,
        }
    };
    let fatal = tokio::select! {
        _ = shutdown => None,
        err = watched => Some(err),
    };
    match &fatal {
        None => tracing::info!("shutting down"),
        Some(err) => {
            tracing::error!(error = %format!("{err:#}"), "shutting down: the database cannot be brought back")
        }
    }
    let _ = stop.send(true);

    let grace = Duration::from_secs(settings.daemon.shutdown_grace_seconds);
    let drained = tokio::time::timeout(grace, drain(workers)).await;
    if let Some(err) = fatal {
        return Err(err);
    }
    match drained {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                grace_seconds = grace.as_secs(),
                "workers did not stop within the grace period; abandoning them"
            );
            Ok(())
        }
    }
}

async fn drain(mut workers: JoinSet<anyhow::Result<()>>) -> anyhow::Result<()> {
    let mut first_error = None;
    while let Some(joined) = workers.join_next().await {
        let result = joined.context("a worker panicked").and_then(|r| r);
        if let Err(err) = result {
            tracing::error!(error = %format!("{err:#}"), "worker failed");
            first_error.get_or_insert(err);
        }
    }
    first_error.map_or(Ok(()), Err)
}
