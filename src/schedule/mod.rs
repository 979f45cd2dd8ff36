//! The persistent schedule: before each meeting, an update request to every organisation
//! expected to report, a chaser to those still silent, and at the papers deadline the
//! meeting pack, sent to the approvers for approval by reply.
//!
//! Jobs are rows in `schedule_jobs`, planned ahead for every upcoming meeting (again on
//! every tick: the unique index makes planning idempotent, and an organisation that
//! becomes expected later gets its jobs then). [`fire_next_due`] takes one due row with
//! `FOR UPDATE SKIP LOCKED` and, in the same transaction, queues its mail and marks it
//! done, so a job fires once however many daemons run. A job whose moment passed beyond
//! its expiry while no daemon ran expires instead of arriving late:
//!
//! | kind           | due                                         | expires                     |
//! |----------------|---------------------------------------------|-----------------------------|
//! | update_request | meeting − `update_request_days`, send_time  | papers deadline, pack_time  |
//! | chaser         | deadline − `chaser_days`, send_time         | the meeting's start         |
//! | meeting_pack   | papers deadline, pack_time                  | the meeting's start         |
//!
//! Update requests and chasers go to the organisation's members who have an address and
//! receive circulation (the people who would receive the pack), never to the secretariat's
//! own organisation, and a request is skipped for an organisation that has already sent
//! its written update. This module owns the rules; SQL is in `store::schedule`.
//!
//! Each pass also sends what invitations are owed (`invite`: iCalendar invitations,
//! updates and cancellations, compared member by member with what each was last sent) and
//! tells the secretariat when apologies put a meeting's quorum at risk (`quorum`).

pub mod digest;
mod fire;
pub mod invite;
mod pack;
mod plan;
pub mod quorum;
mod worker;

pub use fire::*;
pub use pack::*;
pub use plan::*;
pub use worker::*;

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

    use super::*;
    use crate::config::ScheduleSettings;
    use crate::domain::zone::Zone;
    use crate::store::schedule as store;

    #[test]
    fn the_pack_shows_an_updates_own_words_without_the_quoted_request_or_signature() {
        let received = store::ReceivedText {
            id: 1,
            subject: Some("RE: Written updates due".into()),
            body_text: Some(
                "Hi Shobnam,\n\nAll ten HMIP recommendations now have owners.\n\nThanks\nTamara\n\nTamara Barnett\nHead of Partnerships | MOPAC\n\n-----Original Message-----\nFrom: LCJB <lcjb@board.example>\nSent: 27 November 2023 09:00\nTo: Tamara Barnett\nSubject: Written updates due\n\nPlease send your written update.".into(),
            ),
            body_html: None,
        };
        assert_eq!(
            update_text(&received),
            "All ten HMIP recommendations now have owners."
        );
    }

    #[test]
    fn a_huge_update_is_cut_in_the_pack_and_says_so() {
        assert_eq!(pack_text("  short update \n"), "short update");
        let huge = "é".repeat(PACK_UPDATE_TEXT + 10);
        let cut = pack_text(&huge);
        assert!(cut.starts_with(&"é".repeat(PACK_UPDATE_TEXT)));
        assert!(
            cut.ends_with("in the message as received]"),
            "{}",
            &cut[cut.len() - 80..]
        );
        assert!(cut.chars().count() < PACK_UPDATE_TEXT + 100);
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn lcjb() -> MeetingDates {
        MeetingDates {
            date: date("2023-12-13"),
            time: NaiveTime::from_hms_opt(10, 0, 0),
            papers_deadline: Some(date("2023-12-06")),
            zone: Zone::UTC,
        }
    }

    #[test]
    fn each_kind_is_due_and_expires_at_its_documented_moment_with_the_defaults() {
        let settings = ScheduleSettings::default();
        let cases = [
            (
                JobKind::UpdateRequest,
                "2023-12-03T09:00:00Z",
                "2023-12-06T17:00:00Z",
            ),
            (
                JobKind::Chaser,
                "2023-12-04T09:00:00Z",
                "2023-12-13T10:00:00Z",
            ),
            (
                JobKind::MeetingPack,
                "2023-12-06T17:00:00Z",
                "2023-12-13T10:00:00Z",
            ),
        ];
        for (kind, due, expires) in cases {
            let times = job_times(kind, &lcjb(), &settings);
            assert_eq!(times.due_at, utc(due), "{kind:?} due");
            assert_eq!(times.expires_at, utc(expires), "{kind:?} expires");
        }
    }

    #[test]
    fn a_meeting_without_a_papers_deadline_or_time_uses_the_configured_offset_and_midnight() {
        let settings = ScheduleSettings::default();
        let meeting = MeetingDates {
            date: date("2024-02-01"),
            time: None,
            papers_deadline: None,
            zone: Zone::UTC,
        };
        assert_eq!(papers_deadline(&meeting, &settings), date("2024-01-25"));
        let pack = job_times(JobKind::MeetingPack, &meeting, &settings);
        assert_eq!(pack.due_at, utc("2024-01-25T17:00:00Z"));
        assert_eq!(pack.expires_at, utc("2024-02-01T00:00:00Z"));
        let chaser = job_times(JobKind::Chaser, &meeting, &settings);
        assert_eq!(chaser.due_at, utc("2024-01-23T09:00:00Z"));
    }

    #[test]
    fn configured_offsets_and_times_move_the_jobs() {
        let settings = ScheduleSettings {
            update_request_days: 14,
            chaser_days: 1,
            send_time: "07:30".into(),
            pack_time: "12:00".into(),
            ..ScheduleSettings::default()
        };
        let request = job_times(JobKind::UpdateRequest, &lcjb(), &settings);
        assert_eq!(request.due_at, utc("2023-11-29T07:30:00Z"));
        assert_eq!(request.expires_at, utc("2023-12-06T12:00:00Z"));
        let chaser = job_times(JobKind::Chaser, &lcjb(), &settings);
        assert_eq!(chaser.due_at, utc("2023-12-05T07:30:00Z"));
    }

    #[test]
    fn a_job_configured_to_fall_after_its_expiry_still_fires_once_when_due() {
        let settings = ScheduleSettings {
            update_request_days: 3,
            ..ScheduleSettings::default()
        };
        let request = job_times(JobKind::UpdateRequest, &lcjb(), &settings);
        assert_eq!(request.due_at, utc("2023-12-10T09:00:00Z"));
        assert_eq!(request.expires_at, request.due_at);
    }

    #[test]
    fn a_london_board_sends_at_nine_local_time_on_both_sides_of_each_clock_change() {
        let settings = ScheduleSettings::default();
        let london: Zone = "Europe/London".parse().unwrap();
        // A meeting in April: its request (T-10) goes out in March before the clocks
        // change (09:00 GMT); the chaser on the day of the change, in summer time
        // (09:00 BST, 08:00 UTC), as does the pack.
        let spring = MeetingDates {
            date: date("2024-04-09"),
            time: NaiveTime::from_hms_opt(11, 0, 0),
            papers_deadline: None,
            zone: london,
        };
        let request = job_times(JobKind::UpdateRequest, &spring, &settings);
        assert_eq!(request.due_at, utc("2024-03-30T09:00:00Z"));
        let chaser = job_times(JobKind::Chaser, &spring, &settings);
        assert_eq!(chaser.due_at, utc("2024-03-31T08:00:00Z"));
        let pack = job_times(JobKind::MeetingPack, &spring, &settings);
        assert_eq!(pack.due_at, utc("2024-04-02T16:00:00Z"));
        assert_eq!(meeting_start(&spring), utc("2024-04-09T10:00:00Z"));

        // A meeting in November: the request goes in October's summer time; the chaser
        // on the day the clocks go back, in GMT.
        let autumn = MeetingDates {
            date: date("2024-11-01"),
            time: NaiveTime::from_hms_opt(10, 0, 0),
            papers_deadline: Some(date("2024-10-29")),
            zone: london,
        };
        let request = job_times(JobKind::UpdateRequest, &autumn, &settings);
        assert_eq!(request.due_at, utc("2024-10-22T08:00:00Z"));
        let chaser = job_times(JobKind::Chaser, &autumn, &settings);
        assert_eq!(chaser.due_at, utc("2024-10-27T09:00:00Z"));
        let pack = job_times(JobKind::MeetingPack, &autumn, &settings);
        assert_eq!(pack.due_at, utc("2024-10-29T17:00:00Z"));
        assert_eq!(meeting_start(&autumn), utc("2024-11-01T10:00:00Z"));
    }

    #[test]
    fn job_kinds_read_back_what_they_store() {
        for kind in [
            JobKind::UpdateRequest,
            JobKind::Chaser,
            JobKind::MeetingPack,
        ] {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(JobKind::parse("action_pack"), None);
    }
}
