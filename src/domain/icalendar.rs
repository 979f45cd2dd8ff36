//! Meeting invitations as iCalendar (RFC 5545) objects for iTIP (RFC 5546) over email
//! (RFC 6047): `METHOD:REQUEST` to invite or to say the time or place changed (a higher
//! `SEQUENCE`), `METHOD:CANCEL` to call it off. Times are local to the board's zone,
//! written with `TZID` and a `VTIMEZONE` that spells out that zone's offsets around the
//! meeting, so Outlook, Gmail and Apple Calendar all place it at the same instant.
//!
//! Pure text: the schedule decides who is invited and when.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::zone::{Offset, Zone};

/// What an invitation asks of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// When a meeting is held, in the board's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// From `start` to `end` on `date`.
    Timed {
        date: NaiveDate,
        start: NaiveTime,
        end: NaiveTime,
    },
    /// A meeting without a time: the whole day.
    AllDay(NaiveDate),
}

impl When {
    /// A meeting on `date` at `time` until `end`; two hours when no end is given (and
    /// never past midnight), the whole day when there is no time.
    pub fn of(date: NaiveDate, time: Option<NaiveTime>, end: Option<NaiveTime>) -> When {
        match time {
            None => When::AllDay(date),
            Some(start) => {
                let end = end.filter(|e| *e > start).unwrap_or_else(|| {
                    let (later, wrapped) = start.overflowing_add_signed(Duration::hours(2));
                    if wrapped == 0 {
                        later
                    } else {
                        NaiveTime::from_hms_opt(23, 59, 0).unwrap_or(start)
                    }
                });
                When::Timed { date, start, end }
            }
        }
    }

    fn date(self) -> NaiveDate {
        match self {
            When::Timed { date, .. } | When::AllDay(date) => date,
        }
    }
}

/// A person in an invitation: their name (if known) and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub address: String,
}

/// One meeting's invitation to one member.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// The same for every invitation to the meeting, however often it changes.
    pub uid: String,
    pub sequence: i32,
    pub method: Method,
    /// When this version was written.
    pub stamp: DateTime<Utc>,
    pub zone: Zone,
    pub when: When,
    pub summary: String,
    pub description: String,
    pub location: Option<String>,
    pub organizer: Person,
    pub attendee: Person,
}

/// The stable UID of a meeting's invitations: its reference at the board's domain.
pub fn meeting_uid(meeting_ref: &str, board_address: &str) -> String {
    let domain = board_address
        .rsplit_once('@')
        .map_or("minuted.invalid", |(_, d)| d);
    format!("{}@{}", meeting_ref.to_ascii_lowercase(), domain)
}

/// The meeting reference a UID of ours names (`lcjb-2023-12-13@board.example` names
/// `LCJB-2023-12-13`), compared case-insensitively by the caller.
pub fn meeting_of_uid(uid: &str) -> Option<&str> {
    let (reference, _) = uid.trim().split_once('@')?;
    (!reference.is_empty()).then_some(reference)
}

impl Invitation {
    /// The iCalendar text, lines ended with CRLF and folded at 75 octets.
    pub fn to_ics(&self) -> String {
        let mut lines: Vec<String> = vec![
            "BEGIN:VCALENDAR".into(),
            "VERSION:2.0".into(),
            format!(
                "PRODID:-//minuted//minuted {}//EN",
                env!("CARGO_PKG_VERSION")
            ),
            "CALSCALE:GREGORIAN".into(),
            format!("METHOD:{}", self.method.as_str()),
        ];
        if matches!(self.when, When::Timed { .. }) {
            lines.extend(timezone(self.zone, self.when.date()));
        }
        lines.push("BEGIN:VEVENT".into());
        lines.push(format!("UID:{}", text(&self.uid)));
        lines.push(format!("SEQUENCE:{}", self.sequence));
        lines.push(format!("DTSTAMP:{}", utc(self.stamp)));
        let tzid = self.zone.name();
        match self.when {
            When::Timed { date, start, end } => {
                lines.push(format!(
                    "DTSTART;TZID={tzid}:{}",
                    local(date.and_time(start))
                ));
                lines.push(format!("DTEND;TZID={tzid}:{}", local(date.and_time(end))));
            }
            When::AllDay(date) => {
                lines.push(format!("DTSTART;VALUE=DATE:{}", date.format("%Y%m%d")));
                let next = date.succ_opt().unwrap_or(date);
                lines.push(format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")));
            }
        }
        lines.push(format!("SUMMARY:{}", text(&self.summary)));
        if !self.description.is_empty() {
            lines.push(format!("DESCRIPTION:{}", text(&self.description)));
        }
        if let Some(location) = &self.location {
            lines.push(format!("LOCATION:{}", text(location)));
        }
        lines.push(format!(
            "ORGANIZER{}:mailto:{}",
            common_name(self.organizer.name.as_deref()),
            self.organizer.address
        ));
        let partstat = match self.method {
            Method::Request => ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE",
            Method::Cancel => ";ROLE=REQ-PARTICIPANT",
        };
        lines.push(format!(
            "ATTENDEE{}{partstat}:mailto:{}",
            common_name(self.attendee.name.as_deref()),
            self.attendee.address
        ));
        let status = match self.method {
            Method::Request => "CONFIRMED",
            Method::Cancel => "CANCELLED",
        };
        lines.push(format!("STATUS:{status}"));
        lines.push("TRANSP:OPAQUE".into());
        lines.push("END:VEVENT".into());
        lines.push("END:VCALENDAR".into());
        let mut out = String::new();
        for line in lines {
            fold(&line, &mut out);
        }
        out
    }
}

/// A `VTIMEZONE` for `zone` covering the year before the meeting to the year after: the
/// offset in force at the start, then each change. Zones without changes (UTC) get one
/// `STANDARD` part.
fn timezone(zone: Zone, date: NaiveDate) -> Vec<String> {
    let start_year = date.year() - 1;
    let from = NaiveDate::from_ymd_opt(start_year, 1, 1)
        .unwrap_or(date)
        .and_time(NaiveTime::MIN)
        .and_utc();
    let to = NaiveDate::from_ymd_opt(date.year() + 2, 1, 1)
        .unwrap_or(date)
        .and_time(NaiveTime::MIN)
        .and_utc();
    let first = zone.offset_at(from);
    let mut lines = vec!["BEGIN:VTIMEZONE".into(), format!("TZID:{}", zone.name())];
    let mut part = |at_local: NaiveDateTime, before: &Offset, after: &Offset| {
        let kind = if after.daylight {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        lines.push(format!("BEGIN:{kind}"));
        lines.push(format!("DTSTART:{}", local(at_local)));
        lines.push(format!("TZOFFSETFROM:{}", offset(before.seconds)));
        lines.push(format!("TZOFFSETTO:{}", offset(after.seconds)));
        if let Some(name) = &after.abbreviation {
            lines.push(format!("TZNAME:{}", text(name)));
        }
        lines.push(format!("END:{kind}"));
    };
    part(
        from.naive_utc() + Duration::seconds(i64::from(first.seconds)),
        &first,
        &first,
    );
    let mut before = first;
    for (at, after) in zone.changes(from, to) {
        // DTSTART is the local time just before the change, in the offset it ends.
        part(
            at.naive_utc() + Duration::seconds(i64::from(before.seconds)),
            &before,
            &after,
        );
        before = after;
    }
    lines.push("END:VTIMEZONE".into());
    lines
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local(at: NaiveDateTime) -> String {
    at.format("%Y%m%dT%H%M%S").to_string()
}

/// `+0100`, `-0500`, `+0530`.
fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

/// A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped;
/// other control characters dropped.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let normalised = value.replace("\r\n", "\n").replace('\r', "\n");
    for c in normalised.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `;CN="Name"`, or nothing without a name. A parameter value cannot hold a double quote
/// or a control character; they are dropped.
fn common_name(name: Option<&str>) -> String {
    let Some(name) = name else {
        return String::new();
    };
    let clean: String = name
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    if clean.trim().is_empty() {
        String::new()
    } else {
        format!(";CN=\"{}\"", clean.trim())
    }
}

/// Appends `line` folded at 75 octets (RFC 5545 3.1), never inside a character, each
/// physical line ended with CRLF.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(method: Method, sequence: i32) -> Invitation {
        Invitation {
            uid: meeting_uid("LCJB-2024-06-12", "lcjb@board.example"),
            sequence,
            method,
            stamp: "2024-05-01T09:00:00Z".parse().unwrap(),
            zone: "Europe/London".parse().unwrap(),
            when: When::of(
                "2024-06-12".parse().unwrap(),
                NaiveTime::from_hms_opt(10, 0, 0),
                None,
            ),
            summary: "London Criminal Justice Board; meeting, 12 June".into(),
            description: "Agenda:\n1. Welcome".into(),
            location: Some("City Hall, Committee Room 4".into()),
            organizer: Person {
                name: Some("London Criminal Justice Board".into()),
                address: "lcjb@board.example".into(),
            },
            attendee: Person {
                name: Some("Nick \"NJ\" John".into()),
                address: "nick.john@met.example".into(),
            },
        }
    }

    fn unfolded(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_request_names_the_local_time_its_zone_and_asks_for_an_answer() {
        let ics = invitation(Method::Request, 0).to_ics();
        let lines = unfolded(&ics);
        for expected in [
            "METHOD:REQUEST",
            "UID:lcjb-2024-06-12@board.example",
            "SEQUENCE:0",
            "DTSTART;TZID=Europe/London:20240612T100000",
            "DTEND;TZID=Europe/London:20240612T120000",
            "SUMMARY:London Criminal Justice Board\\; meeting\\, 12 June",
            "DESCRIPTION:Agenda:\\n1. Welcome",
            "LOCATION:City Hall\\, Committee Room 4",
            "ORGANIZER;CN=\"London Criminal Justice Board\":mailto:lcjb@board.example",
            "ATTENDEE;CN=\"Nick NJ John\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:nick.john@met.example",
            "STATUS:CONFIRMED",
        ] {
            assert!(lines.iter().any(|l| l == expected), "{expected}\n{ics}");
        }
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "{ics}");
    }

    #[test]
    fn the_timezone_spells_out_london_summer_and_winter_time_around_the_meeting() {
        let lines = unfolded(&invitation(Method::Request, 0).to_ics());
        let joined = lines.join("\n");
        assert!(joined.contains(
            "BEGIN:DAYLIGHT\nDTSTART:20240331T010000\nTZOFFSETFROM:+0000\nTZOFFSETTO:+0100\nTZNAME:BST\nEND:DAYLIGHT"
        ), "{joined}");
        assert!(joined.contains(
            "BEGIN:STANDARD\nDTSTART:20241027T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0000\nTZNAME:GMT\nEND:STANDARD"
        ), "{joined}");
    }

    /// Reads the text with an independent iCalendar parser and works out the meeting's
    /// start in UTC from the VTIMEZONE alone: it must be the instant the zone names.
    #[test]
    fn a_calendar_parser_reads_it_and_its_timezone_places_the_meeting_at_the_right_instant() {
        for (date, time) in [("2024-06-12", 10), ("2024-12-11", 14), ("2025-03-30", 9)] {
            let mut request = invitation(Method::Request, 0);
            let date: NaiveDate = date.parse().unwrap();
            request.when = When::of(date, NaiveTime::from_hms_opt(time, 0, 0), None);
            let ics = request.to_ics();
            let unfolded = icalendar::parser::unfold(&ics);
            let calendar = icalendar::parser::read_calendar(&unfolded).unwrap();
            let method = calendar.properties.iter().find(|p| p.name == "METHOD");
            assert_eq!(method.unwrap().val.as_str(), "REQUEST");
            let find = |name: &str| {
                calendar
                    .components
                    .iter()
                    .find(|c| c.name == name)
                    .unwrap_or_else(|| panic!("no {name} in\n{ics}"))
            };
            let event = find("VEVENT");
            let start = event
                .properties
                .iter()
                .find(|p| p.name == "DTSTART")
                .unwrap();
            assert_eq!(
                start.params[0].val.as_ref().unwrap().as_str(),
                "Europe/London"
            );
            let local = NaiveDateTime::parse_from_str(start.val.as_str(), "%Y%m%dT%H%M%S").unwrap();
            let zone = find("VTIMEZONE");
            let mut in_force = None;
            for part in &zone.components {
                let value = |name: &str| {
                    part.properties
                        .iter()
                        .find(|p| p.name == name)
                        .unwrap()
                        .val
                        .as_str()
                        .to_owned()
                };
                let from =
                    NaiveDateTime::parse_from_str(&value("DTSTART"), "%Y%m%dT%H%M%S").unwrap();
                if from <= local {
                    let to = value("TZOFFSETTO");
                    let sign = if to.starts_with('-') { -1 } else { 1 };
                    let hours: i64 = to[1..3].parse().unwrap();
                    let minutes: i64 = to[3..5].parse().unwrap();
                    in_force = Some(sign * (hours * 60 + minutes));
                }
            }
            let utc_start = local - Duration::minutes(in_force.unwrap());
            assert_eq!(
                utc_start.and_utc(),
                request
                    .zone
                    .instant(date, NaiveTime::from_hms_opt(time, 0, 0).unwrap()),
                "{ics}"
            );
        }
    }

    #[test]
    fn a_cancellation_keeps_the_uid_and_says_cancelled() {
        let lines = unfolded(&invitation(Method::Cancel, 2).to_ics());
        assert!(lines.contains(&"METHOD:CANCEL".to_owned()));
        assert!(lines.contains(&"SEQUENCE:2".to_owned()));
        assert!(lines.contains(&"STATUS:CANCELLED".to_owned()));
        assert!(lines.contains(&"UID:lcjb-2024-06-12@board.example".to_owned()));
    }

    #[test]
    fn a_meeting_without_a_time_takes_the_whole_day() {
        let mut all_day = invitation(Method::Request, 0);
        all_day.when = When::of("2024-06-12".parse().unwrap(), None, None);
        let lines = unfolded(&all_day.to_ics());
        assert!(lines.contains(&"DTSTART;VALUE=DATE:20240612".to_owned()));
        assert!(lines.contains(&"DTEND;VALUE=DATE:20240613".to_owned()));
        assert!(!lines.iter().any(|l| l == "BEGIN:VTIMEZONE"));
    }

    #[test]
    fn long_lines_fold_between_characters_and_unfold_to_the_same_text() {
        let mut long = invitation(Method::Request, 0);
        long.location = Some("Salle de réunion é".repeat(10));
        let ics = long.to_ics();
        assert!(ics.split("\r\n").all(|l| l.len() <= 75));
        assert!(unfolded(&ics).contains(&format!("LOCATION:{}", "Salle de réunion é".repeat(10))));
    }

    #[test]
    fn a_uid_of_ours_names_its_meeting() {
        assert_eq!(
            meeting_of_uid("lcjb-2023-12-13@board.example"),
            Some("lcjb-2023-12-13")
        );
        assert_eq!(meeting_of_uid("040000008200E00074C5B7101A82E008"), None);
    }

    #[test]
    fn a_meeting_late_in_the_evening_ends_before_midnight() {
        let when = When::of(
            "2024-06-12".parse().unwrap(),
            NaiveTime::from_hms_opt(23, 0, 0),
            None,
        );
        assert_eq!(
            when,
            When::Timed {
                date: "2024-06-12".parse().unwrap(),
                start: NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
            }
        );
    }
}
