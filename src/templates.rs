//! The email templates: loading, checking and rendering.
//!
//! Each [`MailKind`] has three Handlebars templates in `templates/`: `KIND.subject.hbs`,
//! `KIND.txt.hbs` (the plain-text body) and `KIND.html.hbs` (the HTML body; together they
//! make a multipart/alternative message). The files in the repository are embedded in the
//! binary; an operator may override any of them by putting a file of the same name in the
//! directory named by `templates.dir`. A file there that matches no template is an error,
//! so a typo never silently leaves the default in place.
//!
//! Everything is compiled, and rendered once against the kind's example context
//! (`templates/examples/KIND.json`), when [`Templates::load`] runs — at the start of `run`
//! and in `check-config` — so a broken template or a misspelt variable stops the daemon
//! at start-up rather than failing one email at send time. Rendering is strict: a variable
//! missing from the context is an error, never an empty string.
//!
//! Escaping: the HTML body is HTML-escaped; the subject and the text body are not (they are
//! not HTML). The subject becomes a header, so [`header_text`] strips it of line breaks and
//! other control characters after rendering; lettre encodes what remains.
//!
//! This module does not build the context (the outbox worker and `minuted render` do, from
//! the database) nor the MIME message (`outbox::compose`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;
use serde::Serialize;
use serde_json::Value;

use crate::domain::outbound::MailKind;

/// One of the three parts of a kind's email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Subject,
    Text,
    Html,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Subject, Part::Text, Part::Html];

    fn suffix(self) -> &'static str {
        match self {
            Part::Subject => "subject.hbs",
            Part::Text => "txt.hbs",
            Part::Html => "html.hbs",
        }
    }
}

/// The file name of a template, e.g. `circulation.html.hbs`.
pub fn file_name(kind: MailKind, part: Part) -> String {
    format!("{}.{}", kind.as_str(), part.suffix())
}

/// The templates shipped in the binary, by file name.
fn embedded_source(kind: MailKind, part: Part) -> &'static str {
    macro_rules! kinds {
        ($($kind:ident => $name:literal),* $(,)?) => {
            match (kind, part) {
                $(
                    (MailKind::$kind, Part::Subject) => include_str!(concat!("../templates/", $name, ".subject.hbs")),
                    (MailKind::$kind, Part::Text) => include_str!(concat!("../templates/", $name, ".txt.hbs")),
                    (MailKind::$kind, Part::Html) => include_str!(concat!("../templates/", $name, ".html.hbs")),
                )*
            }
        };
    }
    kinds! {
        Acknowledgement => "acknowledgement",
        ApprovalRequest => "approval_request",
        ApprovalResult => "approval_result",
        Circulation => "circulation",
        ActionPack => "action_pack",
        UpdateRequest => "update_request",
        Chaser => "chaser",
        MeetingPack => "meeting_pack",
        BounceNotice => "bounce_notice",
        ReplyHelp => "reply_help",
        TriageNotice => "triage_notice",
        Alert => "alert",
        Invitation => "invitation",
        AttendanceRecorded => "attendance_recorded",
        QuorumWarning => "quorum_warning",
        Digest => "digest",
    }
}

/// The example context of a kind (`templates/examples/KIND.json`): every key the kind's
/// templates may use, with realistic values. Used to check templates at load time, by
/// `minuted render` for what the database does not hold, and by the golden tests.
pub fn example_context(kind: MailKind) -> Value {
    let text = match kind {
        MailKind::Acknowledgement => include_str!("../templates/examples/acknowledgement.json"),
        MailKind::ApprovalRequest => include_str!("../templates/examples/approval_request.json"),
        MailKind::ApprovalResult => include_str!("../templates/examples/approval_result.json"),
        MailKind::Circulation => include_str!("../templates/examples/circulation.json"),
        MailKind::ActionPack => include_str!("../templates/examples/action_pack.json"),
        MailKind::UpdateRequest => include_str!("../templates/examples/update_request.json"),
        MailKind::Chaser => include_str!("../templates/examples/chaser.json"),
        MailKind::MeetingPack => include_str!("../templates/examples/meeting_pack.json"),
        MailKind::BounceNotice => include_str!("../templates/examples/bounce_notice.json"),
        MailKind::ReplyHelp => include_str!("../templates/examples/reply_help.json"),
        MailKind::TriageNotice => include_str!("../templates/examples/triage_notice.json"),
        MailKind::Alert => include_str!("../templates/examples/alert.json"),
        MailKind::Invitation => include_str!("../templates/examples/invitation.json"),
        MailKind::AttendanceRecorded => {
            include_str!("../templates/examples/attendance_recorded.json")
        }
        MailKind::QuorumWarning => include_str!("../templates/examples/quorum_warning.json"),
        MailKind::Digest => include_str!("../templates/examples/digest.json"),
    };
    // The examples are embedded and checked by a unit test, so this cannot fail in a
    // released binary; an empty object keeps the signature infallible regardless.
    serde_json::from_str(text).unwrap_or_else(|_| Value::Object(Default::default()))
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template directory {path} (templates.dir): {source}")]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the template {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a template minuted knows (templates.dir); the names are KIND.subject.hbs, KIND.txt.hbs and KIND.html.hbs with KIND one of: {kinds}")]
    UnknownFile { path: PathBuf, kinds: String },
    #[error("the template {origin} does not compile: {message}")]
    Compile { origin: String, message: String },
    #[error("the template {origin} does not render: {message}")]
    Render { origin: String, message: String },
}

/// A kind's email, rendered: a one-line subject and the two bodies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Every template, compiled and checked.
pub struct Templates {
    /// Subjects and text bodies: no escaping (they are not HTML).
    plain: Handlebars<'static>,
    /// HTML bodies: HTML-escaped.
    html: Handlebars<'static>,
    /// Where each template came from, for error messages: `embedded:NAME` or a path.
    origins: BTreeMap<String, String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

impl Templates {
    /// The embedded templates only.
    pub fn embedded() -> Result<Templates, TemplateError> {
        Templates::load(None)
    }

    /// The embedded templates, each replaced by the file of the same name in `dir` when
    /// there is one. Compiles everything and renders each kind against its example
    /// context.
    pub fn load(dir: Option<&Path>) -> Result<Templates, TemplateError> {
        let mut overrides: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
        if let Some(dir) = dir {
            let known: Vec<String> = MailKind::ALL
                .iter()
                .flat_map(|&k| Part::ALL.map(|p| file_name(k, p)))
                .collect();
            let entries = std::fs::read_dir(dir).map_err(|source| TemplateError::Directory {
                path: dir.to_owned(),
                source,
            })?;
            for entry in entries {
                let entry = entry.map_err(|source| TemplateError::Directory {
                    path: dir.to_owned(),
                    source,
                })?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                // Editor backups and dotfiles are not templates; anything else must be.
                if name.starts_with('.') || name.ends_with('~') || !path.is_file() {
                    continue;
                }
                if !known.contains(&name) {
                    let kinds: Vec<&str> = MailKind::ALL.iter().map(|k| k.as_str()).collect();
                    return Err(TemplateError::UnknownFile {
                        path,
                        kinds: kinds.join(", "),
                    });
                }
                let text =
                    std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                        path: path.clone(),
                        source,
                    })?;
                overrides.insert(name, (path, text));
            }
        }

        let mut plain = Handlebars::new();
        plain.set_strict_mode(true);
        plain.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);

        let mut origins = BTreeMap::new();
        for kind in MailKind::ALL {
            for part in Part::ALL {
                let name = file_name(kind, part);
                let (origin, text) = match overrides.get(&name) {
                    Some((path, text)) => (path.display().to_string(), text.as_str()),
                    None => (
                        format!("embedded:templates/{name}"),
                        embedded_source(kind, part),
                    ),
                };
                let registry = if part == Part::Html {
                    &mut html
                } else {
                    &mut plain
                };
                registry
                    .register_template_string(&name, text)
                    .map_err(|err| TemplateError::Compile {
                        origin: origin.clone(),
                        message: err.to_string(),
                    })?;
                origins.insert(name, origin);
            }
        }

        let templates = Templates {
            plain,
            html,
            origins,
        };
        for kind in MailKind::ALL {
            templates.render(kind, &example_context(kind))?;
        }
        Ok(templates)
    }

    /// Renders a kind's subject and bodies against `context`. The subject comes back as
    /// one line, safe to put in a header.
    pub fn render(&self, kind: MailKind, context: &Value) -> Result<Rendered, TemplateError> {
        let subject = self.render_part(kind, Part::Subject, context)?;
        let text = self.render_part(kind, Part::Text, context)?;
        let html = self.render_part(kind, Part::Html, context)?;
        Ok(Rendered {
            subject: header_text(&subject),
            text,
            html,
        })
    }

    fn render_part(
        &self,
        kind: MailKind,
        part: Part,
        context: &Value,
    ) -> Result<String, TemplateError> {
        let name = file_name(kind, part);
        let registry = if part == Part::Html {
            &self.html
        } else {
            &self.plain
        };
        registry
            .render(&name, context)
            .map_err(|err| TemplateError::Render {
                origin: self.origins.get(&name).cloned().unwrap_or(name),
                message: err.to_string(),
            })
    }
}

/// Bidirectional overrides and isolates: invisible, and able to make a subject or a name
/// read differently from what it is.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text that is about to become (part of) a header: line breaks, tabs and other control
/// characters become spaces, runs of whitespace one space, bidirectional overrides are
/// dropped, and the ends are trimmed. A subject or display name can then never start a
/// new header or end the header block.
pub fn header_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if is_bidi_control(c) {
            continue;
        }
        // Unicode line and paragraph separators are line breaks to some clients.
        if c.is_control() || c.is_whitespace() || c == '\u{2028}' || c == '\u{2029}' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_example_context_is_valid_json() {
        for kind in MailKind::ALL {
            let text = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("templates/examples/{}.json", kind.as_str())),
            )
            .unwrap();
            let value: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("templates/examples/{kind}.json: {e}"));
            assert!(value.is_object(), "{kind}");
        }
    }

    /// `example` read as `T` and written back: what the typed context carries of it.
    fn through<T: serde::de::DeserializeOwned + Serialize>(
        kind: MailKind,
        example: Value,
    ) -> Value {
        let typed: T = serde_json::from_value(example)
            .unwrap_or_else(|e| panic!("templates/examples/{kind}.json is not its type: {e}"));
        serde_json::to_value(typed).unwrap()
    }

    #[test]
    fn every_example_is_its_kinds_typed_context_and_renders_the_same_from_it() {
        use crate::domain::mail;
        // The keys every kind gets from the registry when rendered (`outbox::context`).
        const REGISTRY: [&str; 5] = [
            "board",
            "recipient",
            "reply_address",
            "meeting",
            "attachments",
        ];
        let templates = Templates::embedded().unwrap();
        for kind in MailKind::ALL {
            let example = example_context(kind);
            let mut own = example.as_object().unwrap().clone();
            let registry: serde_json::Map<String, Value> = REGISTRY
                .iter()
                .filter_map(|k| own.remove(*k).map(|v| ((*k).to_owned(), v)))
                .collect();
            let own = Value::Object(own);
            let typed = match kind {
                MailKind::Acknowledgement => through::<mail::Acknowledgement>(kind, own),
                MailKind::ApprovalRequest => through::<mail::ApprovalRequest>(kind, own),
                MailKind::ApprovalResult => through::<mail::ApprovalResult>(kind, own),
                MailKind::Circulation => through::<mail::Circulation>(kind, own),
                MailKind::ActionPack => through::<mail::ActionPack>(kind, own),
                MailKind::UpdateRequest | MailKind::Chaser => {
                    through::<mail::UpdateRequest>(kind, own)
                }
                MailKind::MeetingPack => {
                    let mut content = own.as_object().unwrap().clone();
                    let id = content.remove("meeting_pack_id").and_then(|v| v.as_i64());
                    let content = through::<mail::PackContent>(kind, Value::Object(content));
                    serde_json::to_value(mail::MeetingPack {
                        content: content.as_object().unwrap().clone(),
                        meeting_pack_id: id.expect("meeting_pack_id"),
                    })
                    .unwrap()
                }
                MailKind::BounceNotice => through::<mail::BounceNotice>(kind, own),
                MailKind::ReplyHelp => through::<mail::ReplyHelp>(kind, own),
                MailKind::TriageNotice => through::<mail::TriageNotice>(kind, own),
                MailKind::Alert => through::<mail::Alert>(kind, own),
                MailKind::Invitation => through::<mail::Invitation>(kind, own),
                MailKind::AttendanceRecorded => through::<mail::AttendanceRecorded>(kind, own),
                MailKind::QuorumWarning => through::<mail::QuorumWarning>(kind, own),
                MailKind::Digest => through::<mail::Digest>(kind, own),
            };
            let mut context = typed.as_object().unwrap().clone();
            context.extend(registry);
            let from_type = templates.render(kind, &Value::Object(context));
            let from_example = templates.render(kind, &example).unwrap();
            assert_eq!(
                from_type
                    .unwrap_or_else(|e| panic!("{kind}: a template reads beyond its type: {e}")),
                from_example,
                "{kind}"
            );
        }
    }

    #[test]
    fn the_embedded_templates_compile_and_render_their_examples() {
        let templates = Templates::embedded().unwrap();
        for kind in MailKind::ALL {
            let rendered = templates.render(kind, &example_context(kind)).unwrap();
            assert!(!rendered.subject.is_empty(), "{kind}");
            assert!(!rendered.subject.contains(['\r', '\n']), "{kind}");
            assert!(!rendered.text.trim().is_empty(), "{kind}");
            assert!(rendered.html.contains("<html"), "{kind}");
        }
    }

    #[test]
    fn header_text_removes_line_breaks_and_control_characters() {
        let cases = [
            (
                "Minutes\r\nBcc: victim@example.com",
                "Minutes Bcc: victim@example.com",
            ),
            ("a\n.\nb", "a . b"),
            ("  tabs\tand\u{0}nul  ", "tabs and nul"),
            ("line\u{2028}separator", "line separator"),
            ("gpj.\u{202E}exe", "gpj.exe"),
            ("Plain subject", "Plain subject"),
            ("\r\n", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(header_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn the_html_body_is_escaped_and_the_text_body_and_subject_are_not() {
        let templates = Templates::embedded().unwrap();
        let mut context = example_context(MailKind::Circulation);
        context["recipient"]["name"] = json!("Tom <b>& Jerry</b>");
        context["meeting"]["title"] = json!("Q&A\r\nBcc: x@evil.example");
        let rendered = templates.render(MailKind::Circulation, &context).unwrap();
        assert!(
            rendered.text.contains("Tom <b>& Jerry</b>"),
            "{}",
            rendered.text
        );
        assert!(
            rendered.html.contains("Tom &lt;b&gt;&amp; Jerry&lt;/b&gt;"),
            "{}",
            rendered.html
        );
        assert!(!rendered.html.contains("<b>&"));
        assert!(
            !rendered.subject.contains(['\r', '\n']),
            "{}",
            rendered.subject
        );
    }

    #[test]
    fn a_missing_variable_is_an_error_not_an_empty_string() {
        let templates = Templates::embedded().unwrap();
        let mut context = example_context(MailKind::Circulation);
        context.as_object_mut().unwrap().remove("meeting");
        let err = templates
            .render(MailKind::Circulation, &context)
            .unwrap_err();
        assert!(matches!(err, TemplateError::Render { .. }), "{err}");
        assert!(err.to_string().contains("circulation."), "{err}");
    }

    #[test]
    fn an_override_replaces_one_template_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("chaser.subject.hbs"),
            "Reminder: {{meeting.ref}}",
        )
        .unwrap();
        let templates = Templates::load(Some(dir.path())).unwrap();
        let chaser = templates
            .render(MailKind::Chaser, &example_context(MailKind::Chaser))
            .unwrap();
        assert_eq!(chaser.subject, "Reminder: LCJB-2023-12-13");
        let embedded = Templates::embedded().unwrap();
        let circulation = example_context(MailKind::Circulation);
        assert_eq!(
            templates
                .render(MailKind::Circulation, &circulation)
                .unwrap(),
            embedded
                .render(MailKind::Circulation, &circulation)
                .unwrap()
        );
    }

    #[test]
    fn a_broken_or_misspelt_override_is_refused_at_load_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("chaser.txt.hbs"), "Dear {{#if x}} unclosed").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("chaser.txt.hbs") && err.contains("does not compile"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("chaser.txt.hbs"), "Dear {{recipient.nmae}}").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("chaser.txt.hbs") && err.contains("does not render"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("chasers.txt.hbs"), "x").unwrap();
        let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("chasers.txt.hbs") && err.contains("not a template"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_template_directory_is_an_error_naming_the_key() {
        let err = Templates::load(Some(Path::new("/nonexistent/minuted-templates")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("templates.dir"), "{err}");
    }
}
