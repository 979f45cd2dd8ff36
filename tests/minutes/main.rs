//! Golden files for the minutes parser: every `tests/fixtures/minutes/NAME.txt` (or
//! `.md`, `.html`) is extracted and parsed, and the structure compared with
//! `NAME.expected.json`. On a mismatch the actual structure is written beside it as
//! `NAME.actual.json` and the test fails; review it and rename it to accept it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use minuted::minutes::{extract, structure};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minutes")
}

fn documents() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.contains(".expected.")
                && !name.contains(".actual.")
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("txt" | "md" | "html")
                )
        })
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_minutes_fixture_parses_to_its_expected_structure() {
    let mut failures = Vec::new();
    let documents = documents();
    assert!(documents.len() >= 6, "fixtures missing: {documents:?}");
    for path in documents {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = extract::extract(&bytes, Some(&name), None).unwrap().text;
        let parsed = structure::parse(&text, &structure::ParseContext::default());
        let actual = serde_json::to_string_pretty(&parsed).unwrap() + "\n";
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expected_path = fixtures().join(format!("{stem}.expected.json"));
        let actual_path = fixtures().join(format!("{stem}.actual.json"));
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {
                let _ = std::fs::remove_file(&actual_path);
            }
            Ok(_) => {
                std::fs::write(&actual_path, &actual).unwrap();
                failures.push(format!(
                    "{name}: differs from {stem}.expected.json (see {stem}.actual.json)"
                ));
            }
            Err(_) => {
                std::fs::write(&actual_path, &actual).unwrap();
                failures.push(format!(
                    "{name}: no {stem}.expected.json (wrote {stem}.actual.json)"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn parse_fixture(name: &str) -> structure::MinutesStructure {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    let text = extract::extract(&bytes, Some(name), None).unwrap().text;
    structure::parse(&text, &structure::ParseContext::default())
}

#[test]
fn the_first_seed_has_its_true_attendees_apologies_items_and_next_meeting() {
    let s = parse_fixture("lcjb-seed-000.txt");
    assert_eq!(s.attendees.len(), 25);
    assert_eq!(s.apologies.len(), 13);
    let numbers: Vec<&str> = s.items.iter().map(|i| i.number.as_str()).collect();
    assert_eq!(numbers, ["1", "2", "2a", "2.b", "2.c", "3", "4", "5"]);
    assert_eq!(
        s.next_meeting.unwrap().date,
        chrono::NaiveDate::from_ymd_opt(2023, 12, 13)
    );
}

#[test]
fn the_second_seed_has_its_true_attendees_apologies_items_and_no_next_meeting() {
    let s = parse_fixture("lcjb-seed-001.txt");
    assert_eq!(s.attendees.len(), 18);
    assert_eq!(s.apologies.len(), 6);
    let numbers: Vec<&str> = s.items.iter().map(|i| i.number.as_str()).collect();
    assert_eq!(numbers, ["1", "2", "3", "4"]);
    assert!(s.next_meeting.is_none());
}
