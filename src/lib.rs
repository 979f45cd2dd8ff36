//! minuted: the mail daemon of a board secretariat.
//!
//! It reads a board's mailbox, files every message against the right meeting, agenda
//! item, action and agency in PostgreSQL, asks the secretariat to approve by reply, and
//! sends circulation emails, action packs, acknowledgements and chasers from templates.
//!
//! # Layout
//! The stages, in the order mail flows through them:
//! 1. [`ingest`]: mailbox to messages: sources (IMAP, Maildir), MIME parsing, the ingest
//!    worker.
//! 2. [`filing`]: messages to filings: what a message is and what it belongs to, with
//!    reasons (`decide`, pure, split by the evidence each part weighs); what we sent that
//!    it points back at (`sent`); the answers to its sender (`acknowledge`: the
//!    acknowledgement, the answer to a reply that could not be acted on); a member's
//!    answer to an invitation recorded in the attendance register (`attendance`); the
//!    worker.
//! 3. What a filed message sets going:
//!    - [`minutes`]: draft to revision: text extraction (.docx, .pdf, .html, .md, .txt),
//!      the structure parser (`structure/`, split by what it reads), the report, the
//!      document approvers and members receive, the draft step (`drafts`: a revision
//!      and its approval requests) and the worker that runs it.
//!    - [`approval`]: reply to decision: signed reply tokens, trusting only our own
//!      server's `Authentication-Results`; the request (who approves, one approver's
//!      request, what a pack's approval is about); applying a decision; the worker; and
//!      the loop both it and the minutes worker run (`keyed`: a step that needs the key).
//!    - [`actions`]: update to register: what a reply says (`rules`), applying it once
//!      (`apply`), the register by hand (`hand`), the worker.
//!    - [`schedule`]: the time-driven jobs: planning (`plan`), firing (`fire`), the
//!      meeting pack (`pack`), invitations (`invite`), quorum warnings (`quorum`), the
//!      secretariat's daily digest (`digest`), the worker (which also starts the daily
//!      retention run).
//!    - [`alerts`]: alarms when mail stops: contacts recorded, alarms opened and resolved,
//!      the secretariat emailed once per incident.
//! 4. [`outbox`]: outbox to mail: template contexts, composing, transports, the sender
//!    worker, bounces.
//!
//! 5. [`records`]: what the archive holds over time: the search index (`index`), the
//!    retention schedule with legal holds (`retention`), a person's subject-access export
//!    and erasure (`person`).
//!
//! What people look at:
//! - [`overview`]: the one read model of what the secretariat looks at (meetings with
//!   reports and attendance, triage, approvals, actions, outbox problems, events), for
//!   the status page and the daily digest.
//! - [`health`]: whether mail flows, for `minuted health` and `/readyz`.
//! - [`measure`]: the Prometheus figures, read from the database at each scrape, and the
//!   daemon's own timings.
//! - [`http`]: the HTTP server: health, metrics, the signed-in status page.
//!
//! Running them:
//! - [`app`]: builds the daemon from settings and runs its workers until shutdown.
//! - [`shutdown`]: how the daemon stops: `Shutdown`, the one worker loop
//!   (`Shutdown::repeat`), the termination signal, whether another process still runs.
//! - [`cli`]: the command line (clap), its output as tables (one printer) or `--json`.
//!
//! What the stages share, below them:
//! - [`domain`]: pure types shared by the stages and the store: addresses, item
//!   references, the board's time zone, the VERP and reply addresses, a parsed message
//!   (`message`), the board as filing reads it and a meeting's head as it is shown
//!   (`board`), what filing decides (`filing`), the kinds of outbound mail and the typed
//!   context of each (`outbound`, `mail`).
//! - [`text`]: the one HTML-to-text converter, the one reader of a person's own words in
//!   a reply (quotes, attributions, signatures, taglines trimmed), the command in them
//!   (`commands`, read by approval and actions alike), and the one date recogniser.
//! - [`registry`]: the board registry file: the validated model, reading (`parse`),
//!   checking every value with its position (`check`), and presenting a board (`view`).
//! - [`store`]: every SQL query, one file per aggregate (filings, triage, a meeting's
//!   status, the outbox, bounces, what rendering needs from the registry, ...); rows are
//!   mapped with `sqlx::FromRow`. It imports `domain`, `clock`, rendered templates, and
//!   (to write and show a board) the registry's model.
//! - [`oauth`]: OAuth 2.0 sign-in for IMAP and SMTP: providers' endpoints, sealed tokens
//!   refreshed before expiry, SASL XOAUTH2 and OAUTHBEARER.
//! - [`templates`]: the email templates: embedded defaults, operator overrides, strict
//!   rendering.
//! - [`retry`]: the one backoff and the one log of a failure that repeats.
//! - [`config`]: settings from the TOML file, environment overrides, validation.
//! - [`database`]: the PostgreSQL server at `database.url` or the private cluster.
//! - [`clock`]: the injected clock; nothing else reads the system time.
//! - [`logging`]: tracing set-up (human on a terminal, JSON on request).
//!
//! Dependencies point inward: `domain`, `registry`, `text`, the readers of `minutes`
//! (`extract`, `structure`, `report`, `document`) and of `approval` (`token`,
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
pub mod health;
pub mod http;
pub mod ingest;
pub mod logging;
pub mod measure;
pub mod minutes;
pub mod oauth;
pub mod outbox;
pub mod overview;
pub mod records;
pub mod registry;
pub mod retry;
pub mod schedule;
pub mod shutdown;
pub mod store;
pub mod templates;
pub mod text;
