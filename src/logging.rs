//! Logging set-up: human-readable lines (coloured on a terminal) or one JSON object per
//! line for log collectors. Logs go to stderr; stdout is kept for command output.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// PostgreSQL's notices ("relation already exists, skipping") are noise at info.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// `level` is a tracing filter (`info`, `minuted=debug,sqlx=warn`); `RUST_LOG` is used when
/// it is absent, and `info` (sqlx at `warn`) when both are.
pub fn init(format: LogFormat, level: Option<&str>) {
    let filter = match level {
        Some(level) => EnvFilter::new(level),
        None => {
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
        }
    };
    // The IMAP and SMTP libraries write each command they send at trace level, sign-in
    // included (a password, a bearer token): never below debug, whatever was asked.
    let filter = [
        "async_imap=debug",
        "lettre=debug",
        "reqwest=debug",
        "hyper=info",
    ]
    .into_iter()
    .filter_map(|d| d.parse().ok())
    .fold(filter, |f, d| f.add_directive(d));
    // A closed stderr (`minuted ... 2>&1 | head`) must not turn into a panic.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .init(),
    }
    // A panic is logged as one event in the chosen format rather than printed raw over
    // the log: the mail parser's panics on hostile MIME are caught and the message is
    // kept as unparseable, so they are not crashes, and a real one still says where.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(%location, panic = %payload, "panicked");
    }));
}

/// An error with its sources, each said once: `connect: Connection refused (os error 111)`.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    text
}
