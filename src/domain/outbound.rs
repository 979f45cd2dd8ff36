//! What minuted sends and the states an outgoing email passes through. Pure names and
//! their text forms (as stored in PostgreSQL, shown by `outbox list`, used as template
//! names); the outbox module and the store give them behaviour.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::address::EmailAddress;
use serde::{Deserialize, Serialize};

/// Who an email goes to.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub address: EmailAddress,
    /// Display name; stripped of line breaks before it becomes a header.
    pub name: Option<String>,
    /// The member it is for, when it is one (a hard bounce flags their address).
    pub member_id: Option<i64>,
}

/// The secretariat hears of failed and bounced mail at most this often per board: one
/// summary (`bounce_notice`) for a bad hour rather than one email per failure.
pub const NOTICE_INTERVAL_SECONDS: i64 = 3600;

/// Whether a board's secretariat may be sent a notice of failures at `now`, the last
/// having gone at `last` (None: never): not within [`NOTICE_INTERVAL_SECONDS`] of it.
pub fn notice_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| {
        now.signed_duration_since(last) >= Duration::seconds(NOTICE_INTERVAL_SECONDS)
    })
}

/// A date as a letter writes it: `Wednesday 13 December 2023`.
pub fn long_date(date: NaiveDate) -> String {
    date.format("%A %-d %B %Y").to_string()
}

/// The kinds of email minuted sends. Each has its templates in `templates/`:
/// `KIND.subject.hbs`, `KIND.txt.hbs` and `KIND.html.hbs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// To an agency or member: your message was filed against ...
    Acknowledgement,
    /// To an approver: please approve these draft minutes (or pack) by reply.
    ApprovalRequest,
    /// To the secretariat: what an approval reply decided.
    ApprovalResult,
    /// To every member who receives circulation: the approved minutes.
    Circulation,
    /// To an action owner: the actions they own.
    ActionPack,
    /// To an agency: please send a written update for the next meeting.
    UpdateRequest,
    /// To an agency that has not sent its update yet.
    Chaser,
    /// To members: the papers for the next meeting.
    MeetingPack,
    /// To the secretariat: mail that could not be delivered.
    BounceNotice,
    /// To someone whose reply could not be acted on: what was understood, why not, and
    /// the reply that would work.
    ReplyHelp,
    /// To the secretariat, at most hourly: messages wait in triage.
    TriageNotice,
    /// To the secretariat: mail has stopped (the mailbox cannot be read, a sign-in is
    /// refused, outgoing mail fails), and again when it works again.
    Alert,
    /// To a member: the meeting, as an iCalendar invitation (or its update or
    /// cancellation) they answer from their calendar or by reply.
    Invitation,
    /// To a member who answered an invitation: what was recorded, in one line.
    AttendanceRecorded,
    /// To the secretariat: apologies put a meeting's quorum at risk.
    QuorumWarning,
    /// To the secretariat, once a day when there is something to say: what arrived, what
    /// waits, who is outstanding, what failed, what is overdue.
    Digest,
}

impl MailKind {
    pub const ALL: [MailKind; 16] = [
        MailKind::Acknowledgement,
        MailKind::ApprovalRequest,
        MailKind::ApprovalResult,
        MailKind::Circulation,
        MailKind::ActionPack,
        MailKind::UpdateRequest,
        MailKind::Chaser,
        MailKind::MeetingPack,
        MailKind::BounceNotice,
        MailKind::ReplyHelp,
        MailKind::TriageNotice,
        MailKind::Alert,
        MailKind::Invitation,
        MailKind::AttendanceRecorded,
        MailKind::QuorumWarning,
        MailKind::Digest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Acknowledgement => "acknowledgement",
            MailKind::ApprovalRequest => "approval_request",
            MailKind::ApprovalResult => "approval_result",
            MailKind::Circulation => "circulation",
            MailKind::ActionPack => "action_pack",
            MailKind::UpdateRequest => "update_request",
            MailKind::Chaser => "chaser",
            MailKind::MeetingPack => "meeting_pack",
            MailKind::BounceNotice => "bounce_notice",
            MailKind::ReplyHelp => "reply_help",
            MailKind::TriageNotice => "triage_notice",
            MailKind::Alert => "alert",
            MailKind::Invitation => "invitation",
            MailKind::AttendanceRecorded => "attendance_recorded",
            MailKind::QuorumWarning => "quorum_warning",
            MailKind::Digest => "digest",
        }
    }

    pub fn parse(text: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MailKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MailKind::parse(s).ok_or_else(|| {
            let known: Vec<&str> = MailKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown kind `{s}`; expected one of {}", known.join(", "))
        })
    }
}

/// Where an outbox row is in its life. See `migrations/0003_outbox.sql` for what each
/// means; `sent`, `failed`, `bounced` and `expired` are final unless someone retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Retrying,
    Failed,
    Unknown,
    Bounced,
    Expired,
    Held,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 9] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Retrying,
        OutboxStatus::Failed,
        OutboxStatus::Unknown,
        OutboxStatus::Bounced,
        OutboxStatus::Expired,
        OutboxStatus::Held,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Retrying => "retrying",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Unknown => "unknown",
            OutboxStatus::Bounced => "bounced",
            OutboxStatus::Expired => "expired",
            OutboxStatus::Held => "held",
        }
    }

    pub fn parse(text: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutboxStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutboxStatus::parse(s).ok_or_else(|| {
            let known: Vec<&str> = OutboxStatus::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown status `{s}`; expected one of {}", known.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_is_due_first_and_then_once_the_interval_has_passed() {
        let last = DateTime::parse_from_rfc3339("2023-12-04T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(notice_due(None, last));
        assert!(!notice_due(Some(last), last + Duration::seconds(3599)));
        assert!(notice_due(Some(last), last + Duration::seconds(3600)));
    }

    #[test]
    fn every_kind_and_status_round_trips_through_its_text() {
        for kind in MailKind::ALL {
            assert_eq!(kind.as_str().parse::<MailKind>().unwrap(), kind);
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        for status in OutboxStatus::ALL {
            assert_eq!(status.as_str().parse::<OutboxStatus>().unwrap(), status);
        }
        assert!("memo"
            .parse::<MailKind>()
            .unwrap_err()
            .contains("circulation"));
    }

    #[test]
    fn dates_are_written_as_a_letter_writes_them() {
        let date = NaiveDate::from_ymd_opt(2023, 12, 6).unwrap();
        assert_eq!(long_date(date), "Wednesday 6 December 2023");
    }
}
