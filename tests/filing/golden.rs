//! Golden files: every `tests/fixtures/eml/NAME.eml` is parsed by ingestion's parser,
//! converted as the filing worker converts a stored message, and decided against the
//! example board and `context.json`; the decision must equal `NAME.filing.expected.json`
//! (`NAME.expected.json` beside it is the parser's golden file). On a difference the
//! actual decision is written to `NAME.filing.actual.json` and the test fails; a missing
//! expected file is written as `.filing.actual.json` too, to be reviewed and renamed.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use minuted::filing::{self, Action, Registry, Sent, DEFAULT_THRESHOLD};
use serde::Deserialize;

use minuted::ingest::parse::{self, Limits, Parsed};

#[derive(Deserialize)]
struct Context {
    now: DateTime<Utc>,
    actions: Vec<Action>,
    sent: Sent,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml")
}

fn registry(context: &Context) -> Registry {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let mut registry =
        Registry::from_file(&minuted::registry::load(&path).unwrap_or_else(|e| panic!("{e}")));
    registry.actions = context.actions.clone();
    registry
}

#[test]
fn every_fixture_is_filed_as_its_expected_json_says() {
    let dir = fixtures();
    let context: Context =
        serde_json::from_str(&std::fs::read_to_string(dir.join("context.json")).unwrap()).unwrap();
    let registry = registry(&context);
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "only {} fixtures", names.len());
    let mut failures = Vec::new();
    for path in &names {
        let raw = std::fs::read(path).unwrap();
        // The path stored mail takes: ingestion's parser, then filing's view of it.
        let parsed = match parse::parse(&raw, &Limits::default()) {
            Parsed::Complete(parsed) => parsed,
            Parsed::Unparseable { headers, .. } => headers,
        };
        let message = minuted::filing::worker::to_filing(&parsed);
        let decision = filing::decide(
            &message,
            &registry,
            &context.sent,
            context.now,
            DEFAULT_THRESHOLD,
        );
        let actual = serde_json::to_string_pretty(&decision).unwrap() + "\n";
        let expected_path = path.with_extension("filing.expected.json");
        let actual_path = path.with_extension("filing.actual.json");
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {
                let _ = std::fs::remove_file(&actual_path);
            }
            Ok(_) => {
                std::fs::write(&actual_path, &actual).unwrap();
                failures.push(format!(
                    "{} differs: see {}",
                    path.display(),
                    actual_path.display()
                ));
            }
            Err(_) => {
                std::fs::write(&actual_path, &actual).unwrap();
                failures.push(format!(
                    "{} has no expected file: see {}",
                    path.display(),
                    actual_path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The held-out mail of a board will carry reply tokens and Message-IDs of mail this
/// database never sent (another installation, an older database): replies must still be
/// recognised from what they say.
#[test]
fn replies_are_recognised_without_our_record_of_what_we_sent() {
    let dir = fixtures();
    let context: Context =
        serde_json::from_str(&std::fs::read_to_string(dir.join("context.json")).unwrap()).unwrap();
    let registry = registry(&context);
    let mut failures = Vec::new();
    for (name, kind, meeting, organisation) in [
        (
            "approval_reply",
            "approval_reply",
            Some("LCJB-2023-09-20"),
            "MOPAC",
        ),
        (
            "phone_reply_action",
            "action_update",
            Some("LCJB-2023-12-13"),
            "MPS",
        ),
        (
            "gmail_reply_item",
            "written_update",
            Some("LCJB-2023-12-13"),
            "YJB",
        ),
        (
            "out_of_office_en",
            "auto_reply",
            Some("LCJB-2023-12-13"),
            "HMCTS",
        ),
        ("dsn_bounce", "bounce", None, "CPS North"),
        ("exchange_ndr", "bounce", None, "CPS"),
    ] {
        let raw = std::fs::read(dir.join(format!("{name}.eml"))).unwrap();
        let Parsed::Complete(parsed) = parse::parse(&raw, &Limits::default()) else {
            panic!("{name} does not parse");
        };
        let decision = filing::decide(
            &minuted::filing::worker::to_filing(&parsed),
            &registry,
            &Sent::default(),
            context.now,
            DEFAULT_THRESHOLD,
        );
        let got = (
            decision.kind.as_str(),
            decision.meeting.as_deref(),
            decision.organisation.as_deref().unwrap_or("-"),
            decision.disposition,
        );
        if got != (kind, meeting, organisation, filing::Disposition::Filed) {
            failures.push(format!("{name}: {got:?}\n  {:#?}", decision.reasons));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// `minuted reply parse --json` on every fixture that has `NAME.reply.expected.json`: the
/// sender's own words, the command read and what was trimmed must equal the golden file.
/// On a difference the actual output is written to `NAME.reply.actual.json` and the test
/// fails.
#[test]
fn reply_parse_reads_each_reply_fixture_as_its_golden_file_says() {
    let dir = fixtures();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".reply.expected.json"))
        .collect();
    names.sort();
    assert!(names.len() >= 16, "only {} reply fixtures", names.len());
    let mut failures = Vec::new();
    for expected_path in &names {
        let stem = expected_path
            .to_string_lossy()
            .trim_end_matches(".reply.expected.json")
            .to_owned();
        let eml = PathBuf::from(format!("{stem}.eml"));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_minuted"))
            .args(["reply", "parse", "--json"])
            .arg(&eml)
            .env_remove("MINUTED_CONFIG")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}: {}",
            eml.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let actual: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let actual = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        let actual_path = PathBuf::from(format!("{stem}.reply.actual.json"));
        if std::fs::read_to_string(expected_path).unwrap() == actual {
            let _ = std::fs::remove_file(&actual_path);
        } else {
            std::fs::write(&actual_path, &actual).unwrap();
            failures.push(format!(
                "{} differs: see {}",
                eml.display(),
                actual_path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
