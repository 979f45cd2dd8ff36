//! Text extraction: the bytes of draft minutes (a message body or an attachment) to the
//! plain text the structure parser reads.
//!
//! This module owns format detection (file name, content type, then the bytes' own
//! signature) and one reader per format: plain text and Markdown (kept as written: the
//! structure parser reads its markup), HTML (our own converter in [`crate::text::html`],
//! headings and list nesting kept as marks), .docx (the zip container and its WordprocessingML read
//! with `quick-xml`: paragraphs, numbered lists with their numbers, tables as
//! tab-separated rows) and PDF (the `pdf-extract` crate, behind `catch_unwind` because a
//! hostile file must be an error, never a crash). Every reader is bounded in what it
//! accepts and what it expands to.
//!
//! It does not parse structure (see [`super::structure`]) and does not store anything.

use std::collections::HashMap;
use std::io::Read;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::Serialize;

/// Documents larger than this are refused before reading: minutes are tens of kilobytes,
/// and PDF text extraction is slow on very large files.
pub const MAX_INPUT_BYTES: usize = 25 * 1024 * 1024;

/// A zip part is never expanded beyond this (a zip bomb stops here).
pub const MAX_EXPANDED_BYTES: u64 = 64 * 1024 * 1024;

/// The formats minuted reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
    Html,
    Docx,
    Pdf,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Pdf => "pdf",
        }
    }
}

/// Why a document gave no text. Each variant is something to tell the secretariat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("{what} is not a format minuted reads; send the minutes as .docx, .pdf, .txt, .md or .html, or in the message body")]
    Unsupported { what: String },
    #[error("the {format} file cannot be read: {reason}")]
    Corrupt {
        format: &'static str,
        reason: String,
    },
    #[error("the PDF is encrypted; send it without a password")]
    Encrypted,
    #[error("the {format} file holds no text (a scanned document?); send the minutes as text, .docx or a PDF with a text layer")]
    NoText { format: &'static str },
    #[error("the file is {size} bytes, more than the {limit} bytes minuted reads")]
    TooLarge { size: usize, limit: usize },
}

/// The text of a document and the format it was read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub format: Format,
    pub text: String,
}

/// Extracts the text of a document. `filename` and `content_type` come from the message
/// (either may be absent); the bytes' signature decides when they are missing or
/// generic (`application/octet-stream`).
pub fn extract(
    bytes: &[u8],
    filename: Option<&str>,
    content_type: Option<&str>,
) -> Result<Extracted, ExtractError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ExtractError::TooLarge {
            size: bytes.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    let format = detect(bytes, filename, content_type)?;
    let text = match format {
        Format::Text => normalise(&decode_text(bytes)),
        Format::Markdown => normalise(&decode_text(bytes)),
        Format::Html => normalise(&crate::text::html::to_marked_text(&decode_text(bytes))),
        Format::Docx => normalise(&docx_to_text(bytes)?),
        Format::Pdf => normalise(&pdf_to_text(bytes)?),
    };
    if text.trim().is_empty() {
        return Err(ExtractError::NoText {
            format: format.as_str(),
        });
    }
    Ok(Extracted { format, text })
}

/// Decides the format: the file name's extension first (what the sender meant), then the
/// content type, then the bytes. A name or type that contradicts the bytes' signature
/// (a "minutes.pdf" that is a zip) is read as what the bytes are.
pub fn detect(
    bytes: &[u8],
    filename: Option<&str>,
    content_type: Option<&str>,
) -> Result<Format, ExtractError> {
    let sniffed = sniff(bytes);
    let extension = filename
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.trim().to_ascii_lowercase());
    let by_name = match extension.as_deref() {
        Some("txt" | "text") => Some(Format::Text),
        Some("md" | "markdown") => Some(Format::Markdown),
        Some("html" | "htm" | "xhtml") => Some(Format::Html),
        Some("docx" | "docm" | "dotx") => Some(Format::Docx),
        Some("pdf") => Some(Format::Pdf),
        Some(
            other @ ("doc" | "rtf" | "odt" | "pages" | "wpd" | "xls" | "xlsx" | "pptx" | "ppt"),
        ) => {
            return Err(ExtractError::Unsupported {
                what: format!("a .{other} file"),
            })
        }
        _ => None,
    };
    let mime = content_type
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let by_type = match mime.as_str() {
        "text/plain" => Some(Format::Text),
        "text/markdown" | "text/x-markdown" => Some(Format::Markdown),
        "text/html" | "application/xhtml+xml" => Some(Format::Html),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            Some(Format::Docx)
        }
        "application/pdf" | "application/x-pdf" => Some(Format::Pdf),
        "" | "application/octet-stream" | "application/binary" => None,
        other if other.starts_with("text/") => Some(Format::Text),
        other => {
            if by_name.is_none() && sniffed.is_none() {
                return Err(ExtractError::Unsupported {
                    what: format!("content of type {other}"),
                });
            }
            None
        }
    };
    let claimed = by_name.or(by_type);
    match (claimed, sniffed) {
        // Binary signatures are facts; a name is a claim.
        (_, Some(Format::Pdf)) => Ok(Format::Pdf),
        (_, Some(Format::Docx)) => Ok(Format::Docx),
        (Some(format @ (Format::Pdf | Format::Docx)), _) => Ok(format),
        // A web page saved as .txt is still HTML.
        (Some(Format::Text), _) if looks_like_html(bytes) => Ok(Format::Html),
        (Some(format), _) => Ok(format),
        (None, Some(format)) => Ok(format),
        (None, None) => {
            if looks_binary(bytes) {
                Err(ExtractError::Unsupported {
                    what: filename.map_or_else(
                        || "a binary file".to_owned(),
                        |name| format!("the file {name}"),
                    ),
                })
            } else {
                Ok(Format::Text)
            }
        }
    }
}

/// Whether text is marked up as HTML: several block tags (`<p>`, `<li>`, `<h2>`...) in
/// its first 64 KB.
fn looks_like_html(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(65_536)]).to_ascii_lowercase();
    let tags = [
        "<p>", "<p ", "<li>", "<li ", "<ul>", "<ol>", "<table", "<br>", "<br/>", "<div",
    ]
    .iter()
    .map(|tag| head.matches(tag).count())
    .sum::<usize>()
        + (1..=6)
            .map(|n| head.matches(&format!("<h{n}")).count())
            .sum::<usize>();
    tags >= 3
}

fn sniff(bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(1024)];
    if head.starts_with(b"%PDF-") || find(head, b"%PDF-").is_some_and(|i| i < 1024) {
        return Some(Format::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Some(Format::Docx);
    }
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with("<!doctype html") || text.starts_with("<html") {
        return Some(Format::Html);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    head.iter()
        .filter(|b| **b == 0 || (**b < 0x20 && !matches!(**b, b'\t' | b'\n' | b'\r' | 0x0c)))
        .count()
        > head.len() / 50
}

/// Decodes text bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252,
/// which is what older Office exports and many mail clients write when they are not UTF-8.
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|b| windows_1252(*b)).collect(),
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// Line endings to `\n`, no-break and odd spaces to spaces, invisible characters removed,
/// trailing spaces trimmed, runs of blank lines collapsed.
pub fn normalise(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.split('\n') {
        let line: String = line
            .chars()
            .filter(|c| {
                !matches!(
                    c,
                    '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{ad}'
                )
            })
            .map(|c| match c {
                '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{2002}' | '\u{2003}' | '\u{2009}' => ' ',
                '\u{0c}' | '\u{0b}' => '\n',
                other => other,
            })
            .collect();
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
            out.push('\n');
        } else {
            blank_run = 0;
            out.push_str(line);
            out.push('\n');
        }
    }
    out.trim_end().to_owned()
}

// ---------------------------------------------------------------------------------------
// .docx

fn corrupt_docx(reason: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt {
        format: "docx",
        reason: reason.to_string(),
    }
}

/// Reads one part of the package, bounded; `None` when the part is absent.
fn read_part(
    archive: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<String>, ExtractError> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(err) => return Err(corrupt_docx(format!("{name}: {err}"))),
    };
    let mut bytes = Vec::new();
    file.take(MAX_EXPANDED_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| corrupt_docx(format!("{name}: {err}")))?;
    if bytes.len() as u64 > MAX_EXPANDED_BYTES {
        return Err(corrupt_docx(format!(
            "{name} expands to more than {MAX_EXPANDED_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| corrupt_docx(format!("{name} is not UTF-8 XML")))
}

fn docx_to_text(bytes: &[u8]) -> Result<String, ExtractError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(corrupt_docx)?;
    let Some(document) = read_part(&mut archive, "word/document.xml")? else {
        return Err(corrupt_docx(
            "no word/document.xml: this zip is not a Word document",
        ));
    };
    let numbering = match read_part(&mut archive, "word/numbering.xml")? {
        Some(xml) => parse_numbering(&xml)?,
        None => Numbering::default(),
    };
    let styles = match read_part(&mut archive, "word/styles.xml")? {
        Some(xml) => parse_style_numbering(&xml)?,
        None => HashMap::new(),
    };
    DocxWriter::new(numbering, styles).run(&document)
}

/// The local name of an element (`w:p` -> `p`).
fn local(name: &[u8]) -> &[u8] {
    name.iter()
        .position(|b| *b == b':')
        .map_or(name, |i| &name[i + 1..])
}

fn attr(element: &BytesStart<'_>, wanted: &[u8]) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == wanted)
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

#[derive(Debug, Clone, Default)]
struct Level {
    format: String,
    text: String,
    start: u32,
}

/// numbering.xml: which list definition each `numId` uses, and how each level is written.
#[derive(Debug, Default)]
struct Numbering {
    /// numId -> abstractNumId
    instances: HashMap<String, String>,
    /// abstractNumId -> ilvl -> level
    abstracts: HashMap<String, HashMap<u8, Level>>,
}

fn xml_error(part: &str, err: impl std::fmt::Display) -> ExtractError {
    corrupt_docx(format!("{part}: {err}"))
}

fn parse_numbering(xml: &str) -> Result<Numbering, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut numbering = Numbering::default();
    let mut abstract_id: Option<String> = None;
    let mut level: Option<(u8, Level)> = None;
    let mut num_id: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|err| xml_error("numbering.xml", err))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match local(e.name().as_ref()) {
                b"abstractNum" => abstract_id = attr(&e, b"abstractNumId"),
                b"lvl" => {
                    let ilvl = attr(&e, b"ilvl").and_then(|v| v.parse().ok()).unwrap_or(0);
                    level = Some((
                        ilvl,
                        Level {
                            start: 1,
                            ..Level::default()
                        },
                    ));
                }
                b"start" => {
                    if let Some((_, l)) = level.as_mut() {
                        l.start = attr(&e, b"val").and_then(|v| v.parse().ok()).unwrap_or(1);
                    }
                }
                b"numFmt" => {
                    if let Some((_, l)) = level.as_mut() {
                        l.format = attr(&e, b"val").unwrap_or_default();
                    }
                }
                b"lvlText" => {
                    if let Some((_, l)) = level.as_mut() {
                        l.text = attr(&e, b"val").unwrap_or_default();
                    }
                }
                b"num" => num_id = attr(&e, b"numId"),
                b"abstractNumId" => {
                    if let (Some(num), Some(abs)) = (num_id.clone(), attr(&e, b"val")) {
                        numbering.instances.insert(num, abs);
                    }
                }
                _ => {}
            },
            Event::End(e) => match local(e.name().as_ref()) {
                b"lvl" => {
                    if let (Some(abs), Some((ilvl, l))) = (abstract_id.as_ref(), level.take()) {
                        numbering
                            .abstracts
                            .entry(abs.clone())
                            .or_default()
                            .insert(ilvl, l);
                    }
                }
                b"abstractNum" => abstract_id = None,
                b"num" => num_id = None,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(numbering)
}

/// styles.xml: paragraph styles that carry numbering (numbered headings in templates).
fn parse_style_numbering(xml: &str) -> Result<HashMap<String, (String, u8)>, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut styles = HashMap::new();
    let mut style: Option<String> = None;
    let mut num: (Option<String>, u8) = (None, 0);
    loop {
        let event = reader
            .read_event()
            .map_err(|err| xml_error("styles.xml", err))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match local(e.name().as_ref()) {
                b"style" => {
                    style = attr(&e, b"styleId");
                    num = (None, 0);
                }
                b"numId" if style.is_some() => num.0 = attr(&e, b"val"),
                b"ilvl" if style.is_some() => {
                    num.1 = attr(&e, b"val").and_then(|v| v.parse().ok()).unwrap_or(0);
                }
                _ => {}
            },
            Event::End(e) if local(e.name().as_ref()) == b"style" => {
                if let (Some(id), Some(num_id)) = (style.take(), num.0.take()) {
                    styles.insert(id, (num_id, num.1));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(styles)
}

/// Walks document.xml and writes its text.
struct DocxWriter {
    numbering: Numbering,
    styles: HashMap<String, (String, u8)>,
    /// (abstractNumId, ilvl) -> current count
    counters: HashMap<(String, u8), u32>,
    lines: Vec<String>,
    paragraph: String,
    /// The paragraph's numbering, from its properties or its style.
    paragraph_num: Option<(String, u8)>,
    paragraph_style: Option<String>,
    /// Table nesting: each open table's current row cells, and the current cell's text.
    rows: Vec<Vec<String>>,
    cells: Vec<String>,
    in_text: bool,
    /// Inside content Word keeps only as a fallback copy (`mc:Fallback`) or deleted text.
    skip_depth: usize,
}

impl DocxWriter {
    fn new(numbering: Numbering, styles: HashMap<String, (String, u8)>) -> Self {
        DocxWriter {
            numbering,
            styles,
            counters: HashMap::new(),
            lines: Vec::new(),
            paragraph: String::new(),
            paragraph_num: None,
            paragraph_style: None,
            rows: Vec::new(),
            cells: Vec::new(),
            in_text: false,
            skip_depth: 0,
        }
    }

    fn run(mut self, xml: &str) -> Result<String, ExtractError> {
        let mut reader = Reader::from_str(xml);
        loop {
            let event = reader
                .read_event()
                .map_err(|err| xml_error("document.xml", err))?;
            match event {
                Event::Start(e) => {
                    let name = local(e.name().as_ref()).to_vec();
                    if self.skip_depth > 0 || matches!(name.as_slice(), b"Fallback" | b"del") {
                        self.skip_depth += 1;
                        continue;
                    }
                    self.start(&name, &e);
                }
                Event::Empty(e) => {
                    if self.skip_depth > 0 {
                        continue;
                    }
                    let name = local(e.name().as_ref()).to_vec();
                    self.start(&name, &e);
                    self.end(&name);
                }
                Event::End(e) => {
                    if self.skip_depth > 0 {
                        self.skip_depth -= 1;
                        continue;
                    }
                    self.end(local(e.name().as_ref()));
                }
                Event::Text(t) if self.in_text && self.skip_depth == 0 => {
                    let text = t.decode().map_err(|err| xml_error("document.xml", err))?;
                    self.paragraph.push_str(&text);
                }
                Event::GeneralRef(r) if self.in_text && self.skip_depth == 0 => {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        self.paragraph.push(c);
                    } else if let Ok(name) = r.decode() {
                        if let Some(value) = quick_xml::escape::resolve_predefined_entity(&name) {
                            self.paragraph.push_str(value);
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(self.lines.join("\n"))
    }

    fn start(&mut self, name: &[u8], e: &BytesStart<'_>) {
        match name {
            b"p" => {
                self.paragraph.clear();
                self.paragraph_num = None;
                self.paragraph_style = None;
            }
            b"pStyle" => self.paragraph_style = attr(e, b"val"),
            b"numId" => {
                let ilvl = self.paragraph_num.as_ref().map_or(0, |(_, l)| *l);
                if let Some(id) = attr(e, b"val") {
                    self.paragraph_num = Some((id, ilvl));
                }
            }
            b"ilvl" => {
                let ilvl = attr(e, b"val").and_then(|v| v.parse().ok()).unwrap_or(0);
                match self.paragraph_num.as_mut() {
                    Some((_, l)) => *l = ilvl,
                    None => self.paragraph_num = Some((String::new(), ilvl)),
                }
            }
            b"t" => self.in_text = true,
            b"tab" | b"ptab" => self.paragraph.push('\t'),
            b"br" | b"cr" => self.paragraph.push('\n'),
            b"noBreakHyphen" => self.paragraph.push('-'),
            b"tbl" => self.rows.push(Vec::new()),
            b"tr" => {
                if let Some(row) = self.rows.last_mut() {
                    row.clear();
                }
            }
            b"tc" => self.cells.push(String::new()),
            _ => {}
        }
    }

    fn end(&mut self, name: &[u8]) {
        match name {
            b"t" => self.in_text = false,
            b"p" => self.end_paragraph(),
            b"tc" => {
                let cell = self.cells.pop().unwrap_or_default();
                if let Some(row) = self.rows.last_mut() {
                    row.push(cell.trim().replace(['\t', '\n'], " "));
                }
            }
            b"tr" => {
                if let Some(row) = self.rows.last_mut() {
                    let line = std::mem::take(row).join("\t");
                    let line = line.trim_end_matches('\t').to_owned();
                    if !line.trim().is_empty() {
                        self.emit(line);
                    }
                }
            }
            b"tbl" => {
                self.rows.pop();
                self.emit(String::new());
            }
            _ => {}
        }
    }

    fn end_paragraph(&mut self) {
        let mut text = std::mem::take(&mut self.paragraph);
        let num = self.paragraph_num.take().or_else(|| {
            self.paragraph_style
                .as_ref()
                .and_then(|s| self.styles.get(s).cloned())
        });
        if let Some(label) = num.and_then(|(id, ilvl)| self.label(&id, ilvl)) {
            if !text.trim().is_empty() {
                text = format!("{label} {}", text.trim_start());
            }
        }
        if self.cells.is_empty() {
            for line in text.split('\n') {
                self.emit(line.to_owned());
            }
        } else if let Some(cell) = self.cells.last_mut() {
            // Several paragraphs in one cell read as one line of that cell.
            if !cell.is_empty() && !text.trim().is_empty() {
                cell.push_str("; ");
            }
            cell.push_str(text.trim());
        }
    }

    fn emit(&mut self, line: String) {
        if !self.cells.is_empty() {
            if let Some(cell) = self.cells.last_mut() {
                if !cell.is_empty() {
                    cell.push_str("; ");
                }
                cell.push_str(line.trim());
            }
            return;
        }
        self.lines.push(line);
    }

    /// The list label of a numbered paragraph (`3.`, `2.1`, `b)`, `-` for bullets), and
    /// advances the list's counters.
    fn label(&mut self, num_id: &str, ilvl: u8) -> Option<String> {
        if num_id.is_empty() || num_id == "0" {
            return None;
        }
        let abstract_id = self.numbering.instances.get(num_id)?.clone();
        let levels = self.numbering.abstracts.get(&abstract_id)?;
        let level = levels.get(&ilvl)?.clone();
        let key = (abstract_id.clone(), ilvl);
        match self.counters.get_mut(&key) {
            Some(count) => *count += 1,
            None => {
                self.counters.insert(key, level.start);
            }
        }
        // A level's counter restarts when a shallower level advances.
        self.counters
            .retain(|(a, l), _| a != &abstract_id || *l <= ilvl);
        if level.format == "bullet" {
            return Some("-".to_owned());
        }
        if level.format == "none" {
            return None;
        }
        let mut label = level.text.clone();
        for depth in 0..=ilvl {
            let placeholder = format!("%{}", depth + 1);
            if !label.contains(&placeholder) {
                continue;
            }
            let value = self
                .counters
                .get(&(abstract_id.clone(), depth))
                .copied()
                .unwrap_or_else(|| levels.get(&depth).map_or(1, |l| l.start));
            let format = levels.get(&depth).map_or("decimal", |l| l.format.as_str());
            label = label.replace(&placeholder, &format_number(value, format));
        }
        let label = label.trim().to_owned();
        (!label.is_empty()).then_some(label)
    }
}

fn format_number(value: u32, format: &str) -> String {
    match format {
        "lowerLetter" => letters(value).to_lowercase(),
        "upperLetter" => letters(value),
        "lowerRoman" => roman(value).to_lowercase(),
        "upperRoman" => roman(value),
        "decimalZero" => format!("{value:02}"),
        _ => value.to_string(),
    }
}

fn letters(value: u32) -> String {
    if value == 0 {
        return String::new();
    }
    let letter = char::from(b'A' + ((value - 1) % 26) as u8);
    std::iter::repeat_n(letter, ((value - 1) / 26 + 1) as usize).collect()
}

fn roman(mut value: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (n, s) in TABLE {
        while value >= n {
            out.push_str(s);
            value -= n;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// PDF

fn pdf_to_text(bytes: &[u8]) -> Result<String, ExtractError> {
    if find(&bytes[..bytes.len().min(1024)], b"%PDF-").is_none() {
        return Err(ExtractError::Corrupt {
            format: "pdf",
            reason: "it does not start with a PDF header".to_owned(),
        });
    }
    // pdf-extract panics on some malformed files; a panic here must become an error on
    // the revision, not take the daemon down.
    let result = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    match result {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(err)) => {
            let reason = err.to_string();
            if reason.to_ascii_lowercase().contains("encrypt") {
                Err(ExtractError::Encrypted)
            } else {
                Err(ExtractError::Corrupt {
                    format: "pdf",
                    reason,
                })
            }
        }
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the PDF reader failed".to_owned());
            Err(ExtractError::Corrupt {
                format: "pdf",
                reason,
            })
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// Builds a .docx in memory from a document body (the XML inside `<w:body>`) and an
    /// optional numbering part.
    pub(crate) fn docx(body: &str, numbering: Option<&str>) -> Vec<u8> {
        let mut cursor = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut cursor);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            zip.start_file("[Content_Types].xml", options).unwrap();
            zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).unwrap();
            zip.start_file("word/document.xml", options).unwrap();
            write!(
                zip,
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
            )
            .unwrap();
            if let Some(numbering) = numbering {
                zip.start_file("word/numbering.xml", options).unwrap();
                write!(
                    zip,
                    r#"<?xml version="1.0" encoding="UTF-8"?><w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">{numbering}</w:numbering>"#
                )
                .unwrap();
            }
            zip.finish().unwrap();
        }
        cursor.into_inner()
    }

    fn para(text: &str) -> String {
        format!("<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
    }

    fn numbered(text: &str, num: u32, ilvl: u8) -> String {
        format!("<w:p><w:pPr><w:numPr><w:ilvl w:val=\"{ilvl}\"/><w:numId w:val=\"{num}\"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>")
    }

    const NUMBERING: &str = r#"<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl><w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl></w:abstractNum><w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/><w:lvlText w:val="o"/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>"#;

    /// A one-page PDF whose content stream shows `lines`, with a correct xref table.
    pub(crate) fn pdf(lines: &[&str]) -> Vec<u8> {
        let mut stream = String::from("BT /F1 11 Tf 72 760 Td 14 TL\n");
        for line in lines {
            let escaped = line
                .replace('\\', "\\\\")
                .replace('(', "\\(")
                .replace(')', "\\)");
            stream.push_str(&format!("({escaped}) Tj T*\n"));
        }
        stream.push_str("ET");
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_owned(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
            format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    #[test]
    fn a_docx_gives_its_paragraphs_numbers_and_tables() {
        let body = [
            para("Attendees"),
            "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Name</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Organisation</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>John Smith</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>MPS &amp; CPS</w:t></w:r></w:p></w:tc></w:tr></w:tbl>".to_owned(),
            numbered("Welcome", 1, 0),
            numbered("The Chair welcomed members.", 1, 1),
            numbered("Finance", 1, 0),
            numbered("A point", 2, 0),
            "<w:p><w:r><w:t>Tab</w:t></w:r><w:r><w:tab/><w:t>bed</w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del></w:p>".to_owned(),
        ]
        .concat();
        let extracted = extract(&docx(&body, Some(NUMBERING)), Some("Minutes.DOCX"), None).unwrap();
        assert_eq!(extracted.format, Format::Docx);
        assert_eq!(
            extracted.text,
            "Attendees\nName\tOrganisation\nJohn Smith\tMPS & CPS\n\n1. Welcome\n1.1 The Chair welcomed members.\n2. Finance\n- A point\nTab\tbed"
        );
    }

    #[test]
    fn a_zip_that_is_not_a_word_document_is_a_clear_error() {
        let mut cursor = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut cursor);
            zip.start_file("hello.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(b"hi").unwrap();
            zip.finish().unwrap();
        }
        let err = extract(cursor.get_ref(), Some("minutes.docx"), None).unwrap_err();
        assert!(
            matches!(err, ExtractError::Corrupt { format: "docx", .. }),
            "{err}"
        );
        assert!(err.to_string().contains("word/document.xml"), "{err}");
    }

    #[test]
    fn a_truncated_docx_is_corrupt_not_a_crash() {
        let bytes = docx(&para("Hello"), None);
        let err = extract(&bytes[..bytes.len() / 2], Some("m.docx"), None).unwrap_err();
        assert!(
            matches!(err, ExtractError::Corrupt { format: "docx", .. }),
            "{err}"
        );
    }

    #[test]
    fn broken_document_xml_is_corrupt() {
        let err = extract(&docx("<w:p><w:r><w:t>x</w:r>", None), Some("m.docx"), None).unwrap_err();
        assert!(matches!(err, ExtractError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn a_pdf_gives_its_text() {
        let bytes = pdf(&[
            "Present:",
            "John Smith (Chair)",
            "Item 1 - Welcome (and intro)",
        ]);
        let extracted = extract(&bytes, Some("minutes.pdf"), Some("application/pdf")).unwrap();
        assert_eq!(extracted.format, Format::Pdf);
        let lines: Vec<&str> = extracted.text.lines().map(str::trim).collect();
        assert!(lines.contains(&"Present:"), "{lines:?}");
        assert!(lines.contains(&"John Smith (Chair)"), "{lines:?}");
        assert!(lines.contains(&"Item 1 - Welcome (and intro)"), "{lines:?}");
    }

    #[test]
    fn garbage_after_a_pdf_header_is_an_error_not_a_panic() {
        for bytes in [
            b"%PDF-1.7\n".to_vec(),
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF".to_vec(),
            {
                let mut b = pdf(&["Hello"]);
                b.truncate(b.len() - 60);
                b
            },
        ] {
            let result = extract(&bytes, Some("x.pdf"), None);
            assert!(result.is_err(), "{result:?}");
        }
    }

    #[test]
    fn a_pdf_without_text_says_so() {
        let err = extract(&pdf(&[]), Some("scan.pdf"), None).unwrap_err();
        assert!(
            matches!(
                err,
                ExtractError::NoText { format: "pdf" } | ExtractError::Corrupt { .. }
            ),
            "{err}"
        );
    }

    #[test]
    fn html_and_markdown_and_text_are_read() {
        let html = extract(
            b"<p>Present:</p><ul><li>A B</li></ul>",
            Some("m.html"),
            None,
        )
        .unwrap();
        assert_eq!(html.text, "Present:\n\n- A B");
        let md = extract(b"# Minutes\n\n**Present:** [John Smith](mailto:j@x) (Chair)\n\n| Name | Org |\n|---|---|\n| A | B |\n", Some("m.md"), None).unwrap();
        // Markdown is kept as written: its headings and lists are structure the parser
        // reads.
        assert_eq!(
            md.text,
            "# Minutes\n\n**Present:** [John Smith](mailto:j@x) (Chair)\n\n| Name | Org |\n|---|---|\n| A | B |"
        );
        let outline = extract(
            b"<h2>Minutes</h2><ul><li>Tour<ul><li>Detail</li></ul></li><li>Next</li></ul>",
            Some("m.html"),
            None,
        )
        .unwrap();
        assert_eq!(outline.text, "## Minutes\n\n- Tour\n  - Detail\n- Next");
        let saved_page = extract(
            b"<h2>Minutes</h2>\n<p>One</p>\n<ul><li>Two</li></ul>",
            Some("minutes.txt"),
            None,
        )
        .unwrap();
        assert_eq!(saved_page.format, Format::Html);
        let text = extract(
            b"Caf\xe9 \x93quoted\x94\r\nnext",
            None,
            Some("text/plain; charset=windows-1252"),
        )
        .unwrap();
        assert_eq!(text.text, "Café “quoted”\nnext");
    }

    #[test]
    fn the_bytes_decide_when_the_name_says_nothing() {
        assert_eq!(
            detect(b"%PDF-1.4 ...", None, Some("application/octet-stream")),
            Ok(Format::Pdf)
        );
        assert_eq!(
            detect(b"<!DOCTYPE html><html>", Some("minutes"), None),
            Ok(Format::Html)
        );
        assert_eq!(
            detect(b"PK\x03\x04....", Some("minutes.pdf"), None),
            Ok(Format::Docx)
        );
        assert_eq!(detect(b"plain words", None, None), Ok(Format::Text));
    }

    #[test]
    fn unsupported_formats_are_named() {
        let err = extract(b"\xd0\xcf\x11\xe0 old word", Some("minutes.doc"), None).unwrap_err();
        assert_eq!(
            err,
            ExtractError::Unsupported {
                what: "a .doc file".into()
            }
        );
        assert!(err.to_string().contains(".docx"));
        let err = extract(&[0u8, 1, 2, 3, 0, 0, 0, 9, 0, 0], None, Some("image/png")).unwrap_err();
        assert!(matches!(err, ExtractError::Unsupported { .. }));
    }

    #[test]
    fn an_empty_document_has_no_text() {
        assert_eq!(
            extract(b"  \n\n", Some("m.txt"), None),
            Err(ExtractError::NoText { format: "text" })
        );
    }

    #[test]
    fn oversized_input_is_refused_before_reading() {
        let big = vec![b'a'; MAX_INPUT_BYTES + 1];
        assert!(matches!(
            extract(&big, Some("m.txt"), None),
            Err(ExtractError::TooLarge { .. })
        ));
    }
}
