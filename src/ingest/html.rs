//! HTML to readable text, for mail whose only body is HTML (webmail, Exchange, phones).
//!
//! A small, forgiving converter rather than a browser-grade parser: mail HTML is usually
//! broken, and what filing and people need is the words in reading order with paragraph
//! breaks, list bullets and table cells kept apart. Scripts, styles, the head and comments
//! (including Outlook's conditional comments) are dropped; entities are decoded; block
//! elements become line breaks. It never fails: any input gives some text.
//!
//! This module does not sanitise HTML for display, and it does not follow links.

/// Converts an HTML document or fragment to plain text.
pub fn to_text(html: &str) -> String {
    let mut out = Writer::default();
    let mut rest = html;
    // Depth inside elements whose content is not text (script, style, head, ...).
    let mut hidden: Vec<String> = Vec::new();
    let mut pre_depth = 0usize;
    let mut list_stack: Vec<ListKind> = Vec::new();

    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if hidden.is_empty() {
                out.text(&decode_entities(rest), pre_depth > 0);
            }
            break;
        };
        if lt > 0 && hidden.is_empty() {
            out.text(&decode_entities(&rest[..lt]), pre_depth > 0);
        }
        rest = &rest[lt..];

        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
            continue;
        }
        let Some(tag) = Tag::parse(rest) else {
            // A lone '<' that opens no tag is text.
            if hidden.is_empty() {
                out.text("<", pre_depth > 0);
            }
            rest = &rest[1..];
            continue;
        };
        rest = &rest[tag.length..];

        if let Some(open) = hidden.last() {
            if tag.closing && tag.name == *open {
                hidden.pop();
            } else if !tag.closing && is_hidden(&tag.name) && !tag.self_closing {
                hidden.push(tag.name);
            }
            continue;
        }
        if is_hidden(&tag.name) {
            if !tag.closing && !tag.self_closing {
                hidden.push(tag.name);
            }
            continue;
        }

        match (tag.name.as_str(), tag.closing) {
            ("br", _) => out.newline(),
            // A closing </p> cannot know its opener's class: a line break is right for
            // both, since an ordinary paragraph's break comes with the next opening.
            ("p", true) => out.line_break(),
            ("p", false) if tag.is_outlook_line() => out.line_break(),
            ("p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "table", _) => {
                out.paragraph_break()
            }
            ("pre", false) => {
                out.paragraph_break();
                pre_depth += 1;
            }
            ("pre", true) => {
                pre_depth = pre_depth.saturating_sub(1);
                out.paragraph_break();
            }
            ("ul", false) => {
                out.line_break();
                list_stack.push(ListKind::Bullets);
            }
            ("ol", false) => {
                out.line_break();
                list_stack.push(ListKind::Numbered(0));
            }
            ("ul" | "ol", true) => {
                list_stack.pop();
                out.line_break();
            }
            ("li", false) => {
                out.line_break();
                let indent = "  ".repeat(list_stack.len().saturating_sub(1));
                let marker = match list_stack.last_mut() {
                    Some(ListKind::Numbered(n)) => {
                        *n += 1;
                        format!("{indent}{n}. ")
                    }
                    _ => format!("{indent}- "),
                };
                out.raw(&marker);
            }
            ("hr", _) => {
                out.line_break();
                out.raw("----");
                out.line_break();
            }
            ("td" | "th", false) => out.cell(),
            (
                "div" | "tr" | "li" | "dt" | "dd" | "section" | "article" | "header" | "footer"
                | "address" | "center" | "caption" | "tbody" | "thead" | "tfoot",
                _,
            ) => out.line_break(),
            ("img", false) => {
                if let Some(alt) = tag.alt.filter(|a| !a.trim().is_empty()) {
                    out.text(&format!("[{}]", decode_entities(alt.trim())), false);
                }
            }
            _ => {}
        }
    }
    out.finish()
}

#[derive(Debug, Clone, Copy)]
enum ListKind {
    Bullets,
    Numbered(u32),
}

fn is_hidden(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "head" | "title" | "template" | "noscript" | "xml" | "svg" | "object"
    )
}

/// One tag as written: its lower-case name, whether it closes, and the attributes we use.
struct Tag<'a> {
    name: String,
    closing: bool,
    self_closing: bool,
    class: Option<&'a str>,
    alt: Option<&'a str>,
    /// Bytes from `<` to just past `>`.
    length: usize,
}

impl<'a> Tag<'a> {
    /// Parses the tag at the start of `text` (which starts with `<`). None when it is not a
    /// tag at all (`a < b`).
    fn parse(text: &'a str) -> Option<Tag<'a>> {
        let body = &text[1..];
        let (closing, body) = match body.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        let name_len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '-'))
            .unwrap_or(body.len());
        if name_len == 0 || !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let name = body[..name_len].to_ascii_lowercase();
        // Find the closing '>' outside quoted attribute values.
        let mut quote: Option<char> = None;
        let mut end = None;
        for (i, c) in body.char_indices().skip(name_len) {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        // An unterminated tag swallows the rest, as browsers do.
        let end = end.unwrap_or(body.len());
        let attributes = &body[name_len..end];
        let consumed = 1 + usize::from(closing) + (end + 1).min(body.len());
        Some(Tag {
            name,
            closing,
            self_closing: attributes.trim_end().ends_with('/'),
            class: attribute(attributes, "class"),
            alt: attribute(attributes, "alt"),
            length: consumed,
        })
    }

    /// Outlook writes each line as `<p class=MsoNormal>`, with empty paragraphs for blank
    /// lines: those are lines, not paragraphs.
    fn is_outlook_line(&self) -> bool {
        self.class
            .is_some_and(|c| c.contains("MsoNormal") || c.contains("MsoPlainText"))
    }
}

/// The value of attribute `name` in an attribute string, quoted or not.
fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let lower = attributes.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before_ok = at == 0
            || lower[..at]
                .chars()
                .next_back()
                .is_some_and(char::is_whitespace);
        let after = lower[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value_start = attributes.len() - after.len() + 1;
        let value = attributes[value_start..].trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &value[1..];
                inner.find(q).map_or(inner, |end| &inner[..end])
            }
            _ => value
                .find(|c: char| c.is_whitespace() || c == '>')
                .map_or(value, |end| &value[..end]),
        });
    }
    None
}

/// Builds the text: collapses whitespace, keeps at most one blank line, trims lines.
#[derive(Default)]
struct Writer {
    out: String,
    /// A space is owed before the next word.
    pending_space: bool,
    /// Newlines owed before the next text: 1 = line break, 2 = paragraph break.
    pending_breaks: usize,
    /// A table cell separator is owed before the next text on this line.
    pending_cell: bool,
}

impl Writer {
    fn text(&mut self, text: &str, preformatted: bool) {
        if preformatted {
            self.flush_breaks();
            self.out.push_str(text);
            return;
        }
        for (i, word) in text.split(|c: char| c.is_ascii_whitespace()).enumerate() {
            if i > 0 {
                self.pending_space = true;
            }
            if word.is_empty() {
                continue;
            }
            self.raw(word);
        }
        if text.ends_with(|c: char| c.is_ascii_whitespace()) {
            self.pending_space = true;
        }
    }

    fn raw(&mut self, text: &str) {
        let at_line_start = self.out.is_empty() || self.out.ends_with('\n');
        if self.pending_breaks > 0 {
            self.flush_breaks();
        } else if self.pending_cell && !at_line_start {
            self.out.push_str(" | ");
        } else if self.pending_space && !at_line_start && !self.out.ends_with(' ') {
            self.out.push(' ');
        }
        self.pending_cell = false;
        self.pending_space = false;
        self.out.push_str(text);
    }

    fn flush_breaks(&mut self) {
        if !self.out.is_empty() {
            let have = self.out.chars().rev().take_while(|&c| c == '\n').count();
            for _ in have..self.pending_breaks {
                self.out.push('\n');
            }
        }
        self.pending_breaks = 0;
        self.pending_space = false;
        self.pending_cell = false;
    }

    fn newline(&mut self) {
        // <br> always breaks, even twice in a row (a blank line), up to one blank line.
        if self.pending_breaks == 0 {
            self.out.push('\n');
        } else {
            self.flush_breaks();
            self.out.push('\n');
        }
        self.pending_space = false;
        self.pending_cell = false;
    }

    fn line_break(&mut self) {
        self.pending_breaks = self.pending_breaks.max(1);
    }

    fn paragraph_break(&mut self) {
        self.pending_breaks = 2;
    }

    fn cell(&mut self) {
        self.pending_cell = true;
    }

    fn finish(self) -> String {
        let mut text = String::with_capacity(self.out.len());
        let mut blank_run = 0;
        let out = self.out.replace('\u{a0}', " ");
        for line in out.lines() {
            let line = line.trim_end();
            if line.trim().is_empty() {
                blank_run += 1;
                if blank_run > 1 || text.is_empty() {
                    continue;
                }
                text.push('\n');
            } else {
                blank_run = 0;
                text.push_str(line);
                text.push('\n');
            }
        }
        text.trim_end().to_owned()
    }
}

/// Decodes character references: named ones that mail uses, and numeric ones.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map_or(rest.len(), |i| i + 1);
        let name = &rest[1..end];
        let decoded = if let Some(number) = name.strip_prefix('#') {
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => number.parse::<u32>().ok(),
            };
            code.map(|c| match c {
                0 => '\u{FFFD}',
                // Windows-1252 in numeric references, as browsers read them.
                0x80..=0x9f => windows_1252(c),
                _ => char::from_u32(c).unwrap_or('\u{FFFD}'),
            })
            .map(String::from)
        } else {
            named_entity(name).map(String::from)
        };
        match decoded {
            Some(value) if !name.is_empty() => {
                out.push_str(&value);
                rest = &rest[end..];
                if rest.starts_with(';') {
                    rest = &rest[1..];
                }
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

fn windows_1252(code: u32) -> char {
    const TABLE: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    TABLE
        .get((code - 0x80) as usize)
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
        // Kept non-breaking until the end so that a paragraph holding only &nbsp; (how
        // Outlook writes a blank line) still makes a line.
        "nbsp" => "\u{a0}",
        "ensp" | "emsp" | "thinsp" => " ",
        "shy" | "zwnj" | "zwj" | "lrm" | "rlm" => "",
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
        "szlig" => "ß",
        "Agrave" => "À",
        "Aacute" => "Á",
        "Acirc" => "Â",
        "Auml" => "Ä",
        "Aring" => "Å",
        "AElig" => "Æ",
        "Ccedil" => "Ç",
        "Egrave" => "È",
        "Eacute" => "É",
        "Ecirc" => "Ê",
        "Iacute" => "Í",
        "Ntilde" => "Ñ",
        "Oacute" => "Ó",
        "Ouml" => "Ö",
        "Oslash" => "Ø",
        "Uacute" => "Ú",
        "Uuml" => "Ü",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_line_breaks_become_lines() {
        let text =
            to_text("<html><body><p>Dear all,</p><p>Please find<br>attached.</p></body></html>");
        assert_eq!(text, "Dear all,\n\nPlease find\nattached.");
    }

    #[test]
    fn scripts_styles_head_and_comments_are_dropped() {
        let html = "<html><head><title>T</title><style>p {color:red}</style></head>\
                    <body><!--[if mso]>x<![endif]--><script>alert(1)</script>Hello</body></html>";
        assert_eq!(to_text(html), "Hello");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            to_text("Fish &amp; chips &pound;5 &#8211; &#x2019;ok&#146; &unknown; a&b"),
            "Fish & chips £5 – ’ok’ &unknown; a&b"
        );
    }

    #[test]
    fn outlook_lines_are_lines_and_its_spacers_blank_lines() {
        let html = "<p class=MsoNormal>Hi Jo,<o:p></o:p></p>\
                    <p class=MsoNormal><o:p>&nbsp;</o:p></p>\
                    <p class=MsoNormal>Update for item 2b below.<o:p></o:p></p>\
                    <p class=MsoNormal>Thanks<o:p></o:p></p>";
        assert_eq!(to_text(html), "Hi Jo,\n\nUpdate for item 2b below.\nThanks");
    }

    #[test]
    fn lists_get_bullets_and_numbers() {
        let html = "<ul><li>One</li><li>Two</li></ul><ol><li>First</li><li>Second</li></ol>";
        assert_eq!(to_text(html), "- One\n- Two\n1. First\n2. Second");
    }

    #[test]
    fn table_cells_are_kept_apart() {
        let html = "<table><tr><td>Action</td><td>Owner</td></tr><tr><td>A17</td><td>MPS</td></tr></table>";
        assert_eq!(to_text(html), "Action | Owner\nA17 | MPS");
    }

    #[test]
    fn whitespace_collapses_outside_pre_and_is_kept_inside() {
        let html = "<div>  a \n\n  b  </div><pre>x  y\n  z</pre>";
        assert_eq!(to_text(html), "a b\n\nx  y\n  z");
    }

    #[test]
    fn broken_html_still_gives_its_text() {
        assert_eq!(to_text("<div>a < b and <b>bold"), "a < b and bold");
        assert_eq!(
            to_text("text <a href=\"x>y\">link</a> <unterminated"),
            "text link"
        );
        assert_eq!(to_text("<p>"), "");
        assert_eq!(to_text(""), "");
    }

    #[test]
    fn quoted_attributes_may_hold_angle_brackets() {
        assert_eq!(to_text("<img alt=\"a>b\" src=x>after"), "[a>b]after");
    }
}
