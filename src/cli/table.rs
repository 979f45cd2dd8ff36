//! The one fixed-width table printer of the command line: a header row and one row per
//! record, columns separated by two spaces, the last column not padded. A column is as
//! wide as its widest cell, so rows line up without cutting what tells them apart.

/// How a column's cells sit in its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: its header and least width (the last column's width is not used).
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

/// The header and `rows` as lines, each column widened to its widest cell. Nothing is
/// cut here; use [`clip`] for a last column that can be long.
fn render(columns: &[Column], rows: &[Vec<String>]) -> String {
    let columns = fit(columns, rows);
    let mut out = header(&columns);
    for row in rows {
        out.push_str(&line(&columns, row));
    }
    out
}

/// `columns`, each at least as wide as its header and its widest cell in `rows`: for a
/// table printed with [`header`] and [`line`] between lines of its own.
pub fn fit(columns: &[Column], rows: &[Vec<String>]) -> Vec<Column> {
    columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let widest = rows
                .iter()
                .filter_map(|row| row.get(i))
                .chain(std::iter::once(&column.header.to_owned()))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0);
            Column {
                width: column.width.max(widest),
                ..*column
            }
        })
        .collect()
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

/// `text` on one line: breaks and runs of spaces folded, controls dropped.
pub fn one_line(text: &str) -> String {
    crate::templates::header_text(text)
}

/// `text` on one line (see [`one_line`]), cut to `width` characters with an ellipsis:
/// only for a last column, whose text is there to be glanced at.
pub fn clip(text: &str, width: usize) -> String {
    let flat = one_line(text);
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

    #[test]
    fn a_column_widens_to_its_widest_cell_rather_than_cut_it() {
        let columns = [left("DUE", 4), left("TEXT", 0)];
        let rows = [
            vec!["December 2023".into(), "a".into()],
            vec!["2024-01-17".into(), "b".into()],
        ];
        assert_eq!(
            render(&columns, &rows),
            "DUE            TEXT\nDecember 2023  a\n2024-01-17     b\n"
        );
    }
}
