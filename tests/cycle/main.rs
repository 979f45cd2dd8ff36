//! A whole meeting cycle for the example board, end to end through the real services and
//! the real binary: draft minutes of 20 September 2023 approved by reply → circulation and
//! action packs → update requests for 13 December at T−10 → three agencies reply (a
//! "Done", a .docx update, one from outside the owning organisation) → chasers to the
//! silent ones only → the meeting pack at the papers deadline, approved by reply →
//! circulated.
//!
//! Every step runs two `minuted run` daemons at once on a rehearsal clock
//! (`--clock-start`) set to that step's moment, and stops them afterwards, so each step is
//! also a restart. Mail comes in through Postfix and Dovecot and goes out through Postfix
//! into each member's Dovecot mailbox, where the test reads it. At the end every mailbox
//! holds each kind of email exactly as often as it should: once, or not at all.

#![allow(
    clippy::disallowed_macros,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines
)]

#[path = "../support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;

/// What the daemons and commands log.
const LOG: &str = "info,sqlx=warn";
const KEY: &str = "0123456789abcdef0123456789abcdef-cycle-key";
const WAIT: Duration = Duration::from_secs(60);

/// One received email, as a member's mailbox holds it.
#[derive(Debug, Clone)]
struct Mail {
    subject: String,
    reply_to: Option<String>,
    message_id: String,
    body: String,
    attachments: Vec<String>,
    /// The `text/calendar` part's method parameter and text, for an invitation.
    calendar: Option<(String, String)>,
}

fn parse(raw: &[u8]) -> Mail {
    let m = MessageParser::default().parse(raw).unwrap();
    Mail {
        subject: m.subject().unwrap_or_default().to_owned(),
        reply_to: m
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_owned),
        message_id: m.message_id().unwrap_or_default().to_owned(),
        body: m.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
        attachments: m
            .attachments()
            .filter_map(|a| a.attachment_name().map(str::to_owned))
            .collect(),
        calendar: m.parts.iter().find_map(|p| {
            let kind = p.content_type()?;
            (kind.ctype() == "text" && kind.subtype() == Some("calendar")).then(|| {
                (
                    kind.attribute("method").unwrap_or_default().to_owned(),
                    p.text_contents().unwrap_or_default().to_owned(),
                )
            })
        }),
    }
}

/// The VEVENT of an invitation's calendar part, read by an iCalendar parser: each
/// property's name and value.
fn event_of(mail: &Mail) -> BTreeMap<String, String> {
    let (method, text) = mail.calendar.clone().expect("a text/calendar part");
    let unfolded = icalendar::parser::unfold(&text);
    let calendar = icalendar::parser::read_calendar(&unfolded).unwrap();
    let stated = calendar
        .properties
        .iter()
        .find(|p| p.name == "METHOD")
        .unwrap();
    assert_eq!(
        stated.val.as_str(),
        method,
        "the part's method is the calendar's"
    );
    let event = calendar
        .components
        .iter()
        .find(|c| c.name == "VEVENT")
        .unwrap();
    assert!(calendar.components.iter().any(|c| c.name == "VTIMEZONE"));
    event
        .properties
        .iter()
        .map(|p| (p.name.to_string(), p.val.to_string()))
        .collect()
}

/// A calendar client's answer to the invitation, as Outlook and Gmail send it: a
/// `METHOD:REPLY` part with the attendee's PARTSTAT, to the organiser, not threaded.
fn calendar_reply(from: &str, to: &str, subject: &str, id: &str, attendee: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Thu, 16 Nov 2023 10:00:00 +0000\r\n\
Message-ID: <{id}>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAway that week.\r\n\
--b1\r\nContent-Type: text/calendar; charset=utf-8; method=REPLY\r\n\r\n\
BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n\
UID:lcjb-2023-12-13@board.{unique}\r\nDTSTAMP:20231116T100000Z\r\n{attendee}\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n--b1--\r\n",
        unique = to.rsplit_once("@board.").map_or("", |(_, d)| d),
    )
    .into_bytes()
}

/// The kinds of email the cycle sends, told apart by their subjects (the embedded
/// templates').
fn kind_of(subject: &str) -> &'static str {
    if subject.starts_with("Approval needed") {
        "approval_request"
    } else if subject.starts_with("Approved minutes") {
        "circulation"
    } else if subject.starts_with("Your actions") {
        "action_pack"
    } else if subject.starts_with("Written update needed") {
        "update_request"
    } else if subject.starts_with("Reminder: written update") {
        "chaser"
    } else if subject.starts_with("Meeting pack") {
        "meeting_pack"
    } else if subject.starts_with("Invitation:") || subject.starts_with("Updated invitation:") {
        "invitation"
    } else if subject.starts_with("Attendance recorded:") {
        "attendance_recorded"
    } else {
        "other"
    }
}

struct Cycle {
    example: support::ExampleBoard,
}

impl std::ops::Deref for Cycle {
    type Target = support::ExampleBoard;

    fn deref(&self) -> &support::ExampleBoard {
        &self.example
    }
}

/// Two (or more) `minuted run` processes sharing the cycle's database and mailbox.
struct Daemons {
    children: Vec<Child>,
    logs: Vec<PathBuf>,
}

impl Daemons {
    /// SIGTERM to each; each must exit 0 within 30 s.
    fn stop(mut self) {
        for child in &self.children {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            )
            .unwrap();
        }
        for (child, log) in self.children.iter_mut().zip(&self.logs) {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("a daemon did not stop within 30 s: {}", tail(log));
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            assert!(status.success(), "daemon exit {status}: {}", tail(log));
        }
        self.children.clear();
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

impl Cycle {
    async fn new() -> Cycle {
        let extra = format!("[approval]\nsecret = \"{KEY}\"\n\n[schedule]\ntick_seconds = 1\n");
        Cycle {
            example: support::ExampleBoard::new("c", &extra).await,
        }
    }

    /// One command at the rehearsal moment `clock`; it must succeed.
    fn minuted(&self, clock: &str, args: &[&str]) -> Output {
        let output = self.command(clock, LOG).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "minuted {args:?} at {clock}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn json(&self, clock: &str, args: &[&str]) -> Value {
        serde_json::from_slice(&self.minuted(clock, args).stdout).unwrap()
    }

    /// Two daemons on a clock starting at `clock`, running `rate` times real time.
    fn daemons(&self, step: &str, clock: &str, rate: u32) -> Daemons {
        let mut children = Vec::new();
        let mut logs = Vec::new();
        for n in 0..2 {
            let log = self.dir.path().join(format!("{step}-{n}.log"));
            let file = std::fs::File::create(&log).unwrap();
            let child = self
                .command(clock, LOG)
                .args(["--clock-rate", &rate.to_string(), "run"])
                .stdout(Stdio::null())
                .stderr(file)
                .spawn()
                .unwrap();
            children.push(child);
            logs.push(log);
        }
        Daemons { children, logs }
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    /// Waits until `sql` (a count) reaches `n`.
    async fn until(&self, what: &str, sql: &str, n: i64, daemons: &Daemons) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let found = self.count(sql).await;
            if found >= n {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{what}: {found} of {n} after {WAIT:?}\n--- daemon log ---\n{}",
                    tail(&daemons.logs[0])
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until no outbox row is left to send, and every sent row has had time to
    /// reach its mailbox.
    async fn until_sent(&self, what: &str, daemons: &Daemons) {
        self.until(
            what,
            "SELECT (count(*) = 0)::int::int8 FROM outbox
             WHERE status IN ('pending', 'sending', 'retrying', 'unknown')",
            1,
            daemons,
        )
        .await;
    }

    /// Every member's primary address with their organisation's short name.
    async fn members(&self) -> BTreeMap<String, Option<String>> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT a.address, o.short FROM members m
             JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
             LEFT JOIN organisations o ON o.id = m.organisation_id
             WHERE m.active",
        )
        .fetch_all(&self.pool)
        .await
        .unwrap();
        rows.into_iter().collect()
    }

    /// The first member of organisation `short` with an address.
    async fn member_of(&self, short: &str) -> String {
        sqlx::query_scalar(
            "SELECT a.address FROM members m
             JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
             JOIN organisations o ON o.id = m.organisation_id
             WHERE o.short = $1 AND m.active AND m.circulation
             ORDER BY m.name LIMIT 1",
        )
        .bind(short)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// The sent outbox rows of `kind`, as (address, organisation short).
    async fn sent(&self, kind: &str) -> Vec<(String, Option<String>)> {
        sqlx::query_as(
            "SELECT o.to_address, org.short FROM outbox o
             LEFT JOIN members m ON m.id = o.member_id
             LEFT JOIN organisations org ON org.id = m.organisation_id
             WHERE o.kind = $1 AND o.status = 'sent' ORDER BY o.to_address",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }
}

async fn inbox(user: &str) -> Vec<Mail> {
    support::imap_fetch_all(user, "INBOX")
        .await
        .iter()
        .map(|raw| parse(raw))
        .collect()
}

/// Waits until `user`'s inbox holds an email of `kind`, and returns the newest.
async fn received(user: &str, kind: &str) -> Mail {
    received_where(user, kind, |_| true).await
}

/// Waits until `user`'s inbox holds an email of `kind` that `wanted` accepts, and returns
/// the newest.
async fn received_where(user: &str, kind: &str, wanted: impl Fn(&Mail) -> bool) -> Mail {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let found = inbox(user).await;
        if let Some(mail) = found
            .iter()
            .rev()
            .find(|m| kind_of(&m.subject) == kind && wanted(m))
        {
            return mail.clone();
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "no {kind} reached {user}: {:?}",
                found.iter().map(|m| &m.subject).collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A plain-text reply to `mail` from `from`, to its Reply-To.
fn reply(from: &str, mail: &Mail, id: &str, date: &str, text: &str) -> Vec<u8> {
    let to = mail.reply_to.clone().unwrap();
    let quoted: String = mail.body.lines().map(|l| format!("> {l}\r\n")).collect();
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Re: {subject}\r\nDate: {date}\r\n\
Message-ID: <{id}>\r\nIn-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
{text}\r\n\r\nOn the day, the board wrote:\r\n{quoted}",
        subject = mail.subject,
        parent = mail.message_id,
    )
    .into_bytes()
}

/// The organisations with at least one row in `rows`.
fn organisations(rows: &[(String, Option<String>)]) -> BTreeSet<String> {
    rows.iter().filter_map(|(_, o)| o.clone()).collect()
}

fn status_of(status: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let expected: BTreeSet<String> = status["expected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["organisation"].as_str().unwrap().to_owned())
        .collect();
    let outstanding: BTreeSet<String> = status["outstanding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_owned())
        .collect();
    (expected, outstanding)
}

fn action<'a>(list: &'a Value, reference: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["ref"] == reference)
        .unwrap_or_else(|| panic!("{reference} not in {list}"))
}

#[tokio::test]
async fn a_meeting_cycle_sends_every_email_once_at_its_step_to_the_right_people() {
    let cycle = Cycle::new().await;
    let registry = cycle.dir.path().join("lcjb.toml");
    cycle.minuted(
        "2023-11-27T14:00:00Z",
        &["board", "import", registry.to_str().unwrap()],
    );
    let members = cycle.members().await;
    let meeting = "LCJB-2023-12-13";

    // 0. Four weeks before the meeting every member is invited; answers come from two
    //    calendar clients and in words; then the meeting moves half an hour.
    let daemons = cycle.daemons("0-invite", "2023-11-15T08:59:50Z", 1);
    cycle
        .until(
            "invitations sent",
            "SELECT count(*) FROM outbox WHERE kind = 'invitation' AND status = 'sent'",
            members.len() as i64,
            &daemons,
        )
        .await;
    for address in members.keys() {
        let invitation = received(address, "invitation").await;
        let event = event_of(&invitation);
        assert_eq!(event["SEQUENCE"], "0");
        assert_eq!(event["DTSTART"], "20231213T100000");
        assert_eq!(event["ATTENDEE"], format!("mailto:{address}"));
    }
    let mark = cycle.localise("mark.rowley@met.example");
    let kilvinder = cycle.localise("kilvinder.vigurs@probation.justice.example");
    let sadiq = cycle.localise("sadiq.khan@london.example");
    let outlook = calendar_reply(
        &format!("Mark Rowley <{mark}>"),
        &cycle.board,
        "Declined: Invitation: London Criminal Justice Board, Wednesday 13 December 2023, 10:00 to 12:00 GMT",
        &format!("decline.{}@met.example", cycle.unique),
        &format!("ATTENDEE;PARTSTAT=DECLINED;CN=\"Mark Rowley\":mailto:{mark}"),
    );
    let gmail = calendar_reply(
        &format!("Kilvinder Vigurs <{kilvinder}>"),
        &cycle.board,
        "Declined: London Criminal Justice Board @ Wed 13 Dec 2023 10am - 12pm (GMT)",
        &format!("decline.{}@probation.example", cycle.unique),
        &format!(
            "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=Kilvinder \r\n Vigurs;X-NUM-GUESTS=0:mailto:{kilvinder}"
        ),
    );
    let words = reply(
        &sadiq,
        &received(&sadiq, "invitation").await,
        &format!("apologies.{}@london.example", cycle.unique),
        "Thu, 16 Nov 2023 10:01:00 +0000",
        "Apologies, Sophie will attend for me",
    );
    for (from, raw) in [(&mark, &outlook), (&kilvinder, &gmail), (&sadiq, &words)] {
        support::smtp_send(from, &[&cycle.board], raw).await;
    }
    cycle
        .until(
            "answers recorded",
            "SELECT count(*) FROM attendance WHERE response = 'apologies'",
            3,
            &daemons,
        )
        .await;
    cycle.until_sent("answers acknowledged", &daemons).await;
    daemons.stop();
    for address in [&mark, &kilvinder, &sadiq] {
        received(address, "attendance_recorded").await;
    }
    let register = cycle.json(
        "2023-11-16T10:10:00Z",
        &["meetings", "attendance", meeting, "--json"],
    );
    assert_eq!(register["apologies"], 3, "{register}");
    let answer = |name: &str| {
        register["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["member"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(answer("Mark Rowley")["via"], "calendar");
    assert_eq!(answer("Kilvinder Vigurs")["response"], "apologies");
    assert_eq!(answer("Sadiq Khan")["deputy"], "Sophie Linden");
    assert_eq!(answer("Sadiq Khan")["via"], "words");

    let moved = std::fs::read_to_string(&registry).unwrap().replacen(
        "time = \"10:00\"\nend = \"12:00\"",
        "time = \"10:30\"\nend = \"12:30\"",
        1,
    );
    std::fs::write(&registry, moved).unwrap();
    let daemons = cycle.daemons("0-move", "2023-11-16T11:00:00Z", 1);
    cycle
        .until(
            "updated invitations sent",
            "SELECT count(*) FROM outbox WHERE kind = 'invitation' AND status = 'sent'",
            2 * members.len() as i64,
            &daemons,
        )
        .await;
    daemons.stop();
    for address in members.keys() {
        let update = received(address, "invitation").await;
        assert!(
            update.subject.starts_with("Updated invitation:"),
            "{}",
            update.subject
        );
        let event = event_of(&update);
        assert_eq!(event["SEQUENCE"], "1");
        assert_eq!(event["DTSTART"], "20231213T103000");
    }

    // 1. Draft minutes of 20 September arrive; the approval request goes out.
    let daemons = cycle.daemons("1-draft", "2023-11-27T15:00:00Z", 1);
    let draft = cycle.localise(
        &String::from_utf8(
            std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml/draft_minutes.eml"),
            )
            .unwrap(),
        )
        .unwrap(),
    );
    support::smtp_send(&cycle.secretariat, &[&cycle.board], draft.as_bytes()).await;
    let request = received(&cycle.secretariat, "approval_request").await;
    daemons.stop();

    // 2. Approved by reply (another pair of daemons: a restart); circulation and action
    //    packs wait for the ten-minute undo window, which the clock at 120× passes.
    let daemons = cycle.daemons("2-approve", "2023-11-27T15:05:00Z", 120);
    let approve = reply(
        &cycle.secretariat,
        &request,
        &format!("approve-minutes.{}@mopac.example", cycle.unique),
        "Mon, 27 Nov 2023 15:05:00 +0000",
        "Approved",
    );
    support::smtp_send(&cycle.secretariat, &[&cycle.board], &approve).await;
    cycle
        .until(
            "minutes approved",
            "SELECT count(*) FROM minutes_revisions WHERE status = 'approved'",
            1,
            &daemons,
        )
        .await;
    cycle
        .until(
            "circulation sent",
            "SELECT count(*) FROM outbox WHERE kind = 'circulation' AND status = 'sent'",
            members.len() as i64,
            &daemons,
        )
        .await;
    cycle.until_sent("action packs sent", &daemons).await;
    daemons.stop();

    let actions = cycle.json("2023-11-27T16:00:00Z", &["actions", "list", "--json"]);
    let open: Vec<&Value> = actions.as_array().unwrap().iter().collect();
    assert!(!open.is_empty(), "no actions entered: {actions}");
    assert!(open.iter().all(|a| a["status"] == "open"), "{actions}");
    // The draft's candidates, as its approval request numbers them: A1 MOPAC's summary of
    // themes, A2 Probation's written update, A3 the Diversion Strategy, A4 CPS's pilots.
    assert_eq!(action(&actions, "LCJB-A2")["owner"], "HMPPS Probation");
    assert_eq!(action(&actions, "LCJB-A4")["owner"], "CPS");

    // 3. T−10, 3 December at 09:00: update requests to each organisation expected to
    //    report, exactly as `meetings status` lists them. The daemons start just before
    //    the moment and fire as the clock passes it.
    let status = cycle.json(
        "2023-12-03T08:00:00Z",
        &["meetings", "status", meeting, "--json"],
    );
    let (expected, outstanding) = status_of(&status);
    assert_eq!(status["attendance"]["apologies"], 3, "{status}");
    assert!(
        expected.contains("CPS"),
        "owner of an open action: {status}"
    );
    assert!(expected.contains("HMPPS Probation"), "{status}");
    assert_eq!(expected, outstanding);
    // The secretariat's own organisation (MOPAC) compiles the pack and is not asked.
    let secretariat: BTreeSet<String> = sqlx::query_scalar(
        "SELECT DISTINCT o.short FROM members m JOIN organisations o ON o.id = m.organisation_id
         WHERE 'secretariat' = ANY(m.roles) AND m.active",
    )
    .fetch_all(&cycle.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert!(secretariat.contains("MOPAC"), "{secretariat:?}");
    let asked: BTreeSet<String> = expected.difference(&secretariat).cloned().collect();
    let daemons = cycle.daemons("3-requests", "2023-12-03T08:59:56Z", 1);
    cycle
        .until(
            "update requests queued",
            "SELECT count(*) FROM schedule_jobs WHERE kind = 'update_request' AND status = 'fired'",
            asked.len() as i64,
            &daemons,
        )
        .await;
    cycle.until_sent("update requests sent", &daemons).await;
    daemons.stop();
    let requests = cycle.sent("update_request").await;
    assert_eq!(organisations(&requests), asked);

    // 4. Replies on 3 December: Probation's "Done" to its action pack, CPS South's .docx
    //    update to its update request, and an HMCTS officer claiming CPS's action.
    let daemons = cycle.daemons("4-replies", "2023-12-03T14:00:00Z", 1);
    let probation = cycle.member_of("HMPPS Probation").await;
    let pack = received(&probation, "action_pack").await;
    assert!(pack.body.contains("LCJB-A2"), "{}", pack.body);
    // The pack names the meeting that raised the actions and the next one to come.
    assert!(
        pack.subject.contains("Wednesday 20 September 2023"),
        "{}",
        pack.subject
    );
    assert!(
        pack.body
            .contains("before the next meeting, on Wednesday 13 December 2023"),
        "{}",
        pack.body
    );
    let done = reply(
        &probation,
        &pack,
        &format!("done.{}@probation.example", cycle.unique),
        "Sun, 3 Dec 2023 14:00:00 +0000",
        "Done",
    );
    support::smtp_send(&probation, &[&cycle.board], &done).await;

    let cps_south = cycle.member_of("CPS South").await;
    let ask = received(&cps_south, "update_request").await;
    let docx_fixture = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml/docx_update.eml"),
    )
    .unwrap();
    let docx = MessageParser::default()
        .parse(&docx_fixture)
        .unwrap()
        .attachments()
        .next()
        .unwrap()
        .contents()
        .to_vec();
    let update = lettre::Message::builder()
        .from(cps_south.parse().unwrap())
        .to(ask.reply_to.clone().unwrap().parse().unwrap())
        .subject(format!("Re: {}", ask.subject))
        .date(std::time::UNIX_EPOCH + Duration::from_secs(1_701_612_300))
        .message_id(Some(format!("<docx.{}@cps.example>", cycle.unique)))
        .in_reply_to(format!("<{}>", ask.message_id))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(
                    "Please find our written update attached.".to_owned(),
                ))
                .singlepart(Attachment::new("CPS South update.docx".to_owned()).body(
                    docx,
                    ContentType::parse(
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    )
                    .unwrap(),
                )),
        )
        .unwrap()
        .formatted();
    support::smtp_send(&cps_south, &[&cycle.board], &update).await;

    let hmcts = cycle.member_of("HMCTS").await;
    let claim = format!(
        "From: {hmcts}\r\nTo: {board}\r\nSubject: LCJB-A4 Done\r\n\
Date: Sun, 3 Dec 2023 14:10:00 +0000\r\nMessage-ID: <claim.{unique}@hmcts.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDone\r\n",
        board = cycle.board,
        unique = cycle.unique,
    );
    support::smtp_send(&hmcts, &[&cycle.board], claim.as_bytes()).await;
    // The three are waited for by their Message-IDs: the answers to the invitation
    // filed earlier would otherwise count in their place.
    let three = format!(
        "SELECT count(*) FROM messages WHERE status IN ('filed', 'triage', 'quarantined')
         AND message_id IN ('done.{u}@probation.example', 'docx.{u}@cps.example',
                            'claim.{u}@hmcts.example')",
        u = cycle.unique
    );
    cycle
        .until("three replies filed", &three, 3, &daemons)
        .await;
    cycle
        .until(
            "the Done applied",
            "SELECT count(*) FROM action_update_sources",
            1,
            &daemons,
        )
        .await;
    cycle.until_sent("acknowledgements sent", &daemons).await;
    daemons.stop();

    let actions = cycle.json("2023-12-03T15:00:00Z", &["actions", "list", "--json"]);
    assert_eq!(action(&actions, "LCJB-A2")["status"], "done", "{actions}");
    assert_eq!(action(&actions, "LCJB-A4")["status"], "open", "{actions}");
    let triage = cycle.json("2023-12-03T15:00:00Z", &["triage", "list", "--json"]);
    assert!(
        triage
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["from"].as_str() == Some(hmcts.as_str())),
        "the claim from outside CPS is in triage: {triage}"
    );
    let status = cycle.json(
        "2023-12-03T15:00:00Z",
        &["meetings", "status", meeting, "--json"],
    );
    let (_, outstanding) = status_of(&status);
    assert!(!outstanding.contains("HMPPS Probation"), "{status}");
    assert!(!outstanding.contains("CPS South"), "{status}");
    assert!(outstanding.contains("CPS"), "{status}");
    assert!(outstanding.contains("HMCTS"), "{status}");
    let acknowledged = organisations(&cycle.sent("acknowledgement").await);
    assert!(acknowledged.contains("HMPPS Probation"), "{acknowledged:?}");
    assert!(acknowledged.contains("CPS South"), "{acknowledged:?}");
    assert!(!acknowledged.contains("HMCTS"), "{acknowledged:?}");

    // 5. 4 December at 09:00, two days before the papers deadline: chasers to exactly the
    //    organisations still outstanding.
    let daemons = cycle.daemons("5-chasers", "2023-12-04T08:59:56Z", 1);
    cycle
        .until(
            "chasers decided",
            "SELECT count(*) FROM schedule_jobs WHERE kind = 'chaser' AND status <> 'pending'",
            asked.len() as i64,
            &daemons,
        )
        .await;
    cycle.until_sent("chasers sent", &daemons).await;
    daemons.stop();
    let chased = organisations(&cycle.sent("chaser").await);
    assert_eq!(
        chased,
        outstanding.difference(&secretariat).cloned().collect()
    );

    // 6. The papers deadline, 6 December at 17:00: the pack goes to the secretariat for
    //    approval.
    let daemons = cycle.daemons("6-pack", "2023-12-06T16:59:56Z", 1);
    cycle
        .until(
            "pack compiled",
            "SELECT count(*) FROM meeting_packs",
            1,
            &daemons,
        )
        .await;
    cycle
        .until_sent("pack approval request sent", &daemons)
        .await;
    daemons.stop();
    let requests: Vec<Mail> = inbox(&cycle.secretariat)
        .await
        .into_iter()
        .filter(|m| kind_of(&m.subject) == "approval_request")
        .collect();
    assert_eq!(requests.len(), 2, "the minutes' and the pack's");
    let pack_request = requests.last().unwrap().clone();
    // What the pack request says is the pack's own: its files, its counts, its example.
    for words in [
        "written updates received",
        "action updates received",
        "attached: CPS South update.docx",
        "REJECT the pack should include",
        "attendance register: 0 attending, 3 apologies",
        "The updates' files are attached",
    ] {
        assert!(
            pack_request.body.contains(words),
            "{words}: {}",
            pack_request.body
        );
    }
    assert!(!pack_request.body.contains("The document is attached"));
    for organisation in &outstanding {
        assert!(
            pack_request.body.contains(organisation.as_str()),
            "the pack names {organisation} as not reporting: {}",
            pack_request.body
        );
    }

    // 7. Approved by reply: circulated to every member who receives circulation, with
    //    the .docx update attached.
    let daemons = cycle.daemons("7-circulate", "2023-12-06T17:10:00Z", 120);
    let approve = reply(
        &cycle.secretariat,
        &pack_request,
        &format!("approve-pack.{}@mopac.example", cycle.unique),
        "Wed, 6 Dec 2023 17:10:00 +0000",
        "APPROVE",
    );
    support::smtp_send(&cycle.secretariat, &[&cycle.board], &approve).await;
    cycle
        .until(
            "pack circulated",
            "SELECT count(*) FROM outbox WHERE kind = 'meeting_pack' AND status = 'sent'",
            members.len() as i64,
            &daemons,
        )
        .await;
    cycle.until_sent("everything sent", &daemons).await;
    daemons.stop();

    // 8. After the meeting: nothing more fires, nothing is left pending.
    let fired = cycle.json(
        "2023-12-14T09:00:00Z",
        &["schedule", "run", "--once", "--json"],
    );
    let jobs = cycle.json("2023-12-14T09:00:00Z", &["schedule", "list", "--json"]);
    assert!(
        jobs.as_array()
            .unwrap()
            .iter()
            .all(|j| j["status"] != "pending"),
        "{jobs}\n{fired}"
    );
    // That pass queued 14 December's digest for the secretariat (the meeting's mail of
    // the day before), which no daemon is left to send.
    assert_eq!(fired["digests"], 1, "{fired}");
    assert_eq!(
        cycle
            .count(
                "SELECT count(*) FROM outbox WHERE status NOT IN ('sent')
                   AND NOT (kind = 'digest' AND created_at >= '2023-12-14')"
            )
            .await,
        0,
        "every email was sent"
    );

    // Every mailbox: each kind exactly as often as it should be.
    let requested: BTreeSet<String> = requests_to(&cycle.sent("update_request").await);
    let chasers: BTreeSet<String> = requests_to(&cycle.sent("chaser").await);
    let action_packs: BTreeSet<String> = requests_to(&cycle.sent("action_pack").await);
    // An organisation's actions go to its members, not to the secretariat.
    let secretariat_addresses: Vec<String> = sqlx::query_scalar(
        "SELECT a.address FROM members m
         JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
         WHERE 'secretariat' = ANY(m.roles)",
    )
    .fetch_all(&cycle.pool)
    .await
    .unwrap();
    assert!(!secretariat_addresses.is_empty());
    for address in &secretariat_addresses {
        assert!(
            !action_packs.contains(address),
            "{address} got an action pack"
        );
    }
    for (address, organisation) in &members {
        let mails = support::wait_for_messages(address, "INBOX", 1, WAIT).await;
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        let mut pack_attachments = Vec::new();
        let mut pack_body = String::new();
        for mail in mails.iter().map(|raw| parse(raw)) {
            let kind = kind_of(&mail.subject);
            *kinds.entry(kind).or_default() += 1;
            if kind == "meeting_pack" {
                pack_attachments = mail.attachments.clone();
                pack_body = mail.body.clone();
            }
        }
        let expect = |kind: &str, n: usize| {
            assert_eq!(
                kinds.get(kind).copied().unwrap_or(0),
                n,
                "{address} ({organisation:?}): {kind} in {kinds:?}"
            );
        };
        // The pack shows the register: who sent apologies and who comes in their place.
        assert!(
            pack_body.contains("Apologies:")
                && pack_body.contains("Mark Rowley (Lynne Owens attends in their place)")
                && pack_body.contains("Sadiq Khan (Sophie Linden attends in their place)")
                && pack_body.contains("Kilvinder Vigurs"),
            "{address}: {pack_body}"
        );
        expect("invitation", 2);
        expect(
            "attendance_recorded",
            usize::from([&mark, &kilvinder, &sadiq].contains(&address)),
        );
        expect("circulation", 1);
        expect("meeting_pack", 1);
        expect("update_request", usize::from(requested.contains(address)));
        expect("chaser", usize::from(chasers.contains(address)));
        expect("action_pack", usize::from(action_packs.contains(address)));
        assert!(
            pack_attachments
                .iter()
                .any(|a| a == "CPS South update.docx"),
            "{address}: the pack carries the .docx update: {pack_attachments:?}"
        );
        if let Some(org) = organisation {
            if requested.contains(address) {
                assert!(asked.contains(org), "{address} of {org} was asked");
            }
            if chasers.contains(address) {
                assert!(outstanding.contains(org), "{address} of {org} was chased");
            }
        }
    }

    // 9. The next day the December draft arrives. It lists Mark Rowley, who declined, as
    //    present, and not Lynne Owens, who was to come in his place: the approval request
    //    names both against the register.
    let daemons = cycle.daemons("9-december-draft", "2023-12-14T10:00:00Z", 1);
    let december = december_draft(&cycle.secretariat, &cycle.board, &cycle.unique);
    support::smtp_send(&cycle.secretariat, &[&cycle.board], &december).await;
    let request = received_where(&cycle.secretariat, "approval_request", |m| {
        m.subject.contains("minutes") && m.subject.contains("13 December 2023")
    })
    .await;
    daemons.stop();
    for disagreement in [
        "attendance register: Mark Rowley is listed as present but sent apologies",
        "attendance register: Lynne Owens was to attend for Mark Rowley but is not listed as present",
    ] {
        assert!(
            request.body.contains(disagreement),
            "{disagreement}: {}",
            request.body
        );
    }
    for agreed in ["Sadiq Khan", "Kilvinder Vigurs"] {
        assert!(
            !request.body.contains(&format!("register: {agreed}")),
            "{agreed} is listed as the register says: {}",
            request.body
        );
    }
}

/// Draft minutes of the December meeting as a plain-text attachment, from the
/// secretariat.
fn december_draft(from: &str, to: &str, unique: &str) -> Vec<u8> {
    let minutes = "London Criminal Justice Board\r\n\
Minutes of the meeting held on Wednesday 13 December 2023 at 10:30, City Hall\r\n\r\n\
Present\r\n\
- Sophie Linden, DMPC (Chair)\r\n\
- Mark Rowley, MPS\r\n\
- Claire Waxman, Independent Victims' Commissioner for London\r\n\
Apologies\r\n\
- Sadiq Khan, Mayor of London\r\n\
- Kilvinder Vigurs, HMPPS Probation\r\n\r\n\
1. Welcome, minutes and previous actions\r\n\
The minutes of the meeting of 20 September were agreed.\r\n\
2. Diversion Strategy\r\n\
MOPAC presented the final Diversion Strategy. MOPAC to publish the strategy by the end of January.\r\n";
    format!(
        "From: LCJB Secretariat <{from}>\r\nTo: {to}\r\n\
Subject: LCJB draft minutes 13.12.2023 for approval\r\n\
Date: Thu, 14 Dec 2023 10:00:05 +0000\r\nMessage-ID: <draft-minutes-1213.{unique}@mopac.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b_december\"\r\n\r\n\
--b_december\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Dear all,\r\n\r\nPlease find attached the draft minutes of the meeting held on 13 December.\r\n\r\n\
--b_december\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Disposition: attachment; filename=\"LCJB Minutes 13.12.2023 DRAFT.txt\"\r\n\r\n\
{minutes}\r\n--b_december--\r\n"
    )
    .into_bytes()
}

fn requests_to(rows: &[(String, Option<String>)]) -> BTreeSet<String> {
    rows.iter().map(|(a, _)| a.clone()).collect()
}
