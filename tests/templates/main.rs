//! Golden files for the email templates: every kind rendered against its example context
//! (`templates/examples/KIND.json`), plus the extra cases in
//! `tests/fixtures/templates/CASE.json` (`{"kind": ..., "context": ...}`), compared with
//! `tests/fixtures/templates/NAME.expected.json`. On a mismatch the output is written to
//! `NAME.actual.json` beside it and the test fails: review the difference, then rename
//! the file to accept it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use minuted::domain::outbound::MailKind;
use minuted::templates::{example_context, Templates};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates")
}

/// Compares `actual` with `NAME.expected.json`; on a difference writes `NAME.actual.json`
/// and returns a description.
fn check(name: &str, actual: &Value) -> Option<String> {
    let expected_path = fixtures().join(format!("{name}.expected.json"));
    let actual_path = fixtures().join(format!("{name}.actual.json"));
    let expected: Option<Value> = std::fs::read_to_string(&expected_path)
        .ok()
        .map(|text| serde_json::from_str(&text).unwrap());
    if expected.as_ref() == Some(actual) {
        let _ = std::fs::remove_file(&actual_path);
        return None;
    }
    let mut text = serde_json::to_string_pretty(actual).unwrap();
    text.push('\n');
    std::fs::write(&actual_path, text).unwrap();
    Some(format!(
        "{name}: output differs from {} (wrote {})",
        expected_path.display(),
        actual_path.display()
    ))
}

fn render(templates: &Templates, kind: MailKind, context: &Value) -> Value {
    serde_json::to_value(templates.render(kind, context).unwrap()).unwrap()
}

#[test]
fn every_kind_renders_its_example_as_the_golden_file_says() {
    let templates = Templates::embedded().unwrap();
    let failures: Vec<String> = MailKind::ALL
        .iter()
        .filter_map(|&kind| {
            check(
                kind.as_str(),
                &render(&templates, kind, &example_context(kind)),
            )
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_extra_case_renders_as_the_golden_file_says() {
    let templates = Templates::embedded().unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(case) = name.strip_suffix(".json") else {
            continue;
        };
        if case.contains('.') {
            continue; // NAME.expected.json and NAME.actual.json
        }
        cases += 1;
        let input: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let kind: MailKind = input["kind"].as_str().unwrap().parse().unwrap();
        if let Some(failure) = check(case, &render(&templates, kind, &input["context"])) {
            failures.push(failure);
        }
    }
    assert!(cases > 0, "no cases in {}", fixtures().display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
