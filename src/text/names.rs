//! Names a person types — a meeting's reference, an organisation's short name, an
//! action's reference — against the names that exist: when one is not found, the nearest
//! known names, or every known name when none is near, for an error that says what to type.
//!
//! This module only compares strings; the known names come from the caller.

/// How many known names an error lists at most.
const LISTED: usize = 25;

/// The known names nearest to `given`, best first, in `known`'s order among equals: the
/// same name but for case, spaces and punctuation; names that contain what was typed; else
/// names a few edits away (a typo, two letters swapped). Empty when none is near.
pub fn nearest<'a>(given: &str, known: &'a [String]) -> Vec<&'a str> {
    let wanted = folded(given);
    if wanted.is_empty() {
        return Vec::new();
    }
    // A third of the name may be wrong, from one edit to three.
    let most_edits = (wanted.chars().count() / 3).clamp(1, 3);
    let scored: Vec<(usize, &str)> = known
        .iter()
        .filter_map(|name| {
            let candidate = folded(name);
            let score = if candidate == wanted {
                0
            } else if wanted.chars().count() >= 2 && candidate.contains(&wanted) {
                1
            } else {
                let edits = edit_distance(&candidate, &wanted);
                if edits > most_edits {
                    return None;
                }
                1 + edits
            };
            Some((score, name.as_str()))
        })
        .collect();
    let Some(best) = scored.iter().map(|(score, _)| *score).min() else {
        return Vec::new();
    };
    scored
        .into_iter()
        .filter(|(score, _)| *score == best)
        .map(|(_, name)| name)
        .take(LISTED)
        .collect()
}

/// The error for a `what` (`meeting`, `organisation`, `action`) called `given` that does
/// not exist: the nearest known names, else the known names (the first [`LISTED`] of them).
pub fn unknown(what: &str, given: &str, known: &[String]) -> String {
    let close = nearest(given, known);
    if !close.is_empty() {
        return format!("no {what} {given:?}; did you mean {}?", or_list(&close));
    }
    if known.is_empty() {
        return format!("no {what} {given:?}; there are no {what}s yet");
    }
    let shown: Vec<&str> = known.iter().take(LISTED).map(String::as_str).collect();
    let more = match known.len() - shown.len() {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    format!(
        "no {what} {given:?}; the {what}s are {}{more}",
        shown.join(", ")
    )
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Lower case, letters and digits only: `CPS South` and `cps-south` fold alike.
fn folded(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edits (a letter added, dropped, changed, or two neighbours swapped) from `a` to `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows of the table: two back, one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let change = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(row[j - 1] + 1)
                .min(previous[j - 1] + change);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            row[j] = best;
        }
        before = std::mem::replace(&mut previous, row);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_nearest_names_are_those_fewest_edits_away_or_containing_what_was_typed() {
        let organisations = names(&["MPS", "CPS", "CPS South", "HMCTS", "MOPAC"]);
        let meetings = names(&[
            "LCJB-2023-09-20",
            "LCJB-2023-11-29",
            "LCJB-2023-12-13",
            "LCJB-2024-01-17",
        ]);
        let actions = names(&["LCJB-A1", "LCJB-A17", "LCJB-A18", "LCJB-A7"]);
        let cases: [(&str, &[String], &[&str]); 9] = [
            ("cps-south", &organisations, &["CPS South"]),
            ("CPS Sth", &organisations, &["CPS South"]),
            ("mopca", &organisations, &["MOPAC"]),
            ("HMCT", &organisations, &["HMCTS"]),
            ("Fire Brigade", &organisations, &[]),
            ("LCJB-2023-12-31", &meetings, &["LCJB-2023-12-13"]),
            ("2023-11-29", &meetings, &["LCJB-2023-11-29"]),
            ("A17", &actions, &["LCJB-A17"]),
            ("LCJB-A71", &actions, &["LCJB-A17", "LCJB-A1", "LCJB-A7"]),
        ];
        for (given, known, expected) in cases {
            let mut found = nearest(given, known);
            let mut expected = expected.to_vec();
            found.sort_unstable();
            expected.sort_unstable();
            assert_eq!(found, expected, "{given}");
        }
    }

    #[test]
    fn an_unknown_name_is_answered_with_the_nearest_or_the_known_names() {
        let known = names(&["MPS", "CPS", "CPS South", "HMCTS"]);
        assert_eq!(
            unknown("organisation", "CPS Sth", &known),
            "no organisation \"CPS Sth\"; did you mean CPS South?"
        );
        assert_eq!(
            unknown("organisation", "Fire Brigade", &known),
            "no organisation \"Fire Brigade\"; the organisations are MPS, CPS, CPS South, HMCTS"
        );
        assert_eq!(
            unknown("meeting", "LCJB-2024-01-17", &[]),
            "no meeting \"LCJB-2024-01-17\"; there are no meetings yet"
        );
        let many: Vec<String> = (1..=30).map(|n| format!("LCJB-A{n}")).collect();
        assert!(unknown("action", "XYZ", &many).ends_with("LCJB-A25 and 5 more"));
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
    }
}
