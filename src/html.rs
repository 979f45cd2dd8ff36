//! HTML to plain text, for minutes sent as HTML and for HTML-only replies.
//!
//! This module owns one conversion with the properties the parsers after it rely on:
//! block elements end lines, paragraphs and headings are separated by a blank line, table
//! rows become lines with cells separated by a tab, list items start with `- ` (or their
//! number in an ordered list), `<blockquote>` content is prefixed with `> ` per level (so
//! reply trimming treats quoted HTML like quoted text), and `<head>`, `<style>` and
//! `<script>` are dropped. Entities are decoded. It is linear in the input and never fails:
//! broken markup gives imperfect text, not an error.
//!
//! It does not sanitise HTML for display and does not keep links or formatting.

/// Converts an HTML document or fragment to plain text (see the module documentation).
pub fn to_text(html: &str) -> String {
    let mut writer = Writer::default();
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
    if name_len == 0 {
        // A lone `<` in text ("a < b"): keep it as text.
        writer.text("<");
        return at + 1;
    }
    let name = &lower[name_start..name_start + name_len];
    let end = skip_to_tag_end(lower, name_start + name_len);
    if !closing && RAW_TEXT.contains(&name) {
        // Skip the element's content up to its closing tag, whatever it contains.
        let close = format!("</{name}");
        return lower[end..].find(&close).map_or(html.len(), |i| {
            skip_to_tag_end(lower, end + i + close.len())
        });
    }
    let attributes = &html[name_start + name_len..end.saturating_sub(1).max(name_start + name_len)];
    if closing {
        writer.close(name);
    } else {
        writer.open(name, attributes);
    }
    end
}

/// Elements whose content is never text for a reader.
const RAW_TEXT: [&str; 6] = ["script", "style", "head", "title", "template", "noscript"];

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

#[derive(Default)]
struct Writer {
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
    /// Cells already written in the current table row.
    cells: usize,
    /// Inside a table cell, blocks separate words, not lines: a row stays one line.
    cell_depth: usize,
}

impl Writer {
    fn open(&mut self, name: &str, attributes: &str) {
        if self.cell_depth > 0
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
            "br" => self.hard_break(),
            "hr" => {
                self.end_line();
                self.paragraph = true;
            }
            "blockquote" => {
                self.end_line();
                self.quote_depth += 1;
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
            _ if PARAGRAPHS.contains(&name) => {
                self.end_line();
                self.paragraph = true;
            }
            _ if BLOCKS.contains(&name) => self.end_line(),
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        if matches!(name, "td" | "th") {
            self.cell_depth = self.cell_depth.saturating_sub(1);
            self.space = true;
            return;
        }
        if self.cell_depth > 0 && name != "tr" && name != "table" {
            self.space = true;
            return;
        }
        match name {
            "blockquote" => {
                self.end_line();
                self.quote_depth = self.quote_depth.saturating_sub(1);
            }
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
            _ if PARAGRAPHS.contains(&name) => {
                self.end_line();
                self.paragraph = true;
            }
            _ if BLOCKS.contains(&name) => self.end_line(),
            _ => {}
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
        let text = text.trim();
        let line = format!("{}{text}", quote_prefix(self.line_depth));
        self.lines.push(line.trim_end().to_owned());
        self.space = false;
    }

    fn finish(mut self) -> String {
        self.end_line();
        // Collapse runs of blank lines (also quoted ones) and trim the ends.
        let mut out: Vec<String> = Vec::with_capacity(self.lines.len());
        for line in self.lines {
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
        out.join("\n")
    }
}

fn quote_prefix(depth: usize) -> String {
    "> ".repeat(depth)
}

/// Whitespace as HTML collapses it. A no-break space is kept as a space character so it
/// still separates words, but collapses too (`<p>&nbsp;</p>` is an empty paragraph).
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
/// office documents. Unknown names are left as written.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|end| decode_entity(&rest[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        };
        // Windows-1252 code points written as numeric references by older mail clients.
        let code = match code {
            0x91 => 0x2018,
            0x92 => 0x2019,
            0x93 => 0x201c,
            0x94 => 0x201d,
            0x96 => 0x2013,
            0x97 => 0x2014,
            other => other,
        };
        return char::from_u32(code).filter(|c| !c.is_control() || *c == '\t' || *c == '\n');
    }
    Some(match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '\u{2013}',
        "mdash" => '\u{2014}',
        "lsquo" => '\u{2018}',
        "rsquo" => '\u{2019}',
        "ldquo" => '\u{201c}',
        "rdquo" => '\u{201d}',
        "hellip" => '\u{2026}',
        "bull" => '\u{2022}',
        "middot" => '\u{b7}',
        "pound" => '£',
        "euro" => '€',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "frac12" => '½',
        "eacute" => 'é',
        "egrave" => 'è',
        "aacute" => 'á',
        "agrave" => 'à',
        "ccedil" => 'ç',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "szlig" => 'ß',
        "shy" => '\u{ad}',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
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
}
