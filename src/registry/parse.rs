//! Reading the registry file: TOML to the file as written, then checked; a file that
//! cannot be read or parsed, or that has problems, is a [`RegistryError`] naming them all.

use std::path::Path;

use super::check::*;
use super::model::*;

/// Why a registry file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Says the reason itself, so it hands on no source: a chain printed in full would
    /// say "No such file or directory" twice.
    #[error("{path}: cannot read the registry file: {error}")]
    Read { path: String, error: std::io::Error },
    /// The file is not TOML, or a key is unknown, missing or of the wrong type.
    #[error("{0}")]
    Syntax(Problem),
    /// The file parses but its content is wrong; every problem found, in file order.
    #[error("{}", display_lines(.0))]
    Invalid(Vec<Problem>),
}

impl RegistryError {
    /// The located problems (none for a read error).
    pub fn problems(&self) -> &[Problem] {
        match self {
            RegistryError::Read { .. } => &[],
            RegistryError::Syntax(problem) => std::slice::from_ref(problem),
            RegistryError::Invalid(problems) => problems,
        }
    }
}

pub(super) fn display_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads and validates the registry file at `path`.
pub fn load(path: &Path) -> Result<Registry, RegistryError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| RegistryError::Read {
        path: shown.clone(),
        error,
    })?;
    parse(&shown, &text)
}

/// Parses and validates registry `text`; `path_for_messages` names the file in problems.
pub fn parse(path_for_messages: &str, text: &str) -> Result<Registry, RegistryError> {
    let raw: raw::File = toml::from_str(text).map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start);
        let (line, column) = line_and_column(text, offset);
        RegistryError::Syntax(Problem {
            file: path_for_messages.to_owned(),
            line,
            column,
            // toml puts the expectation on a second line; a problem is one line.
            message: err
                .message()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
        })
    })?;
    let mut checker = Checker {
        file: path_for_messages,
        text,
        problems: Vec::new(),
    };
    let registry = checker.registry(raw);
    match registry {
        Some(registry) if checker.problems.is_empty() => Ok(registry),
        _ => {
            // Stable: problems at the same place keep the order they were found in.
            checker.problems.sort_by_key(|(offset, _)| *offset);
            Err(RegistryError::Invalid(
                checker.problems.into_iter().map(|(_, p)| p).collect(),
            ))
        }
    }
}
