//! The command line: what each command does and how it prints. Tables for people,
//! `--json` for scripts (an array or object on stdout and nothing else there). Errors go
//! to stderr through `main` and exit non-zero.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use sqlx::PgPool;

use crate::config::{self, Loaded};
use crate::logging::LogFormat;
use crate::{app, registry, store};

mod actions;
mod auth;
mod board;
mod health;
mod http;
mod ingest;
mod known;
mod meetings;
mod messages;
mod minutes;
mod outbox;
mod records;
mod render;
mod reply;
mod schedule;
mod search;
mod table;
mod triage;

#[derive(Debug, Parser)]
#[command(name = "minuted", version, about = "Mail daemon for a board secretariat: files draft minutes and agencies' updates, approval by reply, circulation", long_about = None)]
pub struct Cli {
    /// Config file (TOML). Without one, the embedded defaults: Maildir in ./mail/inbox,
    /// .eml files out to ./mail/outbox, a private PostgreSQL cluster in ./var.
    #[arg(long, global = true, env = "MINUTED_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Log filter, e.g. `info` or `minuted=debug,sqlx=warn` (default: RUST_LOG, else info).
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Rehearse: the process's clock starts at this moment (RFC 3339, e.g.
    /// `2023-11-27T09:00:00Z`) instead of the machine's time. Schedules, holds, expiries and
    /// retries all follow it. For trying a meeting cycle end to end; never in production.
    #[arg(
        long,
        global = true,
        env = "MINUTED_CLOCK_START",
        value_name = "RFC3339"
    )]
    pub clock_start: Option<chrono::DateTime<chrono::FixedOffset>>,

    /// With --clock-start: how many times faster than real time the clock runs (e.g. 3600
    /// for an hour a second), at most 1000000.
    #[arg(
        long,
        global = true,
        env = "MINUTED_CLOCK_RATE",
        value_name = "FACTOR",
        default_value_t = 1.0,
        requires = "clock_start"
    )]
    pub clock_rate: f64,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Sets the process clock from `--clock-start`/`--clock-rate`, when given.
    pub fn start_clock(&self) -> anyhow::Result<()> {
        if let Some(start) = self.clock_start {
            let start = start.with_timezone(&chrono::Utc);
            crate::clock::start_rehearsal(start, self.clock_rate)
                .context("cannot set the clock (--clock-start, --clock-rate)")?;
            tracing::warn!(
                start = %start.to_rfc3339(),
                rate = self.clock_rate,
                "rehearsal clock: time starts at --clock-start, not the machine's time"
            );
        }
        Ok(())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon until SIGINT or SIGTERM.
    Run,
    /// Apply the database migrations embedded in this binary, then exit.
    Migrate,
    /// Validate the configuration and say what is wrong, key by key.
    CheckConfig,
    /// The board registry: organisations, members, meetings, agenda items.
    #[command(subcommand)]
    Board(BoardCommand),
    /// Draft minutes: what minuted reads in them.
    #[command(subcommand)]
    Minutes(MinutesCommand),
    /// Replies: what minuted reads as the sender's own words.
    #[command(subcommand)]
    Reply(ReplyCommand),
    /// Read the configured mailbox into the database.
    Ingest {
        /// Drain the mailbox once and exit (the daemon, `run`, ingests continuously).
        #[arg(long, required = true)]
        once: bool,
        /// Print the summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Inbound messages as stored.
    #[command(subcommand)]
    Messages(MessagesCommand),
    /// Send the outbox: with --once, everything due now, then print a summary and exit;
    /// without, keep sending until SIGINT or SIGTERM.
    Send {
        /// Drain what is due and exit.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        output: Output,
    },
    /// Outgoing mail: list it, retry what failed.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Preview an email with real data from the database.
    Render(RenderArgs),
    /// Messages filing could not file with confidence, and filing them by hand.
    #[command(subcommand)]
    Triage(TriageCommand),
    /// Meetings: every meeting at a glance, who has sent their update and who is
    /// outstanding, who is coming.
    #[command(subcommand)]
    Meetings(MeetingsCommand),
    /// The action register: add an action by hand, list actions with their updates,
    /// close one by hand.
    #[command(subcommand)]
    Actions(ActionsCommand),
    /// The persistent schedule: update requests, chasers and meeting packs.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// OAuth 2.0 sign-in for the mailbox and the submission server.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Whether mail flows: alarms, each folder's last read, sign-in, the outbox, triage
    /// and the schedule. Exits non-zero when anything is in alarm.
    Health {
        #[command(flatten)]
        output: Output,
    },
    /// The HTTP server's status page: who may sign in.
    #[command(subcommand)]
    Http(HttpCommand),
    /// Retention: what has expired under `[retention]`, and removing it.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Legal holds: nothing about a meeting or a person is removed while one is in force.
    #[command(subcommand)]
    Hold(HoldCommand),
    /// One person's records: a subject-access export, or erasure.
    #[command(subcommand)]
    Person(PersonCommand),
}

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Write everything held about an address to a zip: the messages (.eml), their
    /// filings, the registry entry, actions, attendance, mail sent to them and the events
    /// naming them, with a README saying what each part is.
    Export {
        email: String,
        /// The archive to write, e.g. subject-access.zip.
        #[arg(long, value_name = "FILE.zip")]
        out: PathBuf,
        #[command(flatten)]
        output: Output,
    },
    /// Erase a person: their messages emptied to tombstones, their address and name
    /// replaced by a pseudonym in every table; the audit trail keeps its rows. Refused
    /// under a legal hold, or for a person named in approved minutes.
    Erase {
        email: String,
        /// Why, as it will stand in the audit trail.
        #[arg(long)]
        reason: String,
        /// Say what would change, change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, default_value = "cli")]
        by: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// What the next run would remove, rule by rule, and what holds keep.
    Plan {
        #[command(flatten)]
        output: Output,
    },
    /// Remove what has expired now (the daemon does this once a day).
    Run {
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Put a legal hold on a meeting's records, or on everything to or from a person.
    Add {
        /// The meeting, e.g. LCJB-2023-12-13.
        #[arg(
            long,
            value_name = "REF",
            required_unless_present = "person",
            conflicts_with = "person"
        )]
        meeting: Option<String>,
        /// The person's email address.
        #[arg(long, value_name = "EMAIL")]
        person: Option<String>,
        /// Why, as it will stand in the record.
        #[arg(long)]
        reason: String,
        /// Who asked for it (default: cli).
        #[arg(long, default_value = "cli")]
        by: String,
        #[command(flatten)]
        output: Output,
    },
    /// Every hold, those in force first.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Release a hold: what it kept is removed at the next run if it has expired.
    Release {
        id: i64,
        #[arg(long, default_value = "cli")]
        by: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum HttpCommand {
    /// Add a status-page user, or give an existing one a new password (which ends their
    /// sessions). The password is asked for on the terminal, twice; without a terminal,
    /// one line is read from standard input.
    AddUser {
        /// The name they sign in with, e.g. shobnam.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Sign in: with flow = "device_code", print the address and code a person signs in
    /// with, wait, and store the tokens; with "client_credentials", fetch a token to
    /// prove the settings.
    Login {
        /// `mailbox` or `outgoing`.
        #[arg(value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<crate::oauth::Account>()))]
        account: crate::oauth::Account,
    },
    /// Each account's flow, token expiry, last refresh and last error; never a token.
    Status {
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Add an action by hand; prints its new reference (e.g. LCJB-A18).
    Add(AddAction),
    /// Actions with their owner, meeting, due date, status and updates (each update with
    /// the message it came from and its attachments), in reference order.
    List {
        /// Only open actions.
        #[arg(long)]
        open: bool,
        /// Only actions this organisation owns (short name).
        #[arg(long, value_name = "ORG")]
        owner: Option<String>,
        /// Only actions raised at this meeting, e.g. LCJB-2023-09-20.
        #[arg(long, value_name = "REF")]
        meeting: Option<String>,
        /// At most N rows.
        #[arg(long, value_name = "N")]
        limit: Option<i64>,
        #[command(flatten)]
        output: Output,
    },
    /// Mark an open action done by hand.
    Done(CloseAction),
    /// Drop an open action by hand (it will not be asked about again).
    Drop(CloseAction),
}

/// `actions add`: the action and who adds it.
#[derive(Debug, Args)]
pub struct AddAction {
    /// The meeting it is raised at, e.g. LCJB-2023-12-13.
    #[arg(long, value_name = "REF")]
    pub meeting: String,
    /// The owner organisation's short name, e.g. "CPS South".
    #[arg(long, value_name = "ORG")]
    pub owner: String,
    /// What is to be done.
    pub text: String,
    /// Due date; without one the action is due by the next meeting.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub due: Option<chrono::NaiveDate>,
    /// The agenda item it arose under, as numbered on the meeting's agenda.
    #[arg(long, value_name = "N")]
    pub item: Option<String>,
    /// The owner member (name or initials), of the owner organisation.
    #[arg(long, value_name = "NAME")]
    pub member: Option<String>,
    /// Who is adding it, for the audit log.
    #[arg(long, value_name = "WHO", default_value = "cli")]
    pub by: String,
    #[command(flatten)]
    pub output: Output,
}

/// `actions done` and `actions drop`: which action, why and who.
#[derive(Debug, Args)]
pub struct CloseAction {
    /// The action, e.g. LCJB-A17.
    pub reference: String,
    /// Why, for the action's history.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Who is closing it, for the audit log.
    #[arg(long, value_name = "WHO", default_value = "cli")]
    pub by: String,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Every job, by due time: kind, meeting, organisation, when it is due and expires,
    /// its status and what it did (when it fired, how many emails, or why not).
    List {
        /// Only the jobs of this meeting, e.g. LCJB-2023-12-13.
        #[arg(long, value_name = "REF")]
        meeting: Option<String>,
        /// At most N rows.
        #[arg(long, value_name = "N")]
        limit: Option<i64>,
        #[command(flatten)]
        output: Output,
    },
    /// Plan the jobs of upcoming meetings and fire everything due, then print what
    /// fired, was skipped, expired or failed, and exit (non-zero when a job failed; it is
    /// tried again later).
    Run {
        /// Do one pass and exit (the daemon, `run`, keeps the schedule itself).
        #[arg(long, required = true)]
        once: bool,
        /// Act as if it were this moment (RFC 3339, e.g. 2023-12-03T09:00:00Z) instead of
        /// now.
        #[arg(long, value_name = "RFC3339")]
        now: Option<chrono::DateTime<chrono::FixedOffset>>,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum TriageCommand {
    /// Messages waiting for a person, oldest first, each with its best guess and reasons.
    List {
        /// Include quarantined messages (from senders the registry does not know).
        #[arg(long)]
        all: bool,
        /// At most N rows.
        #[arg(long, value_name = "N")]
        limit: Option<i64>,
        #[command(flatten)]
        output: Output,
    },
    /// File (or re-file) message ID by hand. Fields not given keep the current filing's
    /// value; the change is recorded in the audit log.
    File {
        /// The message's id, as `messages list` and `triage list` show it.
        id: i64,
        /// draft_minutes, written_update, approval_reply, action_update, bounce,
        /// auto_reply, attendance_response or unrelated.
        #[arg(long, value_name = "K")]
        kind: Option<String>,
        /// Meeting reference, e.g. LCJB-2023-12-13.
        #[arg(long, value_name = "REF")]
        meeting: Option<String>,
        /// Agenda item number as on the agenda (2.b, 2b and "Item 2b" are the same).
        #[arg(long, value_name = "N")]
        item: Option<String>,
        /// Action reference, e.g. LCJB-A17.
        #[arg(long, value_name = "REF")]
        action: Option<String>,
        /// Organisation short name, e.g. "CPS South".
        #[arg(long, value_name = "SHORT")]
        organisation: Option<String>,
        /// Who is filing it, for the audit log (default `cli`).
        #[arg(long, value_name = "WHO", default_value = "cli")]
        by: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum MeetingsCommand {
    /// Every meeting, by date: its reference, date, time and papers deadline, whether it
    /// is cancelled, how many of the organisations expected to report have sent their
    /// update and how many are outstanding, and how far its minutes have got.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// For one meeting: the organisations expected to report (those leading an item or
    /// owning an open action), the updates received, who is outstanding, draft minutes
    /// received, and the triage count.
    Status {
        /// Meeting reference, e.g. LCJB-2023-12-13.
        reference: String,
        #[command(flatten)]
        output: Output,
    },
    /// For one meeting: each member invited (and the invitation's version), what they
    /// answered (attending, apologies with the reason and any deputy, tentative) or that
    /// they have not, and answers that came after the meeting started.
    Attendance {
        /// Meeting reference, e.g. LCJB-2023-12-13.
        reference: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Every outgoing email with its status, attempts and last error.
    List {
        /// Only rows with this status: pending, sending, sent, retrying, failed, unknown,
        /// bounced, expired or held.
        #[arg(long, value_name = "STATUS")]
        status: Option<crate::domain::outbound::OutboxStatus>,
        /// At most this many rows (oldest first).
        #[arg(long, value_name = "N")]
        limit: Option<i64>,
        #[command(flatten)]
        output: Output,
    },
    /// Make emails due again now with a fresh retry window (not those already sent).
    Retry {
        /// The emails' ids, as `outbox list` shows them.
        #[arg(required_unless_present = "failed", conflicts_with = "failed")]
        ids: Vec<i64>,
        /// Every failed email.
        #[arg(long)]
        failed: bool,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RenderFormat {
    /// The subject and the plain-text body.
    Text,
    /// The HTML body.
    Html,
    /// The whole message as it would be sent (MIME).
    Eml,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// acknowledgement, approval_request, approval_result, circulation, action_pack,
    /// update_request, chaser, meeting_pack, bounce_notice, reply_help or triage_notice.
    pub kind: crate::domain::outbound::MailKind,
    /// The meeting, e.g. LCJB-2023-12-13.
    #[arg(long, value_name = "REF")]
    pub meeting: String,
    /// The recipient (a member's address); default: the first secretariat member.
    #[arg(long, value_name = "EMAIL")]
    pub member: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: RenderFormat,
}

#[derive(Debug, Subcommand)]
pub enum MinutesCommand {
    /// Extract and parse a document on disk (.txt, .md, .html, .docx, .pdf) as minuted
    /// would read draft minutes, without touching the database: attendees, apologies,
    /// items, actions, next meeting, and names not in the registry.
    Parse {
        /// The document.
        file: PathBuf,
        /// Registry file to match names against (default: board.file from the config).
        #[arg(long, value_name = "FILE")]
        board: Option<PathBuf>,
        /// Date of the meeting the minutes are of; resolves dates written without a year.
        #[arg(long, value_name = "YYYY-MM-DD")]
        meeting_date: Option<chrono::NaiveDate>,
        #[command(flatten)]
        output: Output,
    },
    /// The latest stored revision of a meeting's minutes: its number and status,
    /// attendees, apologies, items, candidate actions, next meeting and unmatched names.
    Show {
        /// The meeting reference, e.g. LCJB-2023-09-20.
        meeting: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReplyCommand {
    /// Print the sender's own text of a reply on disk, as filing, approval and action
    /// updates read it: quoted text, attributions, header blocks, signatures, taglines,
    /// banners, markings and disclaimers trimmed. FILE is an .eml message (its text/plain
    /// part, else its HTML), an .html body or a plain-text body. --json adds the command
    /// read (approve, reject, undo, comment), what it says of an action (done or
    /// progress) and a WRONG ITEM correction, and what was trimmed and why.
    Parse {
        /// The reply.
        file: PathBuf,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum MessagesCommand {
    /// List stored messages, oldest first, each with what it is filed as.
    List {
        /// Only messages with this status: received, filed, triage, quarantined,
        /// unparseable, oversized.
        #[arg(long, value_name = "S")]
        status: Option<String>,
        /// Only messages filed against this meeting, e.g. LCJB-2023-12-13.
        #[arg(long, value_name = "REF")]
        meeting: Option<String>,
        /// At most N rows.
        #[arg(long, value_name = "N")]
        limit: Option<i64>,
        #[command(flatten)]
        output: Output,
    },
    /// Show one message: its fields, what it is filed as and why, its body text and
    /// attachments; or its raw bytes.
    Show {
        id: i64,
        /// Write the raw RFC 822 bytes as stored to stdout, nothing else.
        #[arg(long, conflicts_with = "json")]
        raw: bool,
        #[arg(long)]
        json: bool,
    },
    /// Search subjects, senders' own words and the text of .docx, .pdf and text
    /// attachments; best matches first (the subject counts most), each with the words
    /// found in context.
    Search(SearchArgs),
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to find (English stemming: "pilots" finds "pilot"); "a phrase" in quotes,
    /// -word to exclude, `or` between alternatives.
    pub query: String,
    /// Only messages filed against this meeting, e.g. LCJB-2023-03-15.
    #[arg(long, value_name = "REF")]
    pub meeting: Option<String>,
    /// Only messages filed against this organisation, e.g. CPS.
    #[arg(long, value_name = "SHORT")]
    pub organisation: Option<String>,
    /// Only messages filed as this kind, e.g. written_update.
    #[arg(long, value_name = "K")]
    pub kind: Option<String>,
    /// Only messages received on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<chrono::NaiveDate>,
    /// At most N results (default 20).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: i64,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum BoardCommand {
    /// Import (upsert) a registry file in one transaction; members removed from the file
    /// are marked inactive, never deleted.
    Import {
        /// The registry TOML file, e.g. deploy/examples/lcjb.toml.
        file: PathBuf,
        #[command(flatten)]
        output: Output,
    },
    /// Show the registry.
    Show {
        /// Board slug, when the database holds more than one board.
        #[arg(long)]
        board: Option<String>,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Clone, Copy, Args)]
pub struct Output {
    /// Print JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl Output {
    /// `value` as JSON with `--json`, else as `text` makes it.
    pub fn print<T: Serialize + ?Sized>(
        self,
        value: &T,
        text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            print_json(value)
        } else {
            print_text(&text(value))
        }
    }
}

/// Loads the settings named on the command line (or in the environment) and validates them.
pub fn settings(config: Option<&Path>) -> anyhow::Result<Loaded> {
    let loaded = config::load(config, std::env::vars())?;
    loaded.settings.validate()?;
    Ok(loaded)
}

pub async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let loaded = || settings(cli.config.as_deref());
    match cli.command {
        Command::CheckConfig => check_config(cli.config.as_deref()),
        Command::Run => {
            let signal = crate::shutdown::termination_signal()?;
            let loaded = loaded()?;
            log_settings(&loaded);
            app::run_until_stopped(loaded.settings, signal).await
        }
        Command::Migrate => {
            let loaded = loaded()?;
            let applied = with_database(&loaded, async |pool| {
                Ok(store::applied_migrations(pool).await?)
            })
            .await?;
            print_text(&format!("database schema is at version {applied}\n"))
        }
        Command::Board(command) => board::run(command, &loaded()?).await,
        Command::Minutes(command) => minutes::run(command, &loaded()?).await,
        Command::Reply(command) => reply::run(command),
        Command::Ingest { once: _, json } => ingest::run_once(&loaded()?, json).await,
        Command::Messages(command) => messages::run(command, &loaded()?).await,
        Command::Send { once, output } => outbox::send(&loaded()?, once, output).await,
        Command::Outbox(command) => outbox::run(command, &loaded()?).await,
        Command::Render(args) => render::run(args, &loaded()?).await,
        Command::Triage(command) => triage::run(command, &loaded()?).await,
        Command::Meetings(command) => meetings::run(command, &loaded()?).await,
        Command::Actions(command) => actions::run(command, &loaded()?).await,
        Command::Schedule(command) => schedule::run(command, &loaded()?).await,
        Command::Auth(command) => auth::run(command, &loaded()?).await,
        Command::Health { output } => health::run(output, &loaded()?).await,
        Command::Http(command) => http::run(command, &loaded()?).await,
        Command::Retention(command) => records::retention(command, &loaded()?).await,
        Command::Hold(command) => records::hold(command, &loaded()?).await,
        Command::Person(command) => records::person(command, &loaded()?).await,
    }
}

fn check_config(config: Option<&Path>) -> anyhow::Result<()> {
    let loaded = settings(config)?;
    let source = loaded.file.as_ref().map_or_else(
        || "embedded defaults".to_owned(),
        |p| p.display().to_string(),
    );
    let overrides = if loaded.overrides.is_empty() {
        String::new()
    } else {
        format!(" with overrides from {}", loaded.overrides.join(", "))
    };
    if let Some(file) = &loaded.settings.board.file {
        registry::load(file).context("board.file does not hold a valid registry")?;
    }
    app::load_templates(&loaded.settings)?;
    print_text(&format!("configuration OK: {source}{overrides}\n"))
}

fn log_settings(loaded: &Loaded) {
    let source = loaded.file.as_ref().map_or_else(
        || "embedded defaults".to_owned(),
        |p| p.display().to_string(),
    );
    tracing::info!(config = %source, overrides = ?loaded.overrides, "settings loaded");
    tracing::debug!(settings = ?loaded.settings, "effective settings");
}

/// Opens (and migrates) the database, runs `work`, and closes the database whatever
/// `work` returned, so a failing command never leaves the private cluster running.
pub(crate) async fn with_database<T>(
    loaded: &Loaded,
    work: impl AsyncFnOnce(&PgPool) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let database = app::open_database(&loaded.settings).await?;
    let result = work(&database.pool).await;
    let closed = database.close().await;
    let value = result?;
    closed?;
    Ok(value)
}

pub fn print_json(value: &(impl Serialize + ?Sized)) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("failed to encode JSON")?;
    print_text(&format!("{text}\n"))
}

/// Writes command output to stdout. A closed pipe (`minuted board show | head`) is the
/// reader's choice, not an error: stop writing and succeed.
pub fn print_text(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(err).context("failed to write to stdout"),
    }
}
