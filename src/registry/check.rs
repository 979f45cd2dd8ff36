//! The checks of a registry file as written ([`raw`]), each problem with its line and
//! column: every cross-reference resolves, every address parses, nothing is repeated.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use chrono::{NaiveDate, NaiveTime};
use toml::Spanned;

use super::model::*;
use crate::domain::address::{parse_domain, EmailAddress};
use crate::domain::zone::Zone;

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

/// 1-based line and character column of byte `offset` in `text`.
pub(super) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
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
pub(super) mod raw {
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
        pub quorum_members: Option<Spanned<i64>>,
        pub quorum_organisations: Option<Spanned<i64>>,
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
        pub end: Option<Spanned<toml::Value>>,
        pub location: Option<Spanned<String>>,
        #[serde(default)]
        pub cancelled: bool,
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
pub(super) struct Checker<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
    /// (byte offset, problem), sorted by offset before being returned.
    pub(super) problems: Vec<(usize, Problem)>,
}

impl Checker<'_> {
    /// Keeps where `value` is first written in `seen`; a second one is a problem at
    /// `span` naming the first's line. An empty value (already reported) is skipped.
    fn first_of(
        &mut self,
        seen: &mut HashMap<String, Range<usize>>,
        value: &str,
        span: Range<usize>,
        what: &str,
    ) {
        if let Some(first) = seen.get(value) {
            let line = self.line_of(first);
            self.problem(
                span,
                format!("duplicate {what} `{value}` (first at line {line})"),
            );
        } else if !value.is_empty() {
            seen.insert(value.to_owned(), span);
        }
    }

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
    pub(super) fn registry(&mut self, raw: raw::File) -> Option<Registry> {
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
        let mut quorum = |value: &Option<Spanned<i64>>, what: &str| {
            let value = value.as_ref()?;
            match u32::try_from(*value.get_ref()) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    self.problem(
                        value.span(),
                        format!("{what} must be a whole number of at least 1"),
                    );
                    None
                }
            }
        };
        let quorum_members = quorum(&raw.quorum_members, "quorum_members");
        let quorum_organisations = quorum(&raw.quorum_organisations, "quorum_organisations");
        Some(Board {
            slug,
            name,
            address,
            timezone,
            quorum_members,
            quorum_organisations,
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
            self.first_of(
                &mut shorts,
                &short,
                org.short.span(),
                "organisation short name",
            );
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
            self.first_of(&mut names, &name, member.name.span(), "member name");

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
            let end_time = meeting.end.as_ref().and_then(|t| self.time(t));
            if let (Some(end), Some(value)) = (end_time, &meeting.end) {
                match time {
                    None => self.problem(
                        value.span(),
                        "a meeting with an end must have a start `time`".to_owned(),
                    ),
                    Some(start) if end <= start => self.problem(
                        value.span(),
                        format!(
                            "the meeting ends at {} but starts at {}; it must end after it starts",
                            end.format("%H:%M"),
                            start.format("%H:%M")
                        ),
                    ),
                    Some(_) => {}
                }
            }
            let location = meeting
                .location
                .as_ref()
                .map(|l| l.get_ref().trim().to_owned())
                .filter(|l| !l.is_empty());
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
                end_time,
                location,
                cancelled: meeting.cancelled,
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
pub(super) fn describe(value: &toml::Value) -> String {
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
pub(super) fn is_valid_slug(slug: &str) -> bool {
    let mut chars = slug.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
