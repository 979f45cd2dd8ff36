//! References people write to the board's things: agenda item numbers, compared in one
//! form wherever they are read (`2.b`, `2b` and `2(b)` are the same item).

/// The comparable form of an item number: lower case, letters and digits only.
pub fn item_key(number: &str) -> String {
    number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn item_numbers_compare_as_written_any_way() {
        for written in ["2.b", "2b", "2(b)", "2B"] {
            assert_eq!(super::item_key(written), "2b");
        }
    }
}
