//! What the types alone cannot check: required companions, formats, ranges
//! ([`Settings::validate`]). Every problem names its key and says what to do.

use super::*;

impl Settings {
    /// Checks what the types alone cannot: required companions, formats, ranges. Every
    /// problem names its key and says what to do.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut problem = |key: &str, message: String| {
            problems.push(Problem {
                key: key.to_owned(),
                message,
            })
        };

        if self.data_dir.as_os_str().is_empty() {
            problem(
                "data_dir",
                "must not be empty; the default is \"./var\"".into(),
            );
        }
        if let Some(url) = &self.database.url {
            let url = url.expose();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                problem(
                    "database.url",
                    "must start with postgres:// or postgresql://; remove it to use the private cluster in data_dir".into(),
                );
            }
        }
        if self.database.max_connections == 0 {
            problem("database.max_connections", "must be at least 1".into());
        }

        let mailbox = &self.mailbox;
        if mailbox.source == MailboxSource::Imap {
            for (key, missing) in [
                ("mailbox.host", mailbox.host.is_none()),
                ("mailbox.username", mailbox.username.is_none()),
                (
                    "mailbox.password",
                    mailbox.auth == AuthKind::Password && mailbox.password.is_none(),
                ),
            ] {
                if missing {
                    problem(key, "required when mailbox.source = \"imap\"".into());
                }
            }
            if mailbox.folders.is_empty() {
                problem(
                    "mailbox.folders",
                    "name at least one folder, e.g. [\"INBOX\"]".into(),
                );
            }
        }
        if mailbox.port == Some(0) {
            problem("mailbox.port", "must be between 1 and 65535".into());
        }
        let after = mailbox.after.as_str();
        let move_target = after.strip_prefix("move:");
        if !(after == "seen" || after == "leave" || move_target.is_some_and(|f| !f.is_empty())) {
            problem(
                "mailbox.after",
                format!("\"{after}\" is not one of \"seen\", \"leave\", \"move:FOLDER\""),
            );
        }
        if mailbox.max_message_bytes < 64 * 1024 {
            problem(
                "mailbox.max_message_bytes",
                "must be at least 65536; the default is 52428800 (50 MB)".into(),
            );
        }
        if mailbox.poll_seconds == 0 || mailbox.poll_seconds > 3600 {
            problem(
                "mailbox.poll_seconds",
                "must be between 1 and 3600; the default is 5".into(),
            );
        }
        // RFC 2177 asks for IDLE to be re-issued at least every 29 minutes; the issue
        // asks for a dead connection to be noticed within 5 (IDLE plus one command).
        if !(10..=1500).contains(&mailbox.idle_seconds) {
            problem(
                "mailbox.idle_seconds",
                "must be between 10 and 1500 (25 minutes); the default is 240".into(),
            );
        }
        if !(1..=600).contains(&mailbox.command_timeout_seconds) {
            problem(
                "mailbox.command_timeout_seconds",
                "must be between 1 and 600; the default is 60".into(),
            );
        }
        if let Some(path) = &mailbox.tls_ca_file {
            if path.as_os_str().is_empty() {
                problem(
                    "mailbox.tls_ca_file",
                    "must name a PEM file, or be left out".into(),
                );
            }
        }

        if mailbox.source == MailboxSource::Imap {
            check_oauth2(
                "mailbox",
                mailbox.auth,
                mailbox.oauth2.as_ref(),
                &mut problem,
            );
        }
        if self.outgoing.transport == Transport::Smtp {
            check_oauth2(
                "outgoing",
                self.outgoing.auth,
                self.outgoing.oauth2.as_ref(),
                &mut problem,
            );
            if self.outgoing.auth == AuthKind::Oauth2 && self.outgoing.username.is_none() {
                problem(
                    "outgoing.username",
                    "required with outgoing.auth = \"oauth2\": the mailbox the token signs in as"
                        .into(),
                );
            }
        }
        if let Some(key) = &self.secrets.key {
            if key.expose().len() < 32 {
                problem("secrets.key", "must be at least 32 characters".into());
            }
        }
        if self.mailbox.source == MailboxSource::Imap
            && u64::from(self.alerts.mailbox_minutes) * 60 <= self.mailbox.idle_seconds
        {
            problem(
                "alerts.mailbox_minutes",
                format!(
                    "must be longer than mailbox.idle_seconds ({} s): a quiet mailbox is read once per IDLE period",
                    self.mailbox.idle_seconds
                ),
            );
        }
        if self.alerts.mailbox_minutes == 0 {
            problem(
                "alerts.mailbox_minutes",
                "must be at least 1; the default is 30".into(),
            );
        }
        if self.alerts.outgoing_minutes == 0 {
            problem(
                "alerts.outgoing_minutes",
                "must be at least 1; the default is 30".into(),
            );
        }

        let outgoing = &self.outgoing;
        if outgoing.transport == Transport::Smtp && outgoing.host.is_none() {
            problem(
                "outgoing.host",
                "required when outgoing.transport = \"smtp\"".into(),
            );
        }
        if outgoing.port == Some(0) {
            problem("outgoing.port", "must be between 1 and 65535".into());
        }
        if outgoing.auth == AuthKind::Password
            && outgoing.username.is_some() != outgoing.password.is_some()
        {
            problem(
                "outgoing.password",
                "outgoing.username and outgoing.password go together: set both or neither".into(),
            );
        }
        if let Err(err) = outgoing.from.parse::<lettre::message::Mailbox>() {
            problem(
                "outgoing.from",
                format!(
                    "\"{}\" is not a mailbox ({err}); write it as \"Name <address@domain>\"",
                    outgoing.from
                ),
            );
        }

        if outgoing.concurrency == 0 || outgoing.concurrency > 64 {
            problem("outgoing.concurrency", "must be between 1 and 64".into());
        }
        if outgoing.max_retry_hours == 0 || outgoing.max_retry_hours > 24 * 30 {
            problem(
                "outgoing.max_retry_hours",
                "must be between 1 and 720 (30 days)".into(),
            );
        }
        if outgoing.timeout_seconds == 0 || outgoing.timeout_seconds > 600 {
            problem(
                "outgoing.timeout_seconds",
                "must be between 1 and 600".into(),
            );
        }
        if u64::from(outgoing.lease_seconds) < 8 * u64::from(outgoing.timeout_seconds) {
            problem(
                "outgoing.lease_seconds",
                format!(
                    "must be at least 8 × outgoing.timeout_seconds ({}), so a slow send finishes before another process takes the message over",
                    8 * u64::from(outgoing.timeout_seconds)
                ),
            );
        }
        if let Some(path) = &outgoing.tls_ca_file {
            if !path.is_file() {
                problem(
                    "outgoing.tls_ca_file",
                    format!(
                        "{} is not a readable file; name a PEM certificate or remove the key",
                        path.display()
                    ),
                );
            }
        }
        if outgoing.transport == Transport::Sendmail && outgoing.sendmail_command.trim().is_empty()
        {
            problem(
                "outgoing.sendmail_command",
                "required when outgoing.transport = \"sendmail\", e.g. \"/usr/sbin/sendmail\""
                    .into(),
            );
        }
        if let Some(dir) = &self.templates.dir {
            if !dir.is_dir() {
                problem(
                    "templates.dir",
                    format!("{} is not a directory; create it or remove the key to use the embedded templates", dir.display()),
                );
            }
        }

        if let Some(secret) = &self.approval.secret {
            if secret.expose().len() < 32 {
                problem(
                    "approval.secret",
                    "must be at least 32 characters; generate one with `openssl rand -hex 32`"
                        .into(),
                );
            }
        }
        let approval = &self.approval;
        if approval.token_days == 0 || approval.token_days > 90 {
            problem(
                "approval.token_days",
                "must be between 1 and 90; the default is 14".into(),
            );
        }
        if approval.undo_minutes > 1440 {
            problem(
                "approval.undo_minutes",
                "must be between 0 (no hold) and 1440; the default is 10".into(),
            );
        }
        match approval.authserv_id.as_deref() {
            Some(id) if id.is_empty() || id.contains(|c: char| c.is_whitespace() || c == ';') => {
                problem(
                    "approval.authserv_id",
                    format!("\"{id}\" is not an authserv-id; write the host name your mail server puts first in Authentication-Results, e.g. \"mx.board.example\""),
                );
            }
            None if approval.require_dkim => problem(
                "approval.authserv_id",
                "required when approval.require_dkim = true: the authserv-id of your mail server's Authentication-Results, e.g. \"mx.board.example\"".into(),
            ),
            _ => {}
        }
        if self.daemon.shutdown_grace_seconds == 0 || self.daemon.shutdown_grace_seconds > 300 {
            problem(
                "daemon.shutdown_grace_seconds",
                "must be between 1 and 300".into(),
            );
        }

        let threshold = self.filing.threshold;
        if !(threshold > 0.0 && threshold <= 1.0) {
            problem(
                "filing.threshold",
                format!("{threshold} is not between 0 (exclusive) and 1; the default is 0.7"),
            );
        }

        let schedule = &self.schedule;
        for (key, text) in [
            ("schedule.send_time", &schedule.send_time),
            ("schedule.pack_time", &schedule.pack_time),
            ("digest.time", &self.digest.time),
        ] {
            if parse_time_of_day(text).is_none() {
                problem(
                    key,
                    format!("\"{text}\" is not a time of day; write HH:MM (the board's local time), e.g. \"09:00\""),
                );
            }
        }
        for (key, days) in [
            ("schedule.update_request_days", schedule.update_request_days),
            ("schedule.chaser_days", schedule.chaser_days),
            ("schedule.invitation_days", schedule.invitation_days),
            ("schedule.quorum_days", schedule.quorum_days),
            (
                "schedule.papers_deadline_days",
                schedule.papers_deadline_days,
            ),
        ] {
            if days > 365 {
                problem(key, format!("{days} is more than a year; use 0 to 365"));
            }
        }
        if schedule.tick_seconds == 0 || schedule.tick_seconds > 3600 {
            problem(
                "schedule.tick_seconds",
                "must be between 1 and 3600; the default is 60".into(),
            );
        }

        for kind in self.retention.kinds.keys() {
            if crate::domain::filing::Kind::parse(kind).is_none() {
                let kinds: Vec<&str> = crate::domain::filing::Kind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect();
                problem(
                    &format!("retention.kinds.{kind}"),
                    format!(
                        "\"{kind}\" is not a filing kind; use one of {}",
                        kinds.join(", ")
                    ),
                );
            }
        }

        if let Some(listen) = &self.http.listen {
            if self.http.listen_addr().is_none() {
                problem(
                    "http.listen",
                    format!(
                        "\"{listen}\" is not an address and port; write e.g. \"127.0.0.1:8025\""
                    ),
                );
            }
        }
        if self.http.session_hours == 0 || self.http.session_hours > 24 * 30 {
            problem(
                "http.session_hours",
                "must be between 1 and 720; the default is 12".into(),
            );
        }

        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}
