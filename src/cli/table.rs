//! The one fixed-width table printer of the command line: a header row and one row per
//! record, columns separated by two spaces, the last column not padded.

/// How a column's cells sit in its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: its header and width (the last column's width is not used).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub header: &'static str,
    pub width: usize,
    pub align: Align,
}

/// A left-aligned column.
pub const fn left(header: &'static str, width: usize) -> Column {
    Column {
        header,
        width,
        align: Align::Left,
    }
}

/// A right-aligned column (numbers).
pub const fn right(header: &'static str, width: usize) -> Column {
    Column {
        header,
        width,
        align: Align::Right,
    }
}

/// The header and `rows` as lines. A cell wider than its column is not cut here; use
/// [`clip`] for the columns that can be long.
fn render(columns: &[Column], rows: &[Vec<String>]) -> String {
    let mut out = header(columns);
    for row in rows {
        out.push_str(&line(columns, row));
    }
    out
}

/// The table of `records`, one row each as `cells` makes it; `empty` (a line) when there
/// are none.
pub fn list<T>(
    columns: &[Column],
    records: &[T],
    empty: &str,
    cells: impl Fn(&T) -> Vec<String>,
) -> String {
    if records.is_empty() {
        return format!("{empty}\n");
    }
    let rows: Vec<Vec<String>> = records.iter().map(cells).collect();
    render(columns, &rows)
}

/// The header line alone, for a table whose rows carry lines of their own.
pub fn header(columns: &[Column]) -> String {
    let headers: Vec<String> = columns.iter().map(|c| c.header.to_owned()).collect();
    line(columns, &headers)
}

/// One row's line.
pub fn line(columns: &[Column], cells: &[String]) -> String {
    let last = columns.len().saturating_sub(1);
    let mut out = String::new();
    for (i, (column, cell)) in columns.iter().zip(cells).enumerate() {
        if i > 0 {
            out.push_str("  ");
        }
        match (i == last, column.align) {
            (true, _) => out.push_str(cell),
            (false, Align::Left) => out.push_str(&format!("{cell:<width$}", width = column.width)),
            (false, Align::Right) => out.push_str(&format!("{cell:>width$}", width = column.width)),
        }
    }
    out.push('\n');
    out
}

/// `text` on one line (breaks and runs of spaces folded, controls dropped), cut to
/// `width` characters with an ellipsis.
pub fn clip(text: &str, width: usize) -> String {
    let flat = crate::templates::header_text(text);
    if flat.chars().count() <= width {
        flat
    } else {
        let mut cut: String = flat.chars().take(width.saturating_sub(1)).collect();
        cut.push('\u{2026}');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_padded_but_the_last() {
        let columns = [right("ID", 4), left("NAME", 6), left("NOTE", 0)];
        let text = render(&columns, &[vec!["7".into(), "Ann".into(), "first".into()]]);
        assert_eq!(text, "  ID  NAME    NOTE\n   7  Ann     first\n");
        assert_eq!(clip("a\nlong  line", 6), "a lon\u{2026}");
    }
}
