//! minuted: the mail daemon of a board secretariat.
//!
//! It reads a board's mailbox, files every message against the right meeting, agenda
//! item, action and agency in PostgreSQL, asks the secretariat to approve by reply, and
//! sends circulation emails, action packs, acknowledgements and chasers from templates.
//!
//! # Layout
//! - [`actions`]: updates by reply: a filed action update applied to its action once.
//! - [`alerts`]: alarms when mail stops: contacts recorded, alarms opened and resolved,
//!   the secretariat emailed once per incident.
//! - [`cli`]: the command line (clap), its output as tables or `--json`.
//! - [`clock`]: the injected clock; nothing else reads the system time.
//! - [`config`]: settings from the TOML file, environment overrides, validation.
//! - [`approval`]: approval by reply: signed reply tokens, reading replies from any mail
//!   client, trusting only our own server's `Authentication-Results`.
//! - [`app`]: builds the daemon from settings and runs its workers until shutdown.
//! - [`database`]: the PostgreSQL server at `database.url` or the private cluster.
//! - [`domain`]: pure types with validating constructors (addresses, item references,
//!   kinds of outbound mail, the board's time zone).
//! - [`filing`]: what a message is and what it belongs to, with reasons (`decide`, pure,
//!   split by the evidence each part weighs), and its worker: received messages decided
//!   and recorded, answers to replies that could not be acted on, triage notices.
//! - [`text`]: the one HTML-to-text converter, the one reader of a person's own words
//!   in a reply (quotes, attributions, signatures, taglines trimmed), and the one date
//!   recogniser.
//! - [`minutes`]: draft minutes: text extraction (.docx, .pdf, .html, .md, .txt), the
//!   structure parser (attendees, apologies, items, actions, next meeting; split by what
//!   it reads), the document approvers and members receive, and the draft worker.
//! - [`ingest`]: mailbox sources (IMAP, Maildir), MIME parsing, the ingest worker.
//! - [`oauth`]: OAuth 2.0 sign-in for IMAP and SMTP: providers' endpoints, sealed tokens
//!   refreshed before expiry, SASL XOAUTH2 and OAUTHBEARER.
//! - [`outbox`]: outgoing mail: queueing, rendering, the sender worker, transports, bounces.
//! - [`registry`]: the board registry file: parse, validate, present.
//! - [`retry`]: the one backoff and the one log of a failure that repeats.
//! - [`shutdown`]: how the daemon stops: `Shutdown`, the one worker loop
//!   (`Shutdown::repeat`), the termination signal, whether another process still runs.
//! - [`schedule`]: the persistent schedule: update requests, chasers, meeting packs.
//! - [`store`]: every SQL query, one file per aggregate (filings, triage, a meeting's
//!   status, the outbox, bounces, what rendering needs from the registry, ...).
//! - [`templates`]: the email templates: embedded defaults, operator overrides, strict rendering.
//! - [`logging`]: tracing set-up (human on a terminal, JSON on request).
//!
//! Dependencies point inward: `domain`, `registry`, `text`, the readers of `minutes`
//! (`extract`, `structure`, `report`, `document`) and of `approval` (`token`, `reply`,
//! `authresults`) know nothing of tokio or sqlx.

pub mod actions;
pub mod alerts;
pub mod app;
pub mod approval;
pub mod cli;
pub mod clock;
pub mod config;
pub mod database;
pub mod domain;

pub mod filing;
pub mod ingest;
pub mod logging;
pub mod minutes;
pub mod oauth;
pub mod outbox;
pub mod registry;
pub mod retry;
pub mod schedule;
pub mod shutdown;
pub mod store;
pub mod templates;
pub mod text;
