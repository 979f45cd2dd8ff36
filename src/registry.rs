//! The board registry file: who sits on the board, which organisations they come from,
//! which meetings are scheduled and what is on their agendas. `minuted board import FILE`
//! reads it; `minuted board show` prints what the database holds in the same terms.
//!
//! This module owns the file format (parsing with positions, validation, the validated
//! [`Registry`]) and the presentation of a board ([`BoardView`], [`render_text`]). It does
//! not touch the database: `store::registry` writes a `Registry` and reads a `BoardView`.
//!
//! Every problem is reported as `FILE:LINE:COLUMN: message` pointing at the offending
//! value, and all semantic problems are reported at once, so a secretariat fixing a file
//! does not go round the edit-import loop once per mistake.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::domain::address::{parse_domain, EmailAddress};
use crate::domain::zone::Zone;

/// A validated registry: every cross-reference resolves, every address parses, no
/// duplicates. The store can write it without further checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    pub board: Board,
    /// In file order.
    pub organisations: Vec<Organisation>,
    /// In file order.
    pub members: Vec<Member>,
    /// In file order.
    pub meetings: Vec<Meeting>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Lower-case identifier (`lcjb`); upper-cased it prefixes meeting and action refs.
    pub slug: String,
    pub name: String,
    /// The address agencies write to; replies come back to `<local>+<token>@<domain>`.
    pub address: EmailAddress,
    /// Meeting times, papers deadlines and the schedule's times of day are read in it.
    pub timezone: Zone,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// The name minutes and agendas use (`MPS`, `CPS South`); unique within the board.
    pub short: String,
    pub name: String,
    /// Lower-case mail domains the organisation sends from, used to file mail from people
    /// who are not (yet) members.
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Unique within the board: members are identified by name because addresses change
    /// more often than names.
    pub name: String,
    /// As minutes write them (`LO`, `KV`); unique within the board so that "KV said" in a
    /// draft resolves to one person.
    pub initials: Option<String>,
    /// Free text such as "Deputy Commissioner of the MPS".
    pub role: Option<String>,
    /// Short name of the member's organisation.
    pub organisation: Option<String>,
    /// At least one; the first is the primary address mail is sent to.
    pub addresses: Vec<EmailAddress>,
    /// At least one, no repeats.
    pub roles: Vec<MemberRole>,
    /// Whether the member receives approved minutes and meeting packs.
    pub circulation: bool,
    /// Name of the member this one deputises for.
    pub deputy_of: Option<String>,
}

impl Member {
    pub fn primary_address(&self) -> Option<&EmailAddress> {
        self.addresses.first()
    }
}

/// What a member may do. `chair` and `secretariat` may approve; `observer` attends
/// without being counted as an agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Chair,
    Secretariat,
    Member,
    Observer,
}

impl MemberRole {
    pub const ALL: [MemberRole; 4] = [
        MemberRole::Chair,
        MemberRole::Secretariat,
        MemberRole::Member,
        MemberRole::Observer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Chair => "chair",
            MemberRole::Secretariat => "secretariat",
            MemberRole::Member => "member",
            MemberRole::Observer => "observer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// Unique within the board: a board meets at most once a day, and the date is what
    /// agencies write in subjects (`[LCJB 2023-12-13]`).
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub title: String,
    /// Written updates are due by this date; never after the meeting.
    pub papers_deadline: Option<NaiveDate>,
    /// In agenda order.
    pub items: Vec<AgendaItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaItem {
    /// As written on the agenda (`1`, `2.b`), unique within the meeting.
    pub number: String,
    pub title: String,
    /// Short name of the organisation that leads the item.
    pub lead: Option<String>,
}

impl Registry {
    /// The reference of a board's meeting on `date`: `LCJB-2023-12-13`.
    pub fn meeting_ref(board_slug: &str, date: NaiveDate) -> String {
        format!("{}-{}", board_slug.to_uppercase(), date.format("%Y-%m-%d"))
    }
}

/// Why a registry file was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{path}: cannot read the registry file: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
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

/// One problem at one place in the file. Lines and columns count from 1; columns count
/// characters, as editors do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

fn display_lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads and validates the registry file at `path`.
pub fn load(path: &Path) -> Result<Registry, RegistryError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Read {
        path: shown.clone(),
        source,
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

/// 1-based line and character column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The file as written, with the position of every value a problem may point at.
mod raw {
    use serde::Deserialize;
    use toml::Spanned;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub board: Board,
        #[serde(default)]
        pub organisations: Vec<Organisation>,
        #[serde(default)]
        pub members: Vec<Member>,
        #[serde(default)]
        pub meetings: Vec<Meeting>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Board {
        pub slug: Spanned<String>,
        pub name: Spanned<String>,
        pub address: Spanned<String>,
        #[serde(default)]
        pub timezone: Option<Spanned<String>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Organisation {
        pub short: Spanned<String>,
        pub name: Spanned<String>,
        #[serde(default)]
        pub domains: Vec<Spanned<String>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Member {
        pub name: Spanned<String>,
        pub initials: Option<Spanned<String>>,
        pub role: Option<Spanned<String>>,
        pub organisation: Option<Spanned<String>>,
        pub email: Option<Spanned<String>>,
        pub emails: Option<Spanned<Vec<Spanned<String>>>>,
        pub roles: Option<Spanned<Vec<Spanned<String>>>>,
        pub circulation: Option<bool>,
        pub deputy_of: Option<Spanned<String>>,
    }

    /// Dates and times are read as values, not strings, so that both `"2023-12-13"` and
    /// TOML's own `2023-12-13` are accepted.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Meeting {
        pub date: Spanned<toml::Value>,
        pub time: Option<Spanned<toml::Value>>,
        pub title: Spanned<String>,
        pub papers_deadline: Option<Spanned<toml::Value>>,
        #[serde(default)]
        pub items: Vec<Item>,
    }

    /// `number` is a value so that `number = 4` works as well as `number = "2.b"`.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Item {
        pub number: Spanned<toml::Value>,
        pub title: Spanned<String>,
        pub lead: Option<Spanned<String>>,
    }
}

/// Validates a [`raw::File`], collecting every problem with its position.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    /// (byte offset, problem), sorted by offset before being returned.
    problems: Vec<(usize, Problem)>,
}

impl Checker<'_> {
    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_and_column(self.text, span.start);
        self.problems.push((
            span.start,
            Problem {
                file: self.file.to_owned(),
                line,
                column,
                message: message.into(),
            },
        ));
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        line_and_column(self.text, span.start).0
    }

    /// The trimmed text of a required value; empty text is a problem.
    fn required(&mut self, value: &Spanned<String>, what: &str) -> String {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.problem(value.span(), format!("{what} must not be empty"));
        }
        text.to_owned()
    }

    /// The trimmed text of an optional value; empty text counts as absent.
    fn optional(value: &Option<Spanned<String>>) -> Option<String> {
        value
            .as_ref()
            .map(|v| v.get_ref().trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The validated registry, meaningful only when no problem was recorded.
    fn registry(&mut self, raw: raw::File) -> Option<Registry> {
        let board = self.board(&raw.board);
        let organisations = self.organisations(&raw.organisations);
        let known: HashSet<&str> = organisations.iter().map(|o| o.short.as_str()).collect();
        let members = self.members(&raw.members, &known);
        let meetings = self.meetings(&raw.meetings, &known);
        Some(Registry {
            board: board?,
            organisations,
            members,
            meetings,
        })
    }

    /// `None` only when the board address is invalid, which is then a recorded problem.
    fn board(&mut self, raw: &raw::Board) -> Option<Board> {
        let slug = raw.slug.get_ref().clone();
        if !is_valid_slug(&slug) {
            self.problem(
                raw.slug.span(),
                format!(
                    "invalid board slug `{slug}`: use lower-case letters, digits and hyphens, \
                     starting with a letter or digit (like `lcjb`)"
                ),
            );
        }
        let name = self.required(&raw.name, "the board name");
        let address = self.address(&raw.address, "the board address")?;
        let timezone = match &raw.timezone {
            None => Zone::UTC,
            Some(name) => name.get_ref().parse().unwrap_or_else(|problem| {
                self.problem(name.span(), problem);
                Zone::UTC
            }),
        };
        Some(Board {
            slug,
            name,
            address,
            timezone,
        })
    }

    fn address(&mut self, value: &Spanned<String>, what: &str) -> Option<EmailAddress> {
        match EmailAddress::parse(value.get_ref()) {
            Ok(address) => Some(address),
            Err(err) => {
                self.problem(
                    value.span(),
                    format!(
                        "invalid email address {:?} for {what}: {err}",
                        value.get_ref()
                    ),
                );
                None
            }
        }
    }

    fn organisations(&mut self, raw: &[raw::Organisation]) -> Vec<Organisation> {
        let mut shorts: HashMap<String, Range<usize>> = HashMap::new();
        // domain -> (organisation short name, where it was first listed)
        let mut domains_seen: HashMap<String, (String, Range<usize>)> = HashMap::new();
        let mut organisations = Vec::new();
        for org in raw {
            let short = self.required(&org.short, "an organisation's short name");
            if let Some(first) = shorts.get(&short) {
                let line = self.line_of(first);
                self.problem(
                    org.short.span(),
                    format!("duplicate organisation short name `{short}` (first at line {line})"),
                );
            } else if !short.is_empty() {
                shorts.insert(short.clone(), org.short.span());
            }
            let name = self.required(&org.name, "an organisation's name");
            let mut domains = Vec::new();
            for domain in &org.domains {
                match parse_domain(domain.get_ref()) {
                    Err(err) => self.problem(
                        domain.span(),
                        format!(
                            "invalid domain {:?} for organisation `{short}`: {err}",
                            domain.get_ref()
                        ),
                    ),
                    Ok(parsed) => {
                        if let Some((owner, first)) = domains_seen.get(&parsed) {
                            let line = self.line_of(first);
                            let message = if *owner == short {
                                format!("domain `{parsed}` is listed twice for `{short}`")
                            } else {
                                format!(
                                    "domain `{parsed}` already belongs to organisation `{owner}` \
                                     (line {line}); mail from it could not be filed to one \
                                     organisation"
                                )
                            };
                            self.problem(domain.span(), message);
                        } else {
                            domains_seen.insert(parsed.clone(), (short.clone(), domain.span()));
                            domains.push(parsed);
                        }
                    }
                }
            }
            organisations.push(Organisation {
                short,
                name,
                domains,
            });
        }
        organisations
    }

    fn organisation_ref(
        &mut self,
        value: &Spanned<String>,
        known: &HashSet<&str>,
        context: &str,
    ) -> Option<String> {
        let short = value.get_ref().trim();
        if known.contains(short) {
            return Some(short.to_owned());
        }
        let hint = known
            .iter()
            .find(|k| k.eq_ignore_ascii_case(short))
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        self.problem(
            value.span(),
            format!(
                "{context} unknown organisation `{short}`{hint}; \
                 organisations are declared in [[organisations]] by `short`"
            ),
        );
        None
    }

    fn members(&mut self, raw: &[raw::Member], known: &HashSet<&str>) -> Vec<Member> {
        let mut names: HashMap<String, Range<usize>> = HashMap::new();
        let mut initials_seen: HashMap<String, (String, Range<usize>)> = HashMap::new();
        let mut addresses_seen: HashMap<EmailAddress, (String, Range<usize>)> = HashMap::new();
        let mut members = Vec::new();
        for member in raw {
            let name = self.required(&member.name, "a member's name");
            if let Some(first) = names.get(&name) {
                let line = self.line_of(first);
                self.problem(
                    member.name.span(),
                    format!("duplicate member name `{name}` (first at line {line})"),
                );
            } else if !name.is_empty() {
                names.insert(name.clone(), member.name.span());
            }

            let initials = Self::optional(&member.initials);
            if let (Some(initials), Some(value)) = (&initials, &member.initials) {
                if let Some((owner, first)) = initials_seen.get(initials) {
                    let line = self.line_of(first);
                    self.problem(
                        value.span(),
                        format!(
                            "initials `{initials}` of `{name}` are already used by `{owner}` \
                             (line {line}); minutes could not tell them apart"
                        ),
                    );
                } else {
                    initials_seen.insert(initials.clone(), (name.clone(), value.span()));
                }
            }

            let organisation = member.organisation.as_ref().and_then(|org| {
                self.organisation_ref(org, known, &format!("member `{name}` belongs to an"))
            });

            let mut listed: Vec<&Spanned<String>> = member.email.iter().collect();
            if let Some(emails) = &member.emails {
                listed.extend(emails.get_ref().iter());
            }
            if listed.is_empty() {
                self.problem(
                    member.name.span(),
                    format!(
                        "member `{name}` has no email address: give `email = \"...\"` or \
                         `emails = [...]`"
                    ),
                );
            }
            let mut addresses: Vec<EmailAddress> = Vec::new();
            for value in listed {
                let Some(address) = self.address(value, &format!("member `{name}`")) else {
                    continue;
                };
                // `email` repeated in `emails` is harmless: keep the first.
                if addresses.contains(&address) {
                    continue;
                }
                if let Some((owner, first)) = addresses_seen.get(&address) {
                    let line = self.line_of(first);
                    self.problem(
                        value.span(),
                        format!(
                            "address `{address}` of `{name}` is already the address of \
                             `{owner}` (line {line}); an address belongs to one member"
                        ),
                    );
                    continue;
                }
                addresses_seen.insert(address.clone(), (name.clone(), value.span()));
                addresses.push(address);
            }

            let roles = self.roles(member, &name);

            members.push(Member {
                name,
                initials,
                role: Self::optional(&member.role),
                organisation,
                addresses,
                roles,
                circulation: member.circulation.unwrap_or(true),
                deputy_of: None,
            });
        }

        // Deputies are resolved once every name is known, so order in the file is free.
        for (member, raw_member) in members.iter_mut().zip(raw) {
            let Some(value) = &raw_member.deputy_of else {
                continue;
            };
            let deputy_of = value.get_ref().trim().to_owned();
            if deputy_of == member.name {
                self.problem(
                    value.span(),
                    format!("member `{deputy_of}` cannot be their own deputy"),
                );
            } else if !names.contains_key(&deputy_of) {
                self.problem(
                    value.span(),
                    format!(
                        "`deputy_of` of `{}` names `{deputy_of}`, who is not a member in this file",
                        member.name
                    ),
                );
            } else {
                member.deputy_of = Some(deputy_of);
            }
        }
        members
    }

    fn roles(&mut self, member: &raw::Member, name: &str) -> Vec<MemberRole> {
        let Some(listed) = &member.roles else {
            return vec![MemberRole::Member];
        };
        if listed.get_ref().is_empty() {
            self.problem(
                listed.span(),
                format!("member `{name}` has an empty `roles` list; leave it out for [\"member\"]"),
            );
        }
        let mut roles = Vec::new();
        for value in listed.get_ref() {
            match MemberRole::parse(value.get_ref().trim()) {
                Some(role) if !roles.contains(&role) => roles.push(role),
                Some(_) => {}
                None => self.problem(
                    value.span(),
                    format!(
                        "invalid role `{}` for member `{name}`: use chair, secretariat, member \
                         or observer",
                        value.get_ref()
                    ),
                ),
            }
        }
        roles
    }

    fn meetings(&mut self, raw: &[raw::Meeting], known: &HashSet<&str>) -> Vec<Meeting> {
        let mut dates: HashMap<NaiveDate, Range<usize>> = HashMap::new();
        let mut meetings = Vec::new();
        for meeting in raw {
            let date = self.date(&meeting.date, "meeting date");
            if let Some(date) = date {
                if let Some(first) = dates.get(&date) {
                    let line = self.line_of(first);
                    self.problem(
                        meeting.date.span(),
                        format!(
                            "two meetings on {date}: the other is at line {line}; a board meets \
                             at most once a day"
                        ),
                    );
                } else {
                    dates.insert(date, meeting.date.span());
                }
            }
            let time = meeting.time.as_ref().and_then(|t| self.time(t));
            let title = self.required(&meeting.title, "a meeting's title");
            let papers_deadline = meeting
                .papers_deadline
                .as_ref()
                .and_then(|d| self.date(d, "papers deadline"));
            if let (Some(deadline), Some(date), Some(value)) =
                (papers_deadline, date, &meeting.papers_deadline)
            {
                if deadline > date {
                    self.problem(
                        value.span(),
                        format!(
                            "papers deadline {deadline} is after the meeting on {date}; papers \
                             are due before the meeting"
                        ),
                    );
                }
            }
            let when = date.map_or_else(|| "the meeting".to_owned(), |d| format!("meeting {d}"));
            let items = self.items(&meeting.items, known, &when);
            meetings.push(Meeting {
                date: date.unwrap_or_default(),
                time,
                title,
                papers_deadline,
                items,
            });
        }
        meetings
    }

    fn items(&mut self, raw: &[raw::Item], known: &HashSet<&str>, when: &str) -> Vec<AgendaItem> {
        let mut numbers: HashMap<String, Range<usize>> = HashMap::new();
        let mut items = Vec::new();
        for item in raw {
            let number = match item.number.get_ref() {
                toml::Value::String(s) => s.trim().to_owned(),
                toml::Value::Integer(i) => i.to_string(),
                other => {
                    self.problem(
                        item.number.span(),
                        format!(
                            "item number must be text as written on the agenda, like \"2.b\", \
                             not a {}",
                            other.type_str()
                        ),
                    );
                    String::new()
                }
            };
            if matches!(item.number.get_ref(), toml::Value::String(s) if s.trim().is_empty()) {
                self.problem(item.number.span(), "an item number must not be empty");
            }
            if !number.is_empty() {
                if let Some(first) = numbers.get(&number) {
                    let line = self.line_of(first);
                    self.problem(
                        item.number.span(),
                        format!(
                            "duplicate item number `{number}` in {when} (first at line {line})"
                        ),
                    );
                } else {
                    numbers.insert(number.clone(), item.number.span());
                }
            }
            let title = self.required(&item.title, "an item's title");
            let lead = item.lead.as_ref().and_then(|lead| {
                self.organisation_ref(
                    lead,
                    known,
                    &format!("item {number} of {when} is led by an"),
                )
            });
            items.push(AgendaItem {
                number,
                title,
                lead,
            });
        }
        items
    }

    fn date(&mut self, value: &Spanned<toml::Value>, what: &str) -> Option<NaiveDate> {
        let parsed = match value.get_ref() {
            toml::Value::String(s) if s.len() == 10 => {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
            }
            toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
                .date
                .and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())),
            _ => None,
        };
        if parsed.is_none() {
            self.problem(
                value.span(),
                format!(
                    "invalid {what} {}: expected a date written YYYY-MM-DD, like \"2023-12-13\"",
                    describe(value.get_ref())
                ),
            );
        }
        parsed
    }

    fn time(&mut self, value: &Spanned<toml::Value>) -> Option<NaiveTime> {
        let parsed = match value.get_ref() {
            toml::Value::String(s) if s.len() == 5 => NaiveTime::parse_from_str(s, "%H:%M").ok(),
            toml::Value::Datetime(dt) if dt.date.is_none() && dt.offset.is_none() => {
                dt.time.and_then(|t| {
                    NaiveTime::from_hms_opt(t.hour.into(), t.minute.into(), t.second.into())
                })
            }
            _ => None,
        };
        if parsed.is_none() {
            self.problem(
                value.span(),
                format!(
                    "invalid meeting time {}: expected HH:MM on the 24-hour clock, like \"10:00\"",
                    describe(value.get_ref())
                ),
            );
        }
        parsed
    }
}

/// A value as the file wrote it, for messages. (`toml::Value`'s own `Display` writes
/// dates and times as an internal table.)
fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("{s:?}"),
        toml::Value::Datetime(dt) => dt.to_string(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => format!("(a {})", other.type_str()),
    }
}

/// Same rule as the `boards.slug` CHECK constraint.
fn is_valid_slug(slug: &str) -> bool {
    let mut chars = slug.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

// ---------------------------------------------------------------------------------------
// Presentation: what `board show` prints.

/// Everything the database holds about one board, active or not, as `board show --json`
/// prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    pub slug: String,
    pub name: String,
    pub address: String,
    /// The IANA time zone meeting times are in.
    pub timezone: String,
    pub organisations: Vec<OrganisationView>,
    pub members: Vec<MemberView>,
    pub meetings: Vec<MeetingView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationView {
    pub short: String,
    pub name: String,
    pub domains: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub name: String,
    pub initials: Option<String>,
    pub role: Option<String>,
    /// Short name of the organisation.
    pub organisation: Option<String>,
    /// Primary first.
    pub addresses: Vec<AddressView>,
    pub roles: Vec<String>,
    pub circulation: bool,
    /// Name of the member deputised for.
    pub deputy_of: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressView {
    pub address: String,
    pub primary: bool,
    /// `ok` or `bouncing`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingView {
    #[serde(rename = "ref")]
    pub meeting_ref: String,
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
    pub title: String,
    pub papers_deadline: Option<NaiveDate>,
    /// `scheduled`, `held`, `minutes_draft`, `minutes_approved` or `circulated`.
    pub status: String,
    /// In agenda order.
    pub items: Vec<ItemView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub number: String,
    pub title: String,
    /// Short name of the lead organisation.
    pub lead: Option<String>,
    pub active: bool,
}

/// The human-readable form of `board show`: a header and one table per section.
pub fn render_text(view: &BoardView) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} ({}) <{}>, times in {}\n",
        view.name, view.slug, view.address, view.timezone
    ));

    let inactive = view.organisations.iter().filter(|o| !o.active).count();
    out.push_str(&format!(
        "\nOrganisations: {}{}\n",
        view.organisations.len(),
        inactive_note(inactive)
    ));
    let rows = view
        .organisations
        .iter()
        .map(|o| {
            vec![
                o.short.clone(),
                o.name.clone(),
                o.domains.join(", "),
                active_flag(o.active),
            ]
        })
        .collect();
    out.push_str(&table(&["SHORT", "NAME", "DOMAINS", "ACTIVE"], rows));

    let inactive = view.members.iter().filter(|m| !m.active).count();
    out.push_str(&format!(
        "\nMembers: {}{}\n",
        view.members.len(),
        inactive_note(inactive)
    ));
    let rows = view
        .members
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.initials.clone().unwrap_or_default(),
                m.organisation.clone().unwrap_or_default(),
                m.roles.join(","),
                if m.circulation { "yes" } else { "no" }.to_owned(),
                m.addresses
                    .iter()
                    .map(|a| {
                        if a.status == "ok" {
                            a.address.clone()
                        } else {
                            format!("{} ({})", a.address, a.status)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                m.deputy_of.clone().unwrap_or_default(),
                active_flag(m.active),
                m.role.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "NAME",
            "INITIALS",
            "ORGANISATION",
            "ROLES",
            "CIRCULATION",
            "ADDRESSES",
            "DEPUTY OF",
            "ACTIVE",
            "ROLE",
        ],
        rows,
    ));

    out.push_str(&format!("\nMeetings: {}\n", view.meetings.len()));
    for meeting in &view.meetings {
        let time = meeting
            .time
            .map(|t| format!(" {}", t.format("%H:%M")))
            .unwrap_or_default();
        let deadline = meeting
            .papers_deadline
            .map(|d| format!(", papers by {d}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "\n{}  {}{}  {}  [{}{}]\n",
            meeting.meeting_ref, meeting.date, time, meeting.title, meeting.status, deadline
        ));
        if meeting.items.is_empty() {
            out.push_str("  (no agenda items)\n");
            continue;
        }
        let rows = meeting
            .items
            .iter()
            .map(|i| {
                vec![
                    i.number.clone(),
                    i.lead.clone().unwrap_or_default(),
                    active_flag(i.active),
                    i.title.clone(),
                ]
            })
            .collect();
        for line in table(&["ITEM", "LEAD", "ACTIVE", "TITLE"], rows).lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn inactive_note(inactive: usize) -> String {
    if inactive == 0 {
        String::new()
    } else {
        format!(" ({inactive} inactive)")
    }
}

fn active_flag(active: bool) -> String {
    if active { "yes" } else { "no" }.to_owned()
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[board]
slug = "lcjb"
name = "London Criminal Justice Board"
address = "lcjb@board.example"

[[organisations]]
short = "MPS"
name = "Metropolitan Police Service"
domains = ["Met.Example"]

[[organisations]]
short = "MOPAC"
name = "Mayor's Office for Policing and Crime"
domains = ["mopac.example"]

[[members]]
name = "Sophie Linden"
initials = "SL"
role = "Deputy Mayor for Policing and Crime"
organisation = "MOPAC"
email = "Sophie.Linden@mopac.example"
roles = ["chair"]

[[members]]
name = "Lynne Owens"
initials = "LO"
organisation = "MPS"
emails = ["lynne.owens@met.example", "lo@met.example"]
circulation = false
deputy_of = "Sophie Linden"

[[meetings]]
date = "2023-12-13"
time = "10:00"
title = "LCJB"
papers_deadline = "2023-12-06"

[[meetings.items]]
number = "2.b"
title = "Update from Probation"
lead = "MPS"

[[meetings.items]]
number = 4
title = "AOB"
"#;

    fn parse_ok(text: &str) -> Registry {
        match parse("t.toml", text) {
            Ok(registry) => registry,
            Err(err) => panic!("expected a valid registry, got:\n{err}"),
        }
    }

    fn problems(text: &str) -> Vec<String> {
        match parse("t.toml", text) {
            Ok(_) => panic!("expected problems, the registry was accepted"),
            Err(err) => err.problems().iter().map(Problem::to_string).collect(),
        }
    }

    /// `MINIMAL` with `from` replaced by `to` (exactly once).
    fn edited(from: &str, to: &str) -> String {
        assert_eq!(
            MINIMAL.matches(from).count(),
            1,
            "edit target {from:?} not unique"
        );
        MINIMAL.replacen(from, to, 1)
    }

    #[test]
    fn a_valid_file_parses_into_a_registry() {
        let reg = parse_ok(MINIMAL);
        assert_eq!(reg.board.slug, "lcjb");
        assert_eq!(reg.board.address.as_str(), "lcjb@board.example");
        assert_eq!(reg.organisations[0].domains, vec!["met.example"]);
        let sophie = &reg.members[0];
        assert_eq!(sophie.addresses[0].as_str(), "sophie.linden@mopac.example");
        assert_eq!(sophie.roles, vec![MemberRole::Chair]);
        assert!(sophie.circulation);
        let lynne = &reg.members[1];
        assert_eq!(lynne.roles, vec![MemberRole::Member]);
        assert_eq!(
            lynne.primary_address().map(|a| a.as_str()),
            Some("lynne.owens@met.example")
        );
        assert_eq!(lynne.addresses.len(), 2);
        assert!(!lynne.circulation);
        assert_eq!(lynne.deputy_of.as_deref(), Some("Sophie Linden"));
        let meeting = &reg.meetings[0];
        assert_eq!(meeting.date, NaiveDate::from_ymd_opt(2023, 12, 13).unwrap());
        assert_eq!(meeting.time, NaiveTime::from_hms_opt(10, 0, 0));
        assert_eq!(
            meeting.papers_deadline,
            NaiveDate::from_ymd_opt(2023, 12, 6)
        );
        assert_eq!(meeting.items[0].number, "2.b");
        assert_eq!(meeting.items[0].lead.as_deref(), Some("MPS"));
        assert_eq!(meeting.items[1].number, "4");
    }

    #[test]
    fn meeting_refs_are_the_upper_case_slug_and_the_date() {
        let cases = [
            ("lcjb", (2023, 12, 13), "LCJB-2023-12-13"),
            ("lcjb", (2024, 1, 5), "LCJB-2024-01-05"),
            ("north-east-2", (2023, 9, 20), "NORTH-EAST-2-2023-09-20"),
        ];
        for (slug, (y, m, d), expected) in cases {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(Registry::meeting_ref(slug, date), expected);
        }
    }

    #[test]
    fn toml_native_dates_and_times_are_accepted() {
        let text = edited(
            "date = \"2023-12-13\"\ntime = \"10:00\"",
            "date = 2023-12-13\ntime = 10:00:00",
        );
        let reg = parse_ok(&text);
        assert_eq!(
            reg.meetings[0].date,
            NaiveDate::from_ymd_opt(2023, 12, 13).unwrap()
        );
        assert_eq!(reg.meetings[0].time, NaiveTime::from_hms_opt(10, 0, 0));
    }

    #[test]
    fn email_and_emails_combine_with_email_first_and_repeats_dropped() {
        let text = edited(
            "emails = [\"lynne.owens@met.example\", \"lo@met.example\"]",
            "email = \"lo@met.example\"\nemails = [\"LO@met.example\", \"lynne.owens@met.example\"]",
        );
        let reg = parse_ok(&text);
        let addresses: Vec<&str> = reg.members[1]
            .addresses
            .iter()
            .map(|a| a.as_str())
            .collect();
        assert_eq!(addresses, vec!["lo@met.example", "lynne.owens@met.example"]);
    }

    #[test]
    fn roles_are_deduplicated_in_order() {
        let text = edited(
            "roles = [\"chair\"]",
            "roles = [\"secretariat\", \"chair\", \"secretariat\"]",
        );
        let reg = parse_ok(&text);
        assert_eq!(
            reg.members[0].roles,
            vec![MemberRole::Secretariat, MemberRole::Chair]
        );
    }

    #[test]
    fn toml_errors_name_the_file_line_and_column() {
        // (edit, expected "LINE:COLUMN", fragment of the message)
        let cases = [
            (
                "name = \"London Criminal Justice Board\"",
                "name = \"London",
                "4:15",
                "invalid basic string",
            ),
            (
                "slug = \"lcjb\"",
                "slug = \"lcjb\"\ncolour = \"blue\"",
                "4:1",
                "unknown field `colour`",
            ),
            (
                "circulation = false",
                "circulation = \"no\"",
                "30:15",
                "invalid type",
            ),
            ("initials = \"SL\"", "initials = 5", "19:12", "invalid type"),
            (
                "[[meetings]]",
                "[[meetings]",
                "33:11",
                "invalid table header; expected `.`, `]]`",
            ),
            (
                "title = \"AOB\"",
                "title = \"AOB\"\nowner = \"MPS\"",
                "47:1",
                "unknown field `owner`",
            ),
            (
                "domains = [\"Met.Example\"]",
                "domains = \"met.example\"",
                "10:11",
                "invalid type",
            ),
        ];
        let mut failures = Vec::new();
        for (from, to, position, fragment) in cases {
            let text = edited(from, to);
            let err = parse("reg/lcjb.toml", &text).expect_err(to);
            let shown = err.to_string();
            if !matches!(err, RegistryError::Syntax(_))
                || !shown.starts_with(&format!("reg/lcjb.toml:{position}: "))
                || !shown.contains(fragment)
                || shown.contains('\n')
            {
                failures.push(format!(
                    "{to:?}: expected {position} {fragment:?}, got {shown}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_missing_board_table_is_a_syntax_error() {
        let err = parse("t.toml", "[[organisations]]\nshort = \"A\"\nname = \"A\"\n").unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("t.toml:1:1: "), "{shown}");
        assert!(shown.contains("missing field `board`"), "{shown}");
    }

    #[test]
    fn semantic_errors_name_the_problem_and_its_position() {
        // (edit from, edit to, expected "LINE:COLUMN: message fragment")
        let cases: &[(&str, &str, &str)] = &[
            ("slug = \"lcjb\"", "slug = \"LCJB\"", "3:8: invalid board slug `LCJB`"),
            ("slug = \"lcjb\"", "slug = \"-x\"", "3:8: invalid board slug `-x`"),
            ("slug = \"lcjb\"", "slug = \"\"", "3:8: invalid board slug ``"),
            ("address = \"lcjb@board.example\"", "address = \"lcjb\"", "5:11: invalid email address \"lcjb\" for the board address: the address has no `@`"),
            ("name = \"London Criminal Justice Board\"", "name = \" \"", "4:8: the board name must not be empty"),
            ("address = \"lcjb@board.example\"", "address = \"lcjb@board.example\"\ntimezone = \"Europe/Lundun\"", "6:12: unknown time zone `Europe/Lundun`"),
            ("short = \"MOPAC\"", "short = \"MPS\"", "13:9: duplicate organisation short name `MPS` (first at line 8)"),
            ("domains = [\"mopac.example\"]", "domains = [\"met.example\"]", "15:12: domain `met.example` already belongs to organisation `MPS` (line 10)"),
            ("domains = [\"mopac.example\"]", "domains = [\"mopac.example\", \"MOPAC.example\"]", "15:29: domain `mopac.example` is listed twice for `MOPAC`"),
            ("domains = [\"mopac.example\"]", "domains = [\"mopac\"]", "15:12: invalid domain \"mopac\" for organisation `MOPAC`: the domain `mopac` has no dot"),
            ("organisation = \"MOPAC\"", "organisation = \"GLA\"", "21:16: member `Sophie Linden` belongs to an unknown organisation `GLA`"),
            ("organisation = \"MOPAC\"", "organisation = \"Mopac\"", "(did you mean `MOPAC`?)"),
            ("email = \"Sophie.Linden@mopac.example\"", "email = \"sophie linden@mopac.example\"", "22:9: invalid email address \"sophie linden@mopac.example\" for member `Sophie Linden`: the address contains a space"),
            ("email = \"Sophie.Linden@mopac.example\"", "email = \"sophie.linden@mopac\"", "22:9: invalid email address \"sophie.linden@mopac\" for member `Sophie Linden`: the domain `mopac` has no dot"),
            ("email = \"Sophie.Linden@mopac.example\"", "email = \"a\\r\\nBcc: x@y.example\"", "22:9: invalid email address \"a\\r\\nBcc: x@y.example\" for member `Sophie Linden`: the address contains a line break"),
            ("email = \"Sophie.Linden@mopac.example\"\n", "", "18:8: member `Sophie Linden` has no email address"),
            ("emails = [\"lynne.owens@met.example\", \"lo@met.example\"]", "emails = [\"sophie.linden@MOPAC.example\"]", "29:11: address `sophie.linden@mopac.example` of `Lynne Owens` is already the address of `Sophie Linden` (line 22)"),
            ("name = \"Lynne Owens\"", "name = \"Sophie Linden\"", "26:8: duplicate member name `Sophie Linden` (first at line 18)"),
            ("initials = \"LO\"", "initials = \"SL\"", "27:12: initials `SL` of `Lynne Owens` are already used by `Sophie Linden` (line 19)"),
            ("roles = [\"chair\"]", "roles = [\"chair\", \"president\"]", "23:19: invalid role `president` for member `Sophie Linden`: use chair, secretariat, member or observer"),
            ("roles = [\"chair\"]", "roles = []", "23:9: member `Sophie Linden` has an empty `roles` list"),
            ("deputy_of = \"Sophie Linden\"", "deputy_of = \"Sadiq Khan\"", "31:13: `deputy_of` of `Lynne Owens` names `Sadiq Khan`, who is not a member in this file"),
            ("deputy_of = \"Sophie Linden\"", "deputy_of = \"Lynne Owens\"", "31:13: member `Lynne Owens` cannot be their own deputy"),
            ("date = \"2023-12-13\"", "date = \"13/12/2023\"", "34:8: invalid meeting date \"13/12/2023\": expected a date written YYYY-MM-DD"),
            ("date = \"2023-12-13\"", "date = \"2023-02-30\"", "34:8: invalid meeting date \"2023-02-30\""),
            ("date = \"2023-12-13\"", "date = 2023-12-13T10:00:00", "34:8: invalid meeting date 2023-12-13T10:00:00"),
            ("time = \"10:00\"", "time = \"25:00\"", "35:8: invalid meeting time \"25:00\": expected HH:MM"),
            ("time = \"10:00\"", "time = \"10am\"", "35:8: invalid meeting time \"10am\""),
            ("papers_deadline = \"2023-12-06\"", "papers_deadline = \"2023-12-14\"", "37:19: papers deadline 2023-12-14 is after the meeting on 2023-12-13"),
            ("papers_deadline = \"2023-12-06\"", "papers_deadline = \"soon\"", "37:19: invalid papers deadline \"soon\""),
            ("number = 4", "number = \"2.b\"", "45:10: duplicate item number `2.b` in meeting 2023-12-13 (first at line 40)"),
            ("number = 4", "number = 4.5", "45:10: item number must be text as written on the agenda, like \"2.b\", not a float"),
            ("number = 4", "number = \"\"", "45:10: an item number must not be empty"),
            ("lead = \"MPS\"\n\n", "lead = \"CPS\"\n\n", "42:8: item 2.b of meeting 2023-12-13 is led by an unknown organisation `CPS`"),
            ("title = \"AOB\"", "title = \"\"", "46:9: an item's title must not be empty"),
        ];
        let mut failures = Vec::new();
        for (from, to, expected) in cases {
            let text = edited(from, to);
            let found = problems(&text);
            if !found
                .iter()
                .any(|p| p.starts_with("t.toml:") && p.contains(expected))
            {
                failures.push(format!(
                    "edit {to:?}: expected {expected:?}, got {found:#?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn two_meetings_on_the_same_date_are_refused() {
        let text = format!(
            "{MINIMAL}\n[[meetings]]\ndate = \"2023-12-13\"\ntitle = \"Extraordinary LCJB\"\n"
        );
        let found = problems(&text);
        assert_eq!(
            found,
            vec!["t.toml:49:8: two meetings on 2023-12-13: the other is at line 34; a board meets at most once a day"]
        );
    }

    #[test]
    fn every_semantic_problem_is_reported_in_file_order() {
        let text = MINIMAL
            .replacen("organisation = \"MOPAC\"", "organisation = \"GLA\"", 1)
            .replacen("lead = \"MPS\"", "lead = \"HMCTS\"", 1)
            .replacen("deputy_of = \"Sophie Linden\"", "deputy_of = \"Nobody\"", 1)
            .replacen("slug = \"lcjb\"", "slug = \"LC JB\"", 1);
        let err = parse("t.toml", &text).unwrap_err();
        let lines: Vec<(usize, usize)> =
            err.problems().iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(lines, vec![(3, 8), (21, 16), (31, 13), (42, 8)]);
        assert_eq!(err.to_string().lines().count(), 4, "{err}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = edited(
            "name = \"Metropolitan Police Service\"",
            "name = \"Metropolitan Police Service\" # café’s\nbogus = 1",
        );
        let err = parse("t.toml", &text).unwrap_err();
        assert!(err.to_string().starts_with("t.toml:10:1: "), "{err}");
        assert_eq!(line_and_column("é’x\nab", 5), (1, 3));
        assert_eq!(line_and_column("é’x\nab", 8), (2, 2));
        assert_eq!(line_and_column("ab", 99), (1, 3));
    }

    #[test]
    fn load_names_the_file_it_could_not_read() {
        let err = load(Path::new("/nonexistent/registry.toml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/registry.toml: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn the_example_registry_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
        let reg = match load(&path) {
            Ok(reg) => reg,
            Err(err) => panic!("{err}"),
        };
        assert_eq!(reg.board.slug, "lcjb");
        assert!(reg
            .members
            .iter()
            .any(|m| m.roles.contains(&MemberRole::Secretariat)));
        assert!(reg
            .members
            .iter()
            .any(|m| m.roles.contains(&MemberRole::Chair)));
        assert!(reg
            .meetings
            .iter()
            .any(|m| Registry::meeting_ref(&reg.board.slug, m.date) == "LCJB-2023-12-13"));
    }

    #[test]
    fn render_text_shows_every_section_and_marks_inactive_rows() {
        let view = BoardView {
            slug: "lcjb".into(),
            name: "London Criminal Justice Board".into(),
            address: "lcjb@board.example".into(),
            timezone: "Europe/London".into(),
            organisations: vec![
                OrganisationView {
                    short: "MPS".into(),
                    name: "Metropolitan Police Service".into(),
                    domains: vec!["met.example".into()],
                    active: true,
                },
                OrganisationView {
                    short: "NPS".into(),
                    name: "National Probation Service".into(),
                    domains: vec![],
                    active: false,
                },
            ],
            members: vec![MemberView {
                name: "Lynne Owens".into(),
                initials: Some("LO".into()),
                role: Some("Deputy Commissioner".into()),
                organisation: Some("MPS".into()),
                addresses: vec![AddressView {
                    address: "lynne.owens@met.example".into(),
                    primary: true,
                    status: "bouncing".into(),
                }],
                roles: vec!["member".into()],
                circulation: true,
                deputy_of: None,
                active: true,
            }],
            meetings: vec![MeetingView {
                meeting_ref: "LCJB-2023-12-13".into(),
                date: NaiveDate::from_ymd_opt(2023, 12, 13).unwrap(),
                time: NaiveTime::from_hms_opt(10, 0, 0),
                title: "LCJB".into(),
                papers_deadline: NaiveDate::from_ymd_opt(2023, 12, 6),
                status: "scheduled".into(),
                items: vec![ItemView {
                    number: "2.b".into(),
                    title: "Update from Probation".into(),
                    lead: Some("MPS".into()),
                    active: true,
                }],
            }],
        };
        let text = render_text(&view);
        let expected = "\
London Criminal Justice Board (lcjb) <lcjb@board.example>, times in Europe/London

Organisations: 2 (1 inactive)
SHORT  NAME                         DOMAINS      ACTIVE
MPS    Metropolitan Police Service  met.example  yes
NPS    National Probation Service                no

Members: 1
NAME         INITIALS  ORGANISATION  ROLES   CIRCULATION  ADDRESSES                           DEPUTY OF  ACTIVE  ROLE
Lynne Owens  LO        MPS           member  yes          lynne.owens@met.example (bouncing)             yes     Deputy Commissioner

Meetings: 1

LCJB-2023-12-13  2023-12-13 10:00  LCJB  [scheduled, papers by 2023-12-06]
  ITEM  LEAD  ACTIVE  TITLE
  2.b   MPS   yes     Update from Probation
";
        assert_eq!(text, expected);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["meetings"][0]["ref"], "LCJB-2023-12-13");
        assert_eq!(json["meetings"][0]["time"], "10:00:00");
    }
}
