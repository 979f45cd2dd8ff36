//! What an approver and the members receive of the minutes: the file's name, a .docx made
//! of minutes sent in the body of an email, and the changes from the previous version as
//! words removed and added.
//!
//! Pure: bytes and text in, bytes and text out.

use std::io::Write;

use chrono::NaiveDate;

use crate::domain::outbound::long_date;

/// The name a file of minutes is sent under, saying what it is: `LCJB minutes 20
/// September 2023 (approved).docx`, `LCJB minutes 20 September 2023 (draft, version
/// 2).pdf`. `meeting_ref` is `SLUG-YYYY-MM-DD`; `extension` is taken from the file
/// received (`docx` when minuted made it).
pub fn file_name(meeting_ref: &str, date: NaiveDate, state: &str, extension: &str) -> String {
    let slug = meeting_ref
        .rsplitn(4, '-')
        .last()
        .unwrap_or(meeting_ref)
        .to_uppercase();
    let extension = extension.trim_start_matches('.').to_ascii_lowercase();
    let date = long_date(date);
    // `long_date` names the weekday: "Wednesday 20 September 2023".
    let date = date.split_once(' ').map_or(date.as_str(), |(_, rest)| rest);
    format!("{slug} minutes {date} ({state}).{extension}")
}

/// The extension of a received file's name, when it has a usable one.
pub fn extension_of(filename: Option<&str>) -> Option<String> {
    let (_, extension) = filename?.rsplit_once('.')?;
    let extension = extension.trim().to_ascii_lowercase();
    (!extension.is_empty()
        && extension.len() <= 5
        && extension.chars().all(|c| c.is_ascii_alphanumeric()))
    .then_some(extension)
}

pub const DOCX_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// A Word document of `text`: a paragraph per line, the first line bold as its title.
/// The three parts Word, LibreOffice and Pages need, deflated.
pub fn docx(text: &str) -> std::io::Result<Vec<u8>> {
    let mut body = String::new();
    for (i, line) in text.lines().enumerate() {
        let run = if i == 0 && !line.trim().is_empty() {
            "<w:rPr><w:b/></w:rPr>"
        } else {
            ""
        };
        body.push_str(&format!(
            "<w:p><w:r>{run}<w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            xml_escape(line)
        ));
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}<w:sectPr/></w:body></w:document>"
    );
    let content_types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
        <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
        <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
        <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
        </Types>";
    let relationships = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
        <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
        </Relationships>";
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in [
            ("[Content_Types].xml", content_types),
            ("_rels/.rels", relationships),
            ("word/document.xml", document.as_str()),
        ] {
            zip.start_file(name, options)
                .map_err(std::io::Error::other)?;
            zip.write_all(content.as_bytes())?;
        }
        zip.finish().map_err(std::io::Error::other)?;
    }
    Ok(cursor.into_inner())
}

fn xml_escape(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || *c == '\t').fold(
        String::with_capacity(text.len()),
        |mut out, c| {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                other => out.push(other),
            }
            out
        },
    )
}

// ---------------------------------------------------------------------------------------
// Changes between versions

pub use crate::domain::mail::{Change, Words};

/// The changes from `old` to `new`: changed lines compared word by word, a line of
/// context either side, at most `limit` changes; and how many more there were.
pub fn changes(old: &str, new: &str, limit: usize) -> (Vec<Change>, usize) {
    let old_lines: Vec<&str> = old
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let new_lines: Vec<&str> = new
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let script = lcs_script(&old_lines, &new_lines, 4000);
    let mut changes = Vec::new();
    let mut total: usize = 0;
    let mut i = 0;
    while i < script.len() {
        if matches!(script[i], Edit::Same(..)) {
            i += 1;
            continue;
        }
        let start = i;
        while i < script.len() && !matches!(script[i], Edit::Same(..)) {
            i += 1;
        }
        total += 1;
        if changes.len() >= limit {
            continue;
        }
        let removed: Vec<&str> = script[start..i]
            .iter()
            .filter_map(|e| match e {
                Edit::Removed(o) => Some(old_lines[*o]),
                _ => None,
            })
            .collect();
        let added: Vec<&str> = script[start..i]
            .iter()
            .filter_map(|e| match e {
                Edit::Added(n) => Some(new_lines[*n]),
                _ => None,
            })
            .collect();
        let line_of = |edit: Option<&Edit>| match edit {
            Some(Edit::Same(_, n)) => Some(new_lines[*n].to_owned()),
            _ => None,
        };
        changes.push(Change {
            before: start.checked_sub(1).and_then(|b| line_of(script.get(b))),
            words: word_changes(&removed.join(" "), &added.join(" ")),
            after: line_of(script.get(i)),
        });
    }
    let more = total.saturating_sub(changes.len());
    (changes, more)
}

/// At most this many characters of kept words around a change inside a long line.
const KEPT_WORDS: usize = 8;

fn word_changes(old: &str, new: &str) -> Vec<Words> {
    let old_words: Vec<&str> = old.split_whitespace().collect();
    let new_words: Vec<&str> = new.split_whitespace().collect();
    let script = lcs_script(&old_words, &new_words, 3000);
    let mut runs: Vec<Words> = Vec::new();
    for edit in script {
        let (word, removed, added) = match edit {
            Edit::Same(o, _) => (old_words[o], false, false),
            Edit::Removed(o) => (old_words[o], true, false),
            Edit::Added(n) => (new_words[n], false, true),
        };
        match runs.last_mut() {
            Some(run) if run.removed == removed && run.added == added => {
                run.text.push(' ');
                run.text.push_str(word);
            }
            _ => runs.push(Words {
                text: word.to_owned(),
                removed,
                added,
            }),
        }
    }
    // A long unchanged stretch inside the changed lines is shortened to its ends.
    for (index, run) in runs.iter_mut().enumerate() {
        let words: Vec<&str> = run.text.split(' ').collect();
        if run.removed || run.added || words.len() <= KEPT_WORDS * 2 {
            continue;
        }
        let first = index == 0;
        run.text = if first {
            format!("... {}", words[words.len() - KEPT_WORDS..].join(" "))
        } else {
            format!(
                "{} ... {}",
                words[..KEPT_WORDS].join(" "),
                words[words.len() - KEPT_WORDS..].join(" ")
            )
        };
    }
    runs
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// The edit script from `old` to `new` by longest common subsequence. Inputs longer than
/// `cap` (after the common ends are taken off) are compared as one removal and one
/// addition, so the work stays bounded.
fn lcs_script<T: PartialEq>(old: &[T], new: &[T], cap: usize) -> Vec<Edit> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (a, b) = (
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    );
    let mut script: Vec<Edit> = (0..prefix).map(|i| Edit::Same(i, i)).collect();
    if a.len() > cap || b.len() > cap || a.len() * b.len() > 4_000_000 {
        script.extend((0..a.len()).map(|i| Edit::Removed(prefix + i)));
        script.extend((0..b.len()).map(|j| Edit::Added(prefix + j)));
    } else {
        let (n, m) = (a.len(), b.len());
        let mut table = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                table[i * (m + 1) + j] = if a[i] == b[j] {
                    table[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    table[(i + 1) * (m + 1) + j].max(table[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && a[i] == b[j] {
                script.push(Edit::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < n
                && (j == m || table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1])
            {
                // Removed words before the words that replace them.
                script.push(Edit::Removed(prefix + i));
                i += 1;
            } else {
                script.push(Edit::Added(prefix + j));
                j += 1;
            }
        }
    }
    let tail_old = old.len() - suffix;
    let tail_new = new.len() - suffix;
    script.extend((0..suffix).map(|k| Edit::Same(tail_old + k, tail_new + k)));
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_word_is_shown_as_that_word_with_its_neighbouring_lines() {
        let old = "1. Welcome\nThe board noted the report.\n2. Finance\n";
        let new = "1. Welcome\nThe board agreed the report.\n2. Finance\n";
        let (changes, more) = changes(old, new, 10);
        assert_eq!(more, 0);
        assert_eq!(changes.len(), 1);
        let change = &changes[0];
        assert_eq!(change.before.as_deref(), Some("1. Welcome"));
        assert_eq!(change.after.as_deref(), Some("2. Finance"));
        let texts: Vec<(&str, bool, bool)> = change
            .words
            .iter()
            .map(|w| (w.text.as_str(), w.removed, w.added))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("The board", false, false),
                ("noted", true, false),
                ("agreed", false, true),
                ("the report.", false, false)
            ]
        );
    }

    #[test]
    fn changes_beyond_the_limit_are_counted_not_shown() {
        let old = "a\nb\nc\nd\ne\nf\n";
        let new = "a\nB\nc\nD\ne\nF\n";
        let (changes, more) = changes(old, new, 2);
        assert_eq!((changes.len(), more), (2, 1));
    }

    #[test]
    fn a_long_unchanged_stretch_in_a_changed_line_is_shortened() {
        let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let old = words.join(" ");
        let new = format!("{} changed", words.join(" "));
        let (changes, _) = changes(&old, &new, 5);
        let kept = &changes[0].words[0].text;
        assert!(kept.starts_with("... "), "{kept}");
        assert!(kept.split(' ').count() <= KEPT_WORDS + 1, "{kept}");
    }

    #[test]
    fn files_are_named_for_what_they_are() {
        let date = NaiveDate::from_ymd_opt(2023, 9, 20).unwrap();
        assert_eq!(
            file_name("lcjb-2023-09-20", date, "approved", "DOCX"),
            "LCJB minutes 20 September 2023 (approved).docx"
        );
        assert_eq!(extension_of(Some("draft v2.PDF")).as_deref(), Some("pdf"));
        assert_eq!(extension_of(Some("minutes")), None);
    }

    #[test]
    fn a_made_document_reads_back_as_its_text() {
        let text = "Minutes of the board\n\nPresent: A & B <chair>\n1. Welcome";
        let bytes = docx(text).unwrap();
        let read = super::super::extract::extract(&bytes, Some("m.docx"), None).unwrap();
        assert_eq!(
            read.text,
            "Minutes of the board\n\nPresent: A & B <chair>\n1. Welcome"
        );
    }
}
