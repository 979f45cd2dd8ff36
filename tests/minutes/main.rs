//! Golden files for the minutes parser: every `tests/fixtures/minutes/NAME.txt` (or
//! `.md`, `.html`, `.docx`) is extracted and parsed, and the structure compared with
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
                    Some("txt" | "md" | "html" | "docx")
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
    assert!(documents.len() >= 7, "fixtures missing: {documents:?}");
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

/// A .docx built here with the zip crate, as Word writes the parts minuted reads.
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>"))
        .collect();
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("word/document.xml", options).unwrap();
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
        )
        .unwrap();
        zip.finish().unwrap();
    }
    cursor.into_inner()
}

fn minuted(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_minuted"))
        .args(args)
        .env_remove("MINUTED_CONFIG")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[test]
fn minutes_parse_reads_a_docx_without_a_database_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("draft.docx");
    std::fs::write(
        &path,
        docx(&[
            "Present",
            "Sophie Linden, MOPAC (Chair)",
            "Jane Unknown, MPS",
            "Apologies",
            "Lionel Idan, CPS South",
            "Item 1 - Welcome",
            "MOPAC updated that the strategy will be circulated to members.",
            "Action: MPS to share the data with CPS South by the next meeting.",
            "Date of next meeting: Wednesday 13 March 2024",
        ]),
    )
    .unwrap();
    let registry = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let output = minuted(&[
        "minutes",
        "parse",
        path.to_str().unwrap(),
        "--board",
        registry.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["format"], "docx");
    assert_eq!(json["attendees"].as_array().unwrap().len(), 2);
    assert_eq!(json["apologies"][0]["name"], "Lionel Idan");
    assert_eq!(json["items"][0]["number"], "1");
    assert_eq!(json["items"][0]["title"], "Welcome");
    assert_eq!(json["next_meeting"], "2024-03-13");
    assert_eq!(json["unmatched"], serde_json::json!(["Jane Unknown"]));
    let owners: Vec<&str> = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["owner"].as_str().unwrap())
        .collect();
    // "MOPAC updated that ..." reports; only the written action is a candidate.
    assert_eq!(owners, ["MPS"]);
}

#[test]
fn minutes_parse_of_an_unreadable_file_says_why_on_stderr_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("draft.docx");
    std::fs::write(&path, b"PK\x03\x04 not really a zip").unwrap();
    let output = minuted(&["minutes", "parse", path.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("docx file cannot be read"), "{stderr}");
}

#[test]
fn the_parser_survives_arbitrary_text() {
    // Fragments of real minutes shuffled with hostile ones; a small deterministic
    // generator so a failure reproduces.
    let fragments = [
        "Present:",
        "Apologies",
        "- Name, Org",
        "Item 2.b ",
        "1.",
        "1.1 ",
        "(",
        ")",
        "Action:",
        "ACTION: ",
        "İstanbul",
        "ß",
        "\u{202e}",
        "Date of next meeting",
        "13th",
        "December",
        "\t",
        "|",
        " - ",
        ",",
        ".",
        "will be circulated",
        "KV said",
        "\n",
        "\n\n",
        "é",
        "😀",
        "Cllr",
        "(XX)",
        "Wednesday",
        "31/02/2024",
        "Item",
        "9999999999",
        "Owner:",
        "[",
        "]",
    ];
    let mut state: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..300 {
        let mut text = String::new();
        for _ in 0..60 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(fragments[(state % fragments.len() as u64) as usize]);
        }
        let parsed = structure::parse(&text, &structure::ParseContext::default());
        let _ = serde_json::to_string(&parsed).unwrap();
    }
}
