//! HTML to plain text, for minutes sent as HTML and for HTML-only mail.
//!
//! This module owns the crate's one conversion, with the properties the parsers after it
//! rely on: block elements end lines, paragraphs and headings are separated by a blank
//! line (except Outlook's `MsoNormal` paragraphs, which are lines, with its empty spacer
//! paragraphs as blank lines), table rows become lines with cells separated by a tab,
//! list items start with `- ` (or their number in an ordered list), `<blockquote>` content
//! is prefixed with `> ` per level (so reply trimming treats quoted HTML like quoted text),
//! `<pre>` keeps its line breaks and spaces, images stand as `[alt text]` when they have
//! one, and `<head>`, `<style>`, `<script>`, comments (so Outlook's conditional comments)
//! and Office's `<xml>` islands are dropped. Entities are decoded, including Windows-1252
//! numeric references. It is linear in the input and never fails: broken markup gives
//! imperfect text, not an error.
//!
//! For reply trimming it also offers [`to_reply_text`], the same conversion that in
//! addition reads the quoting structure mail clients write (Gmail's `gmail_quote`, Yahoo's
//! `yahoo_quoted`, Thunderbird's `moz-cite-prefix`, GMX's `name="quote"`, Outlook's
//! `divRplyFwdMsg` / `appendonsend` and its border-top header box...). Deciding what of
//! that text is the sender's own is [`super::reply`]'s job, not this module's.
//!
//! It does not sanitise HTML for display and does not keep links or formatting.

/// Converts an HTML document or fragment to plain text (see the module documentation).
pub fn to_text(html: &str) -> String {
    convert(
        html,
        Options {
            reply_structure: false,
            image_alt: true,
            structure_marks: false,
        },
    )
    .text
}

/// Like [`to_text`], but the document's outline stays visible for a structure parser:
/// headings start with `#` per level (`<h2>` is `## `), and list items are indented two
/// spaces per level of nesting.
pub fn to_marked_text(html: &str) -> String {
    convert(
        html,
        Options {
            reply_structure: false,
            image_alt: true,
            structure_marks: true,
        },
    )
    .text
}

/// An HTML reply as text, with what its structure says about where the quoted part is.
#[derive(Debug, Default)]
pub struct ReplyText {
    /// The text; quoting containers (not only `<blockquote>`) are prefixed with `> `.
    pub text: String,
    /// The line (index into `text.lines()`) where a client's marker for "everything below
    /// is the message replied to" starts, outside any quote, and which marker it was.
    pub cut: Option<(usize, CutMarker)>,
    /// Lines that start a box Outlook-like clients draw above a header block (a `<div>`
    /// with only a top border, an `<hr>`): the quoted part starts there if a header block
    /// follows, which the reader decides.
    pub rule_lines: Vec<usize>,
}

/// The structural markers after which an HTML reply holds only the original message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutMarker {
    /// Outlook's reply/forward header (`divRplyFwdMsg`, `appendonsend`, Outlook for Mac's
    /// `OLK_SRC_BODY_SECTION`, `OutlookMessageHeader`, the new Outlook's reference
    /// message container).
    OutlookHeader,
    /// A signature container a client marks as such (`moz-signature`).
    Signature,
}

/// Converts an HTML reply, reading its quoting structure (see [`ReplyText`]). Images are
/// not written as `[alt]`: in a reply they are logos and signatures, not words.
pub fn to_reply_text(html: &str) -> ReplyText {
    convert(
        html,
        Options {
            reply_structure: true,
            image_alt: false,
            structure_marks: false,
        },
    )
}

#[derive(Debug, Clone, Copy, Default)]
struct Options {
    reply_structure: bool,
    image_alt: bool,
    /// Headings as `#` marks and nested list items indented ([`to_marked_text`]).
    structure_marks: bool,
}

fn convert(html: &str, options: Options) -> ReplyText {
    let mut writer = Writer {
        options,
        ..Writer::default()
    };
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let bytes = html.as_bytes();
    let mut at = 0;
    while at < html.len() {
        if bytes[at] == b'<' {
            at = handle_markup(html, &lower, at, &mut writer);
        } else {
            let end = html[at..].find('<').map_or(html.len(), |i| at + i);
            writer.text(&decode_entities(&html[at..end]));
            at = end;
        }
    }
    writer.finish()
}

/// Handles the markup starting at `at` (a `<`) and returns where the text resumes.
fn handle_markup(html: &str, lower: &str, at: usize, writer: &mut Writer) -> usize {
    let rest = &lower[at..];
    if rest.starts_with("<!--") {
        // Outlook's `<!--[if !mso]><!-->shown<!--<![endif]-->` ends its comments early,
        // so skipping to the first `-->` shows what a browser shows.
        return lower[at + 4..]
            .find("-->")
            .map_or(html.len(), |i| at + 4 + i + 3);
    }
    if rest.starts_with("<!") || rest.starts_with("<?") {
        return skip_to_tag_end(lower, at);
    }
    let closing = rest.starts_with("</");
    let name_start = at + if closing { 2 } else { 1 };
    let name_len = lower[name_start..]
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b':' || *b == b'-')
        .count();
    if name_len == 0 || !lower.as_bytes()[name_start].is_ascii_alphabetic() {
        // A lone `<` in text ("a < b"): keep it as text.
        writer.text("<");
        return at + 1;
    }
    let name = &lower[name_start..name_start + name_len];
    let end = skip_to_tag_end(lower, name_start + name_len);
    if !closing && is_bare_address(&html[at..end]) {
        // `<jane@example.com>` written unescaped by a client: an address, not a tag.
        writer.text(&html[at..end]);
        return end;
    }
    if !closing && RAW_TEXT.contains(&name) {
        // Skip the element's content up to its closing tag, whatever it contains.
        let close = format!("</{name}");
        return lower[end..].find(&close).map_or(html.len(), |i| {
            skip_to_tag_end(lower, end + i + close.len())
        });
    }
    // Up to the closing `>`, or to the end of an unterminated tag (which may end inside
    // a multi-byte character, so never one byte short of it).
    let attributes_end = if end > name_start + name_len && html.as_bytes()[end - 1] == b'>' {
        end - 1
    } else {
        end
    };
    let attributes = &html[name_start + name_len..attributes_end];
    if closing {
        writer.close(name);
    } else {
        writer.open(name, attributes);
    }
    end
}

/// Whether a would-be tag is an e-mail address in angle brackets.
fn is_bare_address(tag: &str) -> bool {
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    inner.contains('@')
        && !inner.contains(|c: char| c.is_whitespace() || c == '=' || c == '"' || c == '\'')
}

/// Elements whose content is never text for a reader.
const RAW_TEXT: [&str; 9] = [
    "script", "style", "head", "title", "template", "noscript", "xml", "svg", "object",
];

/// Elements that end the current line.
const BLOCKS: [&str; 27] = [
    "div",
    "tr",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "main",
    "aside",
    "figure",
    "figcaption",
    "address",
    "center",
    "form",
    "fieldset",
    "caption",
    "tbody",
    "thead",
    "tfoot",
    "body",
    "html",
];

/// Elements separated from their neighbours by a blank line.
const PARAGRAPHS: [&str; 8] = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"];

/// Index just past the `>` that ends the tag containing `from`, honouring quoted
/// attribute values.
fn skip_to_tag_end(lower: &str, from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (i, b) in lower.as_bytes()[from..].iter().enumerate() {
        match (quote, *b) {
            (None, b'"' | b'\'') => quote = Some(*b),
            (Some(q), c) if c == q => quote = None,
            (None, b'>') => return from + i + 1,
            _ => {}
        }
    }
    lower.len()
}

/// What an element opened in reply mode means for the quoting structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    /// Its content is quoted (rendered one `> ` level deeper).
    Quote,
    /// A `<blockquote>` used for indentation only (Gmail's indent button): not a quote.
    Indent,
}

#[derive(Default)]
struct Writer {
    options: Options,
    lines: Vec<String>,
    line: String,
    /// Quote depth of the line being written, fixed when its first text arrives.
    line_depth: usize,
    quote_depth: usize,
    pre_depth: usize,
    /// A space is owed before the next word.
    space: bool,
    /// A blank line is owed before the next text.
    paragraph: bool,
    /// `None` for a bulleted list, `Some(n)` for an ordered one at item n.
    lists: Vec<Option<u32>>,
    /// Levels of list nesting the line being written is indented by (marked text only).
    line_indent: usize,
    /// Cells already written in the current table row.
    cells: usize,
    /// Inside a table cell, blocks separate words, not lines: a row stays one line.
    cell_depth: usize,
    /// Open tables, each `true` when it only lays the page out (`role="presentation"`,
    /// as mail templates write it): in its cells, paragraphs and breaks are lines.
    layout_tables: Vec<bool>,
    /// Inside an Outlook line paragraph (`MsoNormal`), and whether it got text.
    mso_line: Option<bool>,
    /// Open `<div>`/`<blockquote>`/`<span>` elements and what they mean, so the quote
    /// depth a container added is taken back at its own closing tag.
    containers: Vec<(ContainerTag, Role)>,
    /// How many of each [`ContainerTag`] are in `containers`.
    open_containers: [usize; 3],
    cut: Option<(usize, CutMarker)>,
    rule_lines: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum ContainerTag {
    Div,
    Blockquote,
    Span,
}

impl Writer {
    /// Inside a cell of a table that holds data, where a row stays one line.
    fn in_data_cell(&self) -> bool {
        self.cell_depth > 0 && self.layout_tables.last() != Some(&true)
    }

    fn open(&mut self, name: &str, attributes: &str) {
        if self.options.reply_structure {
            self.open_reply_structure(name, attributes);
        }
        if name == "table" {
            let layout = attribute(attributes, "role")
                .is_some_and(|role| role.trim().eq_ignore_ascii_case("presentation"));
            // Bounded: a hostile document cannot grow the stack without limit.
            if self.layout_tables.len() < 64 {
                self.layout_tables.push(layout);
            }
        }
        if self.in_data_cell()
            && (PARAGRAPHS.contains(&name)
                || BLOCKS.contains(&name)
                || matches!(name, "br" | "li" | "ul" | "ol"))
            && name != "tr"
            && name != "table"
        {
            self.space = true;
            return;
        }
        match name {
            "br" => {
                self.hard_break();
                self.mark_mso_text();
            }
            "hr" => {
                self.end_line();
                self.paragraph = true;
            }
            "blockquote" => {
                self.end_line();
                // In reply mode the structure reader decides whether it quotes.
                if !self.options.reply_structure {
                    self.quote_depth += 1;
                }
            }
            "li" => {
                self.end_line();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{n}. ")
                    }
                    _ => "- ".to_owned(),
                };
                if self.options.structure_marks {
                    self.line_indent = self.lists.len().saturating_sub(1);
                }
                self.start_text();
                self.line.push_str(&marker);
                self.space = false;
            }
            "ul" => {
                self.end_line();
                self.lists.push(None);
            }
            "ol" => {
                self.end_line();
                let start = attribute(attributes, "start")
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .unwrap_or(1);
                self.lists.push(Some(start.saturating_sub(1)));
            }
            "tr" => {
                self.cell_depth = 0;
                self.end_line();
                self.cells = 0;
            }
            "td" | "th" => {
                self.cell_depth += 1;
                if self.cells > 0 {
                    self.start_text();
                    self.line.push('\t');
                    self.space = false;
                }
                self.cells += 1;
            }
            "pre" => {
                self.end_line();
                self.paragraph = true;
                self.pre_depth += 1;
            }
            "p" if is_outlook_line(attributes) => {
                // Outlook writes each line as a paragraph: a line, not a paragraph.
                self.end_line();
                self.mso_line = Some(false);
            }
            "img" if self.options.image_alt => {
                if let Some(alt) = attribute(attributes, "alt") {
                    let alt = decode_entities(alt.trim());
                    if !alt.trim().is_empty() {
                        self.text(&format!("[{}]", alt.trim()));
                    }
                }
            }
            _ if PARAGRAPHS.contains(&name) => {
                self.end_line();
                self.paragraph = true;
                let level = name
                    .strip_prefix('h')
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|_| self.options.structure_marks);
                if let Some(level) = level {
                    self.start_text();
                    self.line.push_str(&"#".repeat(level));
                    self.line.push(' ');
                    self.space = false;
                }
            }
            _ if BLOCKS.contains(&name) => self.end_line(),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        if self.options.reply_structure {
            self.close_reply_structure(name);
        } else if name == "blockquote" {
            self.end_line();
            self.quote_depth = self.quote_depth.saturating_sub(1);
        }
        if matches!(name, "td" | "th") {
            self.cell_depth = self.cell_depth.saturating_sub(1);
            self.space = true;
            return;
        }
        if name == "table" {
            self.layout_tables.pop();
        }
        if self.in_data_cell() && name != "tr" && name != "table" {
            self.space = true;
            return;
        }
        match name {
            "ul" | "ol" => {
                self.end_line();
                self.lists.pop();
            }
            "li" => self.end_line(),
            "pre" => {
                self.end_line();
                self.paragraph = true;
                self.pre_depth = self.pre_depth.saturating_sub(1);
            }
            "p" if self.mso_line.is_some() => {
                let had_text = self.mso_line.take().unwrap_or(true);
                self.end_line();
                if !had_text {
                    // An empty Outlook paragraph is how it writes a blank line.
                    self.paragraph = true;
                }
            }
            _ if PARAGRAPHS.contains(&name) => {
                self.end_line();
                self.paragraph = true;
            }
            _ if BLOCKS.contains(&name) => self.end_line(),
            _ => {}
        }
    }

    /// Reads what an opening tag says about quoting; only in reply mode.
    fn open_reply_structure(&mut self, name: &str, attributes: &str) {
        let tag = match name {
            "div" => ContainerTag::Div,
            "blockquote" => ContainerTag::Blockquote,
            "span" => ContainerTag::Span,
            "hr" => {
                if self.quote_depth == 0 {
                    self.end_line();
                    self.rule_lines.push(self.lines.len());
                }
                return;
            }
            // Elements a client may put a marker on without being a container here.
            "pre" | "table" | "p" => {
                if let Some(marker) = ReplyAttributes::of(attributes).cut_marker() {
                    self.mark_cut(marker);
                }
                return;
            }
            _ => return,
        };
        let attributes = ReplyAttributes::of(attributes);
        if let Some(marker) = attributes.cut_marker() {
            self.mark_cut(marker);
        }
        let role = match tag {
            ContainerTag::Blockquote if attributes.is_indent_blockquote() => Role::Indent,
            ContainerTag::Blockquote => Role::Quote,
            ContainerTag::Div if attributes.is_quote_container() => Role::Quote,
            ContainerTag::Div if attributes.is_header_box() => {
                if self.quote_depth == 0 {
                    self.end_line();
                    self.rule_lines.push(self.lines.len());
                }
                Role::Plain
            }
            _ => Role::Plain,
        };
        if role == Role::Quote {
            self.end_line();
            self.quote_depth += 1;
        }
        self.containers.push((tag, role));
        self.open_containers[tag as usize] += 1;
    }

    fn close_reply_structure(&mut self, name: &str) {
        let tag = match name {
            "div" => ContainerTag::Div,
            "blockquote" => ContainerTag::Blockquote,
            "span" => ContainerTag::Span,
            _ => return,
        };
        // Close the innermost open element of this kind; unmatched closing tags are
        // ignored, as browsers do. The count keeps unmatched ones from searching the
        // whole stack; a matched one removes what it searched over.
        let open = &mut self.open_containers[tag as usize];
        if *open == 0 {
            return;
        }
        let Some(index) = self.containers.iter().rposition(|(t, _)| *t == tag) else {
            return;
        };
        let closed = self.containers.split_off(index);
        for (t, _) in &closed {
            self.open_containers[*t as usize] -= 1;
        }
        let quotes = closed.iter().filter(|(_, r)| *r == Role::Quote).count();
        if quotes > 0 {
            self.end_line();
            self.quote_depth = self.quote_depth.saturating_sub(quotes);
        }
    }

    fn mark_cut(&mut self, marker: CutMarker) {
        if self.cut.is_none() && self.quote_depth == 0 {
            self.end_line();
            self.cut = Some((self.lines.len(), marker));
        }
    }

    fn mark_mso_text(&mut self) {
        if let Some(had_text) = self.mso_line.as_mut() {
            *had_text = true;
        }
    }

    fn text(&mut self, text: &str) {
        if self.pre_depth > 0 {
            let mut first = true;
            for part in text.split('\n') {
                if !first {
                    self.hard_break();
                }
                first = false;
                if !part.is_empty() {
                    self.start_text();
                    self.line.push_str(part.trim_end_matches('\r'));
                }
            }
            return;
        }
        for (i, word) in text.split(is_html_space).enumerate() {
            if i > 0 {
                self.space = true;
            }
            if word.is_empty() {
                continue;
            }
            self.mark_mso_text();
            self.start_text();
            if self.space && !self.line.is_empty() && !self.line.ends_with(['\t', ' ']) {
                self.line.push(' ');
            }
            self.space = false;
            self.line.push_str(word);
        }
    }

    /// Called before text is added to the line: settles owed blank lines and the line's
    /// quote depth.
    fn start_text(&mut self) {
        if self.line.is_empty() {
            if self.paragraph && self.lines.last().is_some_and(|l| !l.trim().is_empty()) {
                self.lines
                    .push(quote_prefix(self.quote_depth).trim_end().to_owned());
            }
            self.paragraph = false;
            self.line_depth = self.quote_depth;
        }
    }

    fn hard_break(&mut self) {
        if self.line.is_empty() {
            self.start_text();
        }
        self.push_line();
    }

    fn end_line(&mut self) {
        if !self.line.trim().is_empty() {
            self.push_line();
        } else {
            self.line.clear();
        }
        self.space = false;
    }

    fn push_line(&mut self) {
        let text = std::mem::take(&mut self.line);
        // Preformatted text keeps its indentation.
        let text = if self.pre_depth > 0 {
            text.trim_end()
        } else {
            text.trim()
        };
        let indent = "  ".repeat(std::mem::take(&mut self.line_indent));
        let line = format!("{}{indent}{text}", quote_prefix(self.line_depth));
        self.lines.push(line.trim_end().to_owned());
        self.space = false;
    }

    fn finish(mut self) -> ReplyText {
        self.end_line();
        // Collapse runs of blank lines (also quoted ones) and trim the ends; the marks
        // follow the lines they point at.
        let mut out: Vec<String> = Vec::with_capacity(self.lines.len());
        let mut cut = None;
        let mut rule_lines = Vec::new();
        let mut rules = self.rule_lines.iter().peekable();
        for (index, line) in self.lines.into_iter().enumerate() {
            if let Some((at, marker)) = self.cut {
                if at == index {
                    cut = Some((out.len(), marker));
                }
            }
            while rules.next_if(|at| **at <= index).is_some() {
                rule_lines.push(out.len());
            }
            let blank = line.trim_start_matches(['>', ' ']).is_empty();
            if blank
                && out
                    .last()
                    .is_none_or(|l| l.trim_start_matches(['>', ' ']).is_empty())
            {
                continue;
            }
            out.push(line);
        }
        while out
            .last()
            .is_some_and(|l| l.trim_start_matches(['>', ' ']).is_empty())
        {
            out.pop();
        }
        if let Some((at, marker)) = self.cut {
            if cut.is_none() && at >= out.len() {
                cut = Some((out.len(), marker));
            }
        }
        ReplyText {
            text: out.join("\n"),
            cut,
            rule_lines,
        }
    }
}

/// Outlook's line paragraphs: `<p class=MsoNormal>` (and `MsoPlainText`).
fn is_outlook_line(attributes: &str) -> bool {
    attribute_pairs(attributes).any(|(name, value)| {
        name.eq_ignore_ascii_case("class") && {
            let class = value.to_ascii_lowercase();
            class.contains("msonormal") || class.contains("msoplaintext")
        }
    })
}

/// The attributes that say what an element means for quoting, read in one pass:
/// lower-cased, the style without spaces.
#[derive(Debug, Default)]
struct ReplyAttributes {
    id: String,
    class: String,
    name: String,
    style: String,
    cited: bool,
    quoted_text_marker: bool,
}

impl ReplyAttributes {
    fn of(attributes: &str) -> ReplyAttributes {
        let mut read = ReplyAttributes::default();
        for (name, value) in attribute_pairs(attributes) {
            match name.to_ascii_lowercase().as_str() {
                "id" => read.id = value.to_ascii_lowercase(),
                "class" => read.class = value.to_ascii_lowercase(),
                "name" => read.name = value.to_ascii_lowercase(),
                "style" => read.style = value.to_ascii_lowercase().replace(' ', ""),
                "type" => read.cited = value.eq_ignore_ascii_case("cite"),
                "data-marker" => read.quoted_text_marker = value == "__QUOTED_TEXT__",
                _ => {}
            }
        }
        read
    }

    /// Markers after which, outside a quote, only the original message follows.
    fn cut_marker(&self) -> Option<CutMarker> {
        let id = &self.id;
        if id.contains("divrplyfwdmsg")
            || id.contains("appendonsend")
            || id.contains("olk_src_body_section")
            || id.contains("mail-editor-reference-message-container")
            || self.class.contains("outlookmessageheader")
        {
            return Some(CutMarker::OutlookHeader);
        }
        if self.class.split_whitespace().any(|c| c == "moz-signature") {
            return Some(CutMarker::Signature);
        }
        None
    }

    /// Containers clients put the quoted message (or its attribution) in. Yahoo prefixes
    /// its class and id with a generated string (`ydp1a2b3c4yahoo_quoted`).
    fn is_quote_container(&self) -> bool {
        self.class.split_whitespace().any(|c| {
            c.ends_with("gmail_quote")
                || c.contains("gmail_quote_container")
                || c.contains("yahoo_quoted")
                || c == "moz-cite-prefix"
                || c == "protonmail_quote"
                || c == "zmail_extra"
                || c == "zm_quoted"
        }) || self.id.contains("yahoo_quoted")
            || self.name == "quote"
            || self.quoted_text_marker
    }

    /// Gmail's indent button writes `<blockquote style="margin:0 0 0 40px;border:none">`:
    /// indentation of the sender's own text. A real quote is cited, classed or has a
    /// left border.
    fn is_indent_blockquote(&self) -> bool {
        !self.cited
            && self.class.trim().is_empty()
            && self.style.contains("border:none")
            && !self.style.contains("border-left")
    }

    /// The box Outlook and Windows Mail draw above a reply's header block: a `<div>` with
    /// a solid top border and no other border.
    fn is_header_box(&self) -> bool {
        self.style.contains("border-top")
            && self.style.contains("solid")
            && !self.style.contains("border-left:solid")
            && !self.style.contains("border-bottom:solid")
    }
}

/// The `name=value` pairs of a tag's attribute text, in one linear pass. Values may be
/// quoted with either quote or not at all; a name without a value has an empty one.
fn attribute_pairs(attributes: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = attributes;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len())
            .max(1.min(rest.len()));
        let name = &rest[..name_end];
        rest = rest[name_end..].trim_start();
        let Some(after_equals) = rest.strip_prefix('=') else {
            return Some((name, ""));
        };
        let value_text = after_equals.trim_start();
        let (value, after) = match value_text.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &value_text[1..];
                match inner.find(q) {
                    Some(end) => (&inner[..end], &inner[end + 1..]),
                    None => (inner, ""),
                }
            }
            _ => {
                let end = value_text
                    .find(char::is_whitespace)
                    .unwrap_or(value_text.len());
                (&value_text[..end], &value_text[end..])
            }
        };
        rest = after;
        Some((name, value))
    })
}

/// Quote levels written out at most: deeper ones are still quoted, and a hostile nest of
/// blockquotes must not make every line megabytes long.
const QUOTE_PREFIX_LEVELS_MAX: usize = 16;

fn quote_prefix(depth: usize) -> String {
    "> ".repeat(depth.min(QUOTE_PREFIX_LEVELS_MAX))
}

/// Whitespace as HTML collapses it. A no-break space is kept as a space character so it
/// still separates words, but collapses too (`<p>&nbsp;</p>` is an empty paragraph).
/// Zero-width spaces stay: they are not whitespace to a reader.
fn is_html_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}'
}

/// The value of `name="..."` in a tag's attribute text, if present.
pub(crate) fn attribute(attributes: &str, name: &str) -> Option<String> {
    let lower = attributes.to_ascii_lowercase();
    let mut search = 0;
    while let Some(found) = lower[search..].find(name) {
        let start = search + found;
        search = start + name.len();
        let before_ok = start == 0
            || lower.as_bytes()[start - 1].is_ascii_whitespace()
            || lower.as_bytes()[start - 1] == b'/';
        let rest = lower[search..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = attributes.len() - rest.len() + 1;
        let value = attributes[value_start..].trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_owned(),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or("")
                .to_owned(),
        });
    }
    None
}

/// Decodes character references: numeric ones and the named ones that occur in mail and
/// office documents. Unknown names are left as written. The `;` may be missing, as
/// browsers allow (`&nbsp` and `&amp` are common in generated mail).
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // The longest entity name is short: look no further than that.
        let name_len = rest[1..]
            .char_indices()
            .take(32)
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '#'))
            .map_or_else(|| rest[1..].len().min(32), |(i, _)| i);
        let name = &rest[1..1 + name_len];
        let has_semicolon = rest[1 + name_len..].starts_with(';');
        let decoded = if has_semicolon || name.starts_with('#') || LEGACY.contains(&name) {
            decode_entity(name)
        } else {
            None
        };
        match decoded {
            Some(value) if !name.is_empty() => {
                match value {
                    Decoded::Char(c) => out.push(c),
                    Decoded::Str(s) => out.push_str(s),
                }
                rest = &rest[1 + name_len + usize::from(has_semicolon)..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Entities browsers decode even without their `;`.
const LEGACY: [&str; 8] = ["amp", "lt", "gt", "quot", "nbsp", "copy", "reg", "AMP"];

/// One decoded reference: a character (numeric references) or a short string.
enum Decoded {
    Char(char),
    Str(&'static str),
}

fn decode_entity(name: &str) -> Option<Decoded> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        };
        // Windows-1252 code points written as numeric references, as browsers read them.
        let c = match code {
            0x80..=0x9f => windows_1252(code),
            other => char::from_u32(other)?,
        };
        return (!c.is_control() || c == '\t' || c == '\n').then_some(Decoded::Char(c));
    }
    named_entity(name).map(Decoded::Str)
}

fn windows_1252(code: u32) -> char {
    const TABLE: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    code.checked_sub(0x80)
        .and_then(|i| TABLE.get(i as usize))
        .copied()
        .unwrap_or('\u{FFFD}')
}

fn named_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        // Kept non-breaking: it separates words but collapses like a space.
        "nbsp" => "\u{a0}",
        "ensp" | "emsp" | "thinsp" => " ",
        "shy" => "\u{ad}",
        "zwnj" => "\u{200c}",
        "zwj" => "\u{200d}",
        "lrm" => "\u{200e}",
        "rlm" => "\u{200f}",
        "hellip" => "…",
        "mdash" => "—",
        "ndash" => "–",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "lsaquo" => "‹",
        "rsaquo" => "›",
        "bull" => "•",
        "middot" => "·",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "euro" => "€",
        "pound" => "£",
        "cent" => "¢",
        "yen" => "¥",
        "sect" => "§",
        "para" => "¶",
        "deg" => "°",
        "plusmn" => "±",
        "times" => "×",
        "divide" => "÷",
        "frac12" => "½",
        "frac14" => "¼",
        "frac34" => "¾",
        "sup1" => "¹",
        "sup2" => "²",
        "sup3" => "³",
        "ordf" => "ª",
        "ordm" => "º",
        "micro" => "µ",
        "iexcl" => "¡",
        "iquest" => "¿",
        "dagger" => "†",
        "Dagger" => "‡",
        "permil" => "‰",
        "larr" => "←",
        "rarr" => "→",
        "uarr" => "↑",
        "darr" => "↓",
        "agrave" => "à",
        "aacute" => "á",
        "acirc" => "â",
        "atilde" => "ã",
        "auml" => "ä",
        "aring" => "å",
        "aelig" => "æ",
        "ccedil" => "ç",
        "egrave" => "è",
        "eacute" => "é",
        "ecirc" => "ê",
        "euml" => "ë",
        "igrave" => "ì",
        "iacute" => "í",
        "icirc" => "î",
        "iuml" => "ï",
        "eth" => "ð",
        "ntilde" => "ñ",
        "ograve" => "ò",
        "oacute" => "ó",
        "ocirc" => "ô",
        "otilde" => "õ",
        "ouml" => "ö",
        "oslash" => "ø",
        "ugrave" => "ù",
        "uacute" => "ú",
        "ucirc" => "û",
        "uuml" => "ü",
        "yacute" => "ý",
        "yuml" => "ÿ",
        "thorn" => "þ",
        "szlig" => "ß",
        "Agrave" => "À",
        "Aacute" => "Á",
        "Acirc" => "Â",
        "Atilde" => "Ã",
        "Auml" => "Ä",
        "Aring" => "Å",
        "AElig" => "Æ",
        "Ccedil" => "Ç",
        "Egrave" => "È",
        "Eacute" => "É",
        "Ecirc" => "Ê",
        "Euml" => "Ë",
        "Igrave" => "Ì",
        "Iacute" => "Í",
        "Icirc" => "Î",
        "Iuml" => "Ï",
        "Ntilde" => "Ñ",
        "Ograve" => "Ò",
        "Oacute" => "Ó",
        "Ocirc" => "Ô",
        "Otilde" => "Õ",
        "Ouml" => "Ö",
        "Oslash" => "Ø",
        "Ugrave" => "Ù",
        "Uacute" => "Ú",
        "Ucirc" => "Û",
        "Uuml" => "Ü",
        "Yacute" => "Ý",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_breaks_become_lines() {
        let text = to_text(
            "<html><head><title>x</title><style>p{}</style></head><body>\
             <p>Present:<br>John Smith (Chair)<br/>Jane Doe, MPS</p><p>Apologies</p></body></html>",
        );
        assert_eq!(
            text,
            "Present:\nJohn Smith (Chair)\nJane Doe, MPS\n\nApologies"
        );
    }

    #[test]
    fn layout_tables_keep_their_paragraphs_as_lines() {
        let html = "<table role=\"presentation\"><tr><td><h1>Approval needed</h1>\
                    <p>Dear Tamara,</p><p>Please review.</p></td></tr></table>\
                    <table><tr><td><p>Name</p></td><td>MPS</td></tr></table>";
        assert_eq!(
            to_text(html),
            "Approval needed\n\nDear Tamara,\n\nPlease review.\n\nName\tMPS"
        );
    }

    #[test]
    fn tables_become_tab_separated_rows() {
        let text = to_text(
            "<table><tr><th>Name</th><th>Organisation</th></tr>\
             <tr><td><p>John  Smith</p></td><td>MPS</td></tr></table>",
        );
        assert_eq!(text, "Name\tOrganisation\nJohn Smith\tMPS");
    }

    #[test]
    fn lists_get_markers_and_ordered_lists_numbers() {
        let text = to_text("<ul><li>One</li><li>Two</li></ul><ol start=\"3\"><li>Three</li></ol>");
        assert_eq!(text, "- One\n- Two\n3. Three");
    }

    #[test]
    fn blockquotes_are_prefixed_per_level() {
        let text = to_text(
            "<div>Yes</div><blockquote><div>Old</div><blockquote>Older</blockquote></blockquote>",
        );
        assert_eq!(text, "Yes\n> Old\n> > Older");
    }

    #[test]
    fn entities_and_comments_are_handled() {
        let text =
            to_text("<!--[if mso]>x<![endif]--><p>A &amp; B &#8211; C&nbsp;D &unknown; 1 < 2</p>");
        assert_eq!(text, "A & B \u{2013} C D &unknown; 1 < 2");
    }

    #[test]
    fn attribute_values_are_found_with_either_quote() {
        assert_eq!(
            attribute(" class=\"gmail_quote x\"", "class").as_deref(),
            Some("gmail_quote x")
        );
        assert_eq!(
            attribute(" id='divRplyFwdMsg'", "id").as_deref(),
            Some("divRplyFwdMsg")
        );
        assert_eq!(attribute(" data-id=x", "id"), None);
    }

    #[test]
    fn conversions_give_the_expected_text() {
        // (what, HTML, text)
        let cases = [
            (
                "outlook lines are lines and its spacer paragraphs blank lines",
                "<p class=MsoNormal>Hi Jo,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>\
                 <p class=MsoNormal>Update for item 2b below.<o:p></o:p></p>\
                 <p class=MsoNormal>Thanks<o:p></o:p></p>",
                "Hi Jo,\n\nUpdate for item 2b below.\nThanks",
            ),
            (
                "outlook conditional comments show what a browser shows",
                "<!--[if gte mso 9]><xml><o:shapedefaults/></xml><![endif]-->\
                 <![if !supportLists]>-<![endif]>Item<!--[if !mso]><!--> shown<!--<![endif]-->",
                "-Item shown",
            ),
            (
                "office xml islands are dropped",
                "<xml><w:WordDocument>x</w:WordDocument></xml><p>Body</p>",
                "Body",
            ),
            (
                "pre keeps its spaces and line breaks",
                "<div>  a \n\n  b  </div><pre>x  y\n  z</pre>",
                "a b\n\nx  y\n  z",
            ),
            (
                "images stand as their alt text",
                "<img alt=\"a>b\" src=x>after",
                "[a>b]after",
            ),
            (
                "an unescaped address in angle brackets stays text",
                "<div>Jane Roe <jane@example.com> wrote:</div>",
                "Jane Roe <jane@example.com> wrote:",
            ),
            (
                "windows-1252 references and entities without semicolons are decoded",
                "&#146;ok&#150; &sup2; fish &amp chips &pound;5",
                "\u{2019}ok\u{2013} \u{b2} fish & chips \u{a3}5",
            ),
            (
                "broken markup still gives its text",
                "<div>a < b and <b>bold",
                "a < b and bold",
            ),
            (
                "an unterminated tag swallows the rest",
                "text <a href=\"x>y\">link</a> <unterminated",
                "text link",
            ),
            ("an empty paragraph is nothing", "<p>", ""),
            ("nothing is nothing", "", ""),
        ];
        for (what, html, expected) in cases {
            assert_eq!(to_text(html), expected, "{what}");
        }
    }

    #[test]
    fn reply_structure_is_read_from_client_markers() {
        // (what, HTML, text, cut line)
        let cases: [(&str, &str, &str, Option<usize>); 6] = [
            (
                "gmail quote container is quoted and text after it is not",
                "<div dir=\"ltr\">Yes</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, X wrote:</div>\
                 <blockquote class=\"gmail_quote\">Old</blockquote></div><div>Below</div>",
                "Yes\n> On Mon, X wrote:\n> > Old\nBelow",
                None,
            ),
            (
                "yahoo quoted container with a generated class prefix is quoted",
                "<div>Fine</div><div class=\"ydp1yahoo_quoted\" id=\"ydp1yahoo_quoted_2\"><div>Old</div></div>",
                "Fine\n> Old",
                None,
            ),
            (
                "outlook web reply header is a cut",
                "<div>Agreed</div><div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> X</div><div>Old</div>",
                "Agreed\n\nFrom: X\nOld",
                Some(1),
            ),
            (
                "gmail indent blockquote is not a quote",
                "<blockquote style=\"margin:0 0 0 40px;border:none;padding:0px\">Indented</blockquote>",
                "Indented",
                None,
            ),
            (
                "gmx quote div is quoted",
                "<div>Gut</div><div name=\"quote\" style=\"border-left:2px solid\"><div><b>Gesendet:</b> Mo</div></div>",
                "Gut\n> Gesendet: Mo",
                None,
            ),
            (
                "a cut marker inside a quote is not a cut",
                "<div>A</div><blockquote><div id=\"divRplyFwdMsg\">From: X</div></blockquote>",
                "A\n> From: X",
                None,
            ),
        ];
        for (what, html, text, cut) in cases {
            let reply = to_reply_text(html);
            assert_eq!(reply.text, text, "{what}");
            assert_eq!(reply.cut.map(|(line, _)| line), cut, "{what}");
        }
    }

    #[test]
    fn outlook_header_boxes_are_reported_as_rule_lines() {
        let reply = to_reply_text(
            "<p class=MsoNormal>Done<o:p></o:p></p><div style=\"border:none;border-top:solid #E1E1E1 1.0pt\">\
             <p class=MsoNormal><b>From:</b> X</p></div><p class=MsoNormal>Old</p>",
        );
        assert_eq!(reply.text, "Done\nFrom: X\nOld");
        assert_eq!(reply.rule_lines, vec![1]);
    }

    #[test]
    fn broken_and_deeply_nested_markup_still_gives_its_text() {
        let html = "<div><a <b>&amp;&#x;<!-".repeat(20_000);
        let _ = to_reply_text(&html);
        // An unterminated `<` is text, kept as it is.
        assert!(to_text(&"<".repeat(100_000)).len() <= 100_000);
        let nested = to_text(&"<div class=\"gmail_quote\">x".repeat(10_000));
        assert_eq!(nested.matches('x').count(), 10_000);
    }
}
