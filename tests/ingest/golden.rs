//! Golden files: `tests/fixtures/eml/NAME.eml` parsed and compared with
//! `NAME.expected.json`. On a mismatch the actual output is written to
//! `NAME.actual.json` beside it and the test fails; delete the `.expected.json` and run
//! again to accept a new output (it is written when missing).

use std::path::Path;

use minuted::ingest::parse::{self, Limits, Parsed};
use serde_json::{json, Value};

fn render(parsed: &Parsed) -> Value {
    let (status, reason, p) = match parsed {
        Parsed::Complete(p) => ("received", None, p),
        Parsed::Unparseable { reason, headers } => ("unparseable", Some(reason.clone()), headers),
    };
    json!({
        "status": status,
        "parse_error": reason,
        "message_id": p.message_id,
        "in_reply_to": p.in_reply_to,
        "references": p.references,
        "from_address": p.from_address,
        "from_name": p.from_name,
        "sender_address": p.sender_address,
        "to_addresses": p.to_addresses,
        "cc_addresses": p.cc_addresses,
        "reply_to": p.reply_to,
        "delivered_to": p.delivered_to,
        "subject": p.subject,
        "sent_at": p.sent_at,
        "headers": p.headers,
        "body_text": p.body_text,
        "has_html": p.body_html.is_some(),
        "dsn": p.dsn,
        "attachments": p.attachments.iter().map(|a| json!({
            "filename": a.filename,
            "content_type": a.content_type,
            "size": a.content.len(),
            "sha256": hex::encode(a.sha256),
        })).collect::<Vec<_>>(),
    })
}

#[test]
fn every_fixture_message_parses_as_its_golden_file_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures in {}", dir.display());
    let mut failures = Vec::new();
    for eml in names {
        let raw = std::fs::read(&eml).unwrap();
        let actual = render(&parse::parse(&raw, &Limits::default()));
        let expected_path = eml.with_extension("expected.json");
        let actual_path = eml.with_extension("actual.json");
        let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if serde_json::from_str::<Value>(&expected).unwrap() == actual => {
                let _ = std::fs::remove_file(&actual_path);
            }
            Ok(_) => {
                std::fs::write(&actual_path, text).unwrap();
                failures.push(eml.display().to_string());
            }
            Err(_) => {
                std::fs::write(&expected_path, text).unwrap();
                failures.push(format!(
                    "{} (expected file written: review it)",
                    eml.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (see .actual.json): {failures:#?}"
    );
}
