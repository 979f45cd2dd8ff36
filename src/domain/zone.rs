//! The board's time zone. Meeting times, papers deadlines and the schedule's times of day
//! are the board's local time; the database keeps UTC instants; letters write local time
//! with its abbreviation ("11:00 BST", "10:00 GMT").

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// An IANA time zone (`Europe/London`); UTC unless the registry names another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

impl Default for Zone {
    fn default() -> Zone {
        Zone::UTC
    }
}

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The instant a local date and time name. A time the clocks skip (01:30 on the
    /// March change in London) is read as the first instant after the gap; a time they
    /// pass twice (01:30 on the October change) as the first of the two.
    pub fn instant(self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let local = date.and_time(time);
        let mut probe = local;
        // Gaps are at most a few hours; step forward by minutes until the clock exists.
        for _ in 0..=24 * 60 {
            match self.0.from_local_datetime(&probe) {
                LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                    return at.with_timezone(&Utc)
                }
                LocalResult::None => probe += Duration::minutes(1),
            }
        }
        local.and_utc()
    }

    /// When a meeting on `date` at `time` starts; one without a time starts at the
    /// beginning of its day, so nothing about it goes out on the day itself.
    pub fn meeting_start(self, date: NaiveDate, time: Option<NaiveTime>) -> DateTime<Utc> {
        self.instant(date, time.unwrap_or_default())
    }

    /// The local date and time of an instant.
    pub fn local(self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.0).naive_local()
    }

    /// A meeting's time of day as a letter writes it: `11:00 BST`.
    pub fn clock_text(self, date: NaiveDate, time: NaiveTime) -> String {
        self.instant(date, time)
            .with_timezone(&self.0)
            .format("%H:%M %Z")
            .to_string()
    }

    /// A moment as a letter writes it: `Thursday 21 September 2023 at 10:41 BST`.
    pub fn long_datetime(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.0)
            .format("%A %-d %B %Y at %H:%M %Z")
            .to_string()
    }

    /// The offset from UTC in force at an instant, its abbreviation, and whether it is
    /// summer (daylight saving) time.
    pub fn offset_at(self, at: DateTime<Utc>) -> Offset {
        use chrono::Offset as _;
        use chrono_tz::{OffsetComponents, OffsetName};
        let offset = self.0.offset_from_utc_datetime(&at.naive_utc());
        Offset {
            seconds: offset.fix().local_minus_utc(),
            abbreviation: offset.abbreviation().map(str::to_owned),
            daylight: !offset.dst_offset().is_zero(),
        }
    }

    /// Every change of offset in `[from, to)`: the instant of the change and the offset
    /// after it, in order. Found by stepping a day at a time and narrowing to the second,
    /// so a zone's rules need not be read directly.
    pub fn changes(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, Offset)> {
        let mut changes = Vec::new();
        let mut at = from;
        let mut current = self.offset_at(at);
        while at < to {
            let next = (at + Duration::days(1)).min(to);
            let after = self.offset_at(next);
            if after != current {
                // The change lies in (at, next]: narrow it down to the second.
                let (mut low, mut high) = (at.timestamp(), next.timestamp());
                let instant = |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap_or(at);
                while high - low > 1 {
                    let middle = low + (high - low) / 2;
                    if self.offset_at(instant(middle)) == current {
                        low = middle;
                    } else {
                        high = middle;
                    }
                }
                changes.push((instant(high), after.clone()));
                current = after;
            }
            at = next;
        }
        changes
    }
}

/// A zone's offset from UTC at some instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offset {
    pub seconds: i32,
    /// `GMT`, `BST`; none where the zone names its offsets only by number.
    pub abbreviation: Option<String>,
    pub daylight: bool,
}

impl FromStr for Zone {
    type Err = String;

    fn from_str(name: &str) -> Result<Zone, String> {
        name.trim().parse::<Tz>().map(Zone).map_err(|_| {
            format!(
                "unknown time zone `{name}`: use an IANA name such as \"Europe/London\" or \"UTC\""
            )
        })
    }
}

impl TryFrom<String> for Zone {
    type Error = String;

    fn try_from(name: String) -> Result<Zone, String> {
        name.parse()
    }
}

impl serde::Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> Zone {
        "Europe/London".parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    #[test]
    fn a_meeting_in_summer_time_is_an_hour_before_utc_and_says_bst() {
        let at = london().instant(day("2024-06-12"), time("11:00"));
        assert_eq!(at.to_rfc3339(), "2024-06-12T10:00:00+00:00");
        assert_eq!(
            london().clock_text(day("2024-06-12"), time("11:00")),
            "11:00 BST"
        );
    }

    #[test]
    fn a_meeting_in_winter_is_at_utc_and_says_gmt() {
        let at = london().instant(day("2023-12-13"), time("10:00"));
        assert_eq!(at.to_rfc3339(), "2023-12-13T10:00:00+00:00");
        assert_eq!(
            london().clock_text(day("2023-12-13"), time("10:00")),
            "10:00 GMT"
        );
        assert_eq!(
            london().long_datetime(at),
            "Wednesday 13 December 2023 at 10:00 GMT"
        );
    }

    #[test]
    fn the_clock_changes_neither_lose_nor_double_a_time() {
        // 31 March 2024: 01:00 GMT becomes 02:00 BST; 01:30 never happens.
        let skipped = london().instant(day("2024-03-31"), time("01:30"));
        assert_eq!(skipped.to_rfc3339(), "2024-03-31T01:00:00+00:00");
        // 27 October 2024: 01:30 happens in BST and again in GMT; the first is meant.
        let twice = london().instant(day("2024-10-27"), time("01:30"));
        assert_eq!(twice.to_rfc3339(), "2024-10-27T00:30:00+00:00");
    }

    #[test]
    fn london_changes_its_clocks_twice_a_year_at_one_in_the_morning_utc() {
        let from = Zone::UTC.instant(day("2024-01-01"), time("00:00"));
        let to = Zone::UTC.instant(day("2025-01-01"), time("00:00"));
        let changes = london().changes(from, to);
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(changes[0].0.to_rfc3339(), "2024-03-31T01:00:00+00:00");
        assert_eq!(changes[0].1.seconds, 3600);
        assert_eq!(changes[0].1.abbreviation.as_deref(), Some("BST"));
        assert!(changes[0].1.daylight);
        assert_eq!(changes[1].0.to_rfc3339(), "2024-10-27T01:00:00+00:00");
        assert_eq!(changes[1].1.seconds, 0);
        assert!(!changes[1].1.daylight);
        assert!(Zone::UTC.changes(from, to).is_empty());
    }

    #[test]
    fn utc_is_the_default_and_names_are_checked() {
        assert_eq!(Zone::default(), Zone::UTC);
        let at = Zone::UTC.instant(day("2023-12-06"), time("09:05"));
        assert_eq!(
            Zone::UTC.long_datetime(at),
            "Wednesday 6 December 2023 at 09:05 UTC"
        );
        assert!("Europe/Lundun"
            .parse::<Zone>()
            .unwrap_err()
            .contains("Europe/London"));
    }
}
