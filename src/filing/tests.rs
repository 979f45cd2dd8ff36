//! The decision function against the example board (`deploy/examples/lcjb.toml`) on
//! 1 December 2023: between the September meeting and the December one, before the
//! December papers deadline (6 December).

use std::path::Path;

use chrono::{DateTime, Utc};

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    at("2023-12-01T09:00:00Z")
}

fn registry() -> Registry {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
    let mut registry = Registry::from_file(&crate::registry::load(&path).unwrap());
    registry.actions = vec![
        Action {
            reference: "LCJB-A17".into(),
            owner_organisation: Some("MPS".into()),
            owner_member: None,
            open: true,
        },
        Action {
            reference: "LCJB-A3".into(),
            owner_organisation: Some("HMPPS Probation".into()),
            owner_member: Some("Leah Simms".into()),
            open: true,
        },
    ];
    registry
}

fn message(from: &str, subject: &str, body: &str) -> Message {
    Message {
        from: Some(from.into()),
        to: vec!["lcjb@board.example".into()],
        subject: Some(subject.into()),
        body_text: Some(body.into()),
        ..Message::default()
    }
}

fn attachment(name: &str) -> Attachment {
    Attachment {
        filename: Some(name.into()),
        content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            .into(),
        first_lines: None,
    }
}

const PROBATION: &str = "kilvinder.vigurs@probation.justice.example";
const MPS: &str = "nick.john@met.example";
const CPS_SOUTH: &str = "lionel.idan@south.cps.example";
const SECRETARIAT: &str = "lcjb-secretariat@mopac.example";
const MOPAC: &str = "will.balakrishnan@mopac.example";
const VCL: &str = "claire.waxman@vcl.example";
const DEC: &str = "LCJB-2023-12-13";
const SEP: &str = "LCJB-2023-09-20";

/// What a case expects; `None` fields are not checked, `reasons` must each appear as a
/// fragment of some reason.
#[derive(Default)]
struct Expect {
    kind: Option<Kind>,
    meeting: Option<Option<&'static str>>,
    item: Option<Option<&'static str>>,
    action: Option<Option<&'static str>>,
    organisation: Option<Option<&'static str>>,
    member: Option<Option<&'static str>>,
    disposition: Option<Disposition>,
    reasons: &'static [&'static str],
    not_reasons: &'static [&'static str],
}

struct Case {
    name: &'static str,
    message: Message,
    sent: Sent,
    now: DateTime<Utc>,
    expect: Expect,
}

fn case(name: &'static str, message: Message, expect: Expect) -> Case {
    Case {
        name,
        message,
        sent: Sent::default(),
        now: now(),
        expect,
    }
}

fn check(cases: Vec<Case>) {
    let registry = registry();
    let mut failures = Vec::new();
    for c in cases {
        let d = decide(&c.message, &registry, &c.sent, c.now, DEFAULT_THRESHOLD);
        let e = &c.expect;
        let mut wrong = Vec::new();
        if let Some(kind) = e.kind {
            if d.kind != kind {
                wrong.push(format!("kind {} (expected {kind})", d.kind));
            }
        }
        let fields = [
            ("meeting", e.meeting, &d.meeting),
            ("item", e.item, &d.item),
            ("action", e.action, &d.action),
            ("organisation", e.organisation, &d.organisation),
            ("member", e.member, &d.member),
        ];
        for (name, expected, actual) in fields {
            if let Some(expected) = expected {
                if actual.as_deref() != expected {
                    wrong.push(format!("{name} {actual:?} (expected {expected:?})"));
                }
            }
        }
        if let Some(disposition) = e.disposition {
            if d.disposition != disposition {
                wrong.push(format!(
                    "disposition {:?} at {} (expected {disposition:?})",
                    d.disposition, d.confidence
                ));
            }
        }
        for fragment in e.reasons {
            if !d.reasons.iter().any(|r| r.contains(fragment)) {
                wrong.push(format!("no reason containing {fragment:?}"));
            }
        }
        for fragment in e.not_reasons {
            if d.reasons.iter().any(|r| r.contains(fragment)) {
                wrong.push(format!("a reason contains {fragment:?}"));
            }
        }
        if d.reasons.is_empty() {
            wrong.push("no reasons".into());
        }
        if !(0.0..=1.0).contains(&d.confidence) {
            wrong.push(format!("confidence {} out of range", d.confidence));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n    decision: {}",
                c.name,
                wrong.join("; "),
                serde_json::to_string_pretty(&d)
                    .unwrap()
                    .replace('\n', "\n    ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

fn filed_update(
    meeting: &'static str,
    item: Option<&'static str>,
    organisation: &'static str,
) -> Expect {
    Expect {
        kind: Some(Kind::WrittenUpdate),
        meeting: Some(Some(meeting)),
        item: Some(item),
        organisation: Some(Some(organisation)),
        disposition: Some(Disposition::Filed),
        ..Expect::default()
    }
}

#[test]
fn each_signal_alone_files_what_it_names() {
    check(vec![
        case(
            "subject tag and item",
            message(PROBATION, "[LCJB 2023-12-13] Written update – Item 2.b", "Please find our update attached."),
            Expect {
                member: Some(Some("Kilvinder Vigurs")),
                reasons: &["by the meeting tag", "sender kilvinder.vigurs@probation.justice.example is member Kilvinder Vigurs of HMPPS Probation", "names Item 2.b (2.b)"],
                ..filed_update(DEC, Some("2.b"), "HMPPS Probation")
            },
        ),
        case(
            "subject tag alone",
            message(CPS_SOUTH, "[LCJB 2023-12-13]", "Please find below our update for the board.\n\nRegards\nLionel"),
            Expect {
                reasons: &["by the meeting tag \"LCJB 2023-12-13\"", "CPS South leads item 4"],
                ..filed_update(DEC, Some("4"), "CPS South")
            },
        ),
        case(
            "action reference alone",
            message(MPS, "LCJB-A17", "Recruitment to the new IOM posts is complete."),
            Expect {
                kind: Some(Kind::ActionUpdate),
                meeting: Some(Some(DEC)),
                action: Some(Some("LCJB-A17")),
                organisation: Some(Some("MPS")),
                disposition: Some(Disposition::Filed),
                reasons: &["the subject names action LCJB-A17", "LCJB-A17 is owned by MPS"],
                ..Expect::default()
            },
        ),
        case(
            "item reference alone",
            message(CPS_SOUTH, "Agenda item 4", "Attached."),
            Expect {
                reasons: &["names Item 4 (4)"],
                ..filed_update(DEC, Some("4"), "CPS South")
            },
        ),
        case(
            "item written with a dot and a capital",
            message(PROBATION, "Item 2.B update", "Attached."),
            filed_update(DEC, Some("2.b"), "HMPPS Probation"),
        ),
        case(
            "a meeting date written out",
            message(VCL, "Update for the 13th December meeting", "Our update is below."),
            Expect {
                reasons: &["by the date \"13th December\""],
                ..filed_update(DEC, None, "VCL")
            },
        ),
        case(
            "a numeric meeting date in the text",
            message(VCL, "Victims update", "Our update for the board on 13/12/2023 is below."),
            Expect {
                reasons: &["the text names LCJB-2023-12-13 by the date \"13/12/2023\""],
                ..filed_update(DEC, None, "VCL")
            },
        ),
        case(
            "the next meeting whose papers window is open",
            message(VCL, "Victims' Commissioner written update", "Please find attached."),
            Expect {
                reasons: &["nothing names a meeting: the next one is LCJB-2023-12-13 (papers due 2023-12-06)"],
                ..filed_update(DEC, None, "VCL")
            },
        ),
        case(
            "a domain of an organisation without the member",
            message("duty.officer@met.example", "Written update", "Please see attached."),
            Expect {
                member: Some(None),
                reasons: &["sender's domain met.example belongs to MPS", "MPS leads item 3"],
                ..filed_update(DEC, Some("3"), "MPS")
            },
        ),
        case(
            "a subdomain of an organisation's domain",
            message("analyst@intel.met.example", "Written update", "Please see attached."),
            filed_update(DEC, Some("3"), "MPS"),
        ),
        case(
            "an attachment name alone",
            Message {
                attachments: vec![attachment("HMPPS Probation - written update - HMIP recommendations.docx")],
                ..message(PROBATION, "", "")
            },
            Expect {
                reasons: &["attachment \"HMPPS Probation - written update - HMIP recommendations.docx\" says written update"],
                ..filed_update(DEC, Some("2.b"), "HMPPS Probation")
            },
        ),
        case(
            "an item named by its title",
            message(MOPAC, "Final Diversion Strategy paper", "Attached for the board."),
            Expect {
                reasons: &["matches the title of item 2.c"],
                ..filed_update(DEC, Some("2.c"), "MOPAC")
            },
        ),
    ]);
}

#[test]
fn the_organisation_item_is_used_only_when_it_leads_exactly_one() {
    check(vec![
        case(
            "MPS leads one item in December",
            message(MPS, "Written update", "Attached."),
            Expect {
                reasons: &["MPS leads item 3, and the message names none"],
                ..filed_update(DEC, Some("3"), "MPS")
            },
        ),
        case(
            "MOPAC leads four",
            message(MOPAC, "Written update", "Attached."),
            Expect {
                reasons: &["MOPAC leads several (1, 2, 2.a, 2.c)"],
                ..filed_update(DEC, None, "MOPAC")
            },
        ),
        case(
            "VCL leads none",
            message(VCL, "Written update", "Attached."),
            Expect {
                reasons: &["VCL leads none on LCJB-2023-12-13"],
                ..filed_update(DEC, None, "VCL")
            },
        ),
    ]);
}

#[test]
fn unknown_senders_are_quarantined_with_a_best_guess() {
    check(vec![
        case(
            "an update from a personal address",
            message("kris.v.1975@gmail.example", "[LCJB 2023-12-13] Written update", "Our update."),
            Expect {
                kind: Some(Kind::WrittenUpdate),
                meeting: Some(Some(DEC)),
                organisation: Some(None),
                disposition: Some(Disposition::Quarantined),
                reasons: &["not known to the registry: quarantined"],
                ..Expect::default()
            },
        ),
        case(
            "the display name of a member on an unknown address",
            Message {
                from_name: Some("Kris Venkatasami".into()),
                ..message("kris.v.1975@gmail.example", "Update", "Sent from my phone")
            },
            Expect {
                disposition: Some(Disposition::Quarantined),
                reasons: &["the display name matches member Kris Venkatasami, but the address is not theirs"],
                ..Expect::default()
            },
        ),
        case(
            "spam",
            message("winner@prizes.example", "Congratulations! You have won", "You have won the lottery. Click here to claim your prize."),
            Expect {
                kind: Some(Kind::Unrelated),
                disposition: Some(Disposition::Quarantined),
                reasons: &["spam wording"],
                ..Expect::default()
            },
        ),
        case(
            "nothing at all",
            Message::default(),
            Expect {
                kind: Some(Kind::Unrelated),
                disposition: Some(Disposition::Quarantined),
                reasons: &["no From address"],
                ..Expect::default()
            },
        ),
        case(
            "the board's own address",
            message("lcjb@board.example", "Written update", "Attached."),
            Expect {
                kind: Some(Kind::Unrelated),
                disposition: Some(Disposition::Quarantined),
                reasons: &["from the board's own address"],
                ..Expect::default()
            },
        ),
        case(
            "a member address failing DMARC",
            Message {
                headers: Headers {
                    authentication_results: Some("mx.board.example; spf=fail smtp.mailfrom=met.example; dmarc=fail header.from=met.example".into()),
                    ..Headers::default()
                },
                ..message(MPS, "Written update", "Please see attached.")
            },
            Expect {
                disposition: Some(Disposition::Quarantined),
                reasons: &["dmarc=fail", "failed authentication"],
                ..Expect::default()
            },
        ),
    ]);
}

#[test]
fn bounces_and_automatic_replies_are_never_updates_or_approvals() {
    let mut chaser_sent = Sent::default();
    chaser_sent.message_ids.insert(
        "chaser-17@board.example".into(),
        SentMessage {
            kind: SentKind::UpdateChaser,
            outbox_id: Some(17),
            meeting: Some(DEC.into()),
            member: Some("Kilvinder Vigurs".into()),
            recipient: Some(PROBATION.into()),
            ..SentMessage::default()
        },
    );
    chaser_sent.bounce_tokens.insert(
        "b-17-x9".into(),
        SentMessage {
            kind: SentKind::UpdateChaser,
            outbox_id: Some(17),
            meeting: Some(DEC.into()),
            member: Some("Kilvinder Vigurs".into()),
            recipient: Some(PROBATION.into()),
            ..SentMessage::default()
        },
    );
    let dsn = Dsn {
        recipients: vec![DsnRecipient {
            address: Some("rfc822;kilvinder.vigurs@probation.justice.example".into()),
            action: Some("failed".into()),
            status: Some("5.1.1".into()),
            diagnostic: Some("smtp; 550 5.1.1 user unknown".into()),
        }],
        original_message_id: Some("<chaser-17@board.example>".into()),
    };
    let ooo = |subject: &str| Case {
        name: "out of office",
        message: Message {
            in_reply_to: Some("chaser-17@board.example".into()),
            ..message(
                PROBATION,
                subject,
                "I am out of the office until 4 December with limited access to email.",
            )
        },
        sent: chaser_sent.clone(),
        now: now(),
        expect: Expect {
            kind: Some(Kind::AutoReply),
            organisation: Some(Some("HMPPS Probation")),
            disposition: Some(Disposition::Filed),
            ..Expect::default()
        },
    };
    let mut cases = vec![
        Case {
            name: "a delivery-status notification",
            message: Message {
                dsn: Some(dsn.clone()),
                ..message("MAILER-DAEMON@board.example", "Undelivered Mail Returned to Sender", "This is the mail system at host board.example.")
            },
            sent: chaser_sent.clone(),
            now: now(),
            expect: Expect {
                kind: Some(Kind::Bounce),
                member: Some(Some("Kilvinder Vigurs")),
                organisation: Some(Some("HMPPS Probation")),
                meeting: Some(Some(DEC)),
                disposition: Some(Disposition::Filed),
                reasons: &["a delivery-status notification: failed rfc822;kilvinder.vigurs@probation.justice.example (5.1.1)", "the report is about our chaser"],
                ..Expect::default()
            },
        },
        Case {
            name: "a bounce to the VERP address without a report",
            message: Message {
                to: vec!["lcjb+b-17-x9@board.example".into()],
                ..message("postmaster@probation.justice.example", "Undeliverable: [LCJB 2023-12-13] Written update reminder", "Delivery has failed to these recipients.")
            },
            sent: chaser_sent.clone(),
            now: now(),
            expect: Expect {
                kind: Some(Kind::Bounce),
                member: Some(Some("Kilvinder Vigurs")),
                disposition: Some(Disposition::Filed),
                reasons: &["sent to the bounce address of our chaser"],
                ..Expect::default()
            },
        },
        case(
            "a bounce recognised by its wording and sender",
            message("MAILER-DAEMON@mx.example", "Mail delivery failed: returning message to sender", "A message that you sent could not be delivered to one or more of its recipients."),
            Expect {
                kind: Some(Kind::Bounce),
                disposition: Some(Disposition::Filed),
                reasons: &["from the mail system", "the subject says \"mail delivery failed\""],
                ..Expect::default()
            },
        ),
        case(
            "Auto-Submitted on an update-looking message",
            Message {
                headers: Headers {
                    auto_submitted: Some("auto-generated".into()),
                    ..Headers::default()
                },
                ..message(MPS, "Written update", "Please find attached our written update.")
            },
            Expect {
                kind: Some(Kind::AutoReply),
                reasons: &["Auto-Submitted: auto-generated"],
                ..Expect::default()
            },
        ),
        case(
            "Precedence bulk",
            Message {
                headers: Headers {
                    precedence: Some("bulk".into()),
                    ..Headers::default()
                },
                ..message(MPS, "Re: Written update", "Thanks")
            },
            Expect {
                kind: Some(Kind::AutoReply),
                ..Expect::default()
            },
        ),
        case(
            "X-Autoreply",
            Message {
                headers: Headers {
                    x_autoreply: Some("yes".into()),
                    ..Headers::default()
                },
                ..message(CPS_SOUTH, "Re: Item 4", "Thanks for your message.")
            },
            Expect {
                kind: Some(Kind::AutoReply),
                ..Expect::default()
            },
        ),
        case(
            "a mailing list",
            Message {
                headers: Headers {
                    precedence: Some("list".into()),
                    list_id: Some("<cjs-news.justice.example>".into()),
                    ..Headers::default()
                },
                ..message("news@justice.example", "CJS newsletter: update on courts", "This month's update.")
            },
            Expect {
                kind: Some(Kind::Unrelated),
                reasons: &["mailing list"],
                ..Expect::default()
            },
        ),
        case(
            "the mail server's spam flag",
            Message {
                headers: Headers {
                    x_spam_flag: Some("YES".into()),
                    ..Headers::default()
                },
                ..message(MPS, "Written update", "Attached.")
            },
            Expect {
                kind: Some(Kind::Unrelated),
                reasons: &["marked it as spam"],
                ..Expect::default()
            },
        ),
    ];
    for subject in [
        "Out of Office: [LCJB 2023-12-13] Written update reminder",
        "Automatic reply: [LCJB 2023-12-13] Written update reminder",
        "Abwesenheitsnotiz: [LCJB 2023-12-13] Written update reminder",
        "Réponse automatique : [LCJB 2023-12-13] Written update reminder",
        "Respuesta automática: [LCJB 2023-12-13] Written update reminder",
        "Risposta automatica: [LCJB 2023-12-13] Written update reminder",
        "Automatisch antwoord: [LCJB 2023-12-13] Written update reminder",
    ] {
        cases.push(ooo(subject));
    }
    check(cases);
}

#[test]
fn replies_to_our_own_mail_follow_what_we_sent() {
    let mut sent = Sent::default();
    sent.reply_tokens.insert(
        "ap.k3j2h4".into(),
        SentMessage {
            kind: SentKind::ApprovalRequest,
            outbox_id: Some(41),
            meeting: Some(SEP.into()),
            member: Some("LCJB Secretariat".into()),
            recipient: Some(SECRETARIAT.into()),
            ..SentMessage::default()
        },
    );
    sent.message_ids.insert(
        "pack-3@board.example".into(),
        SentMessage {
            kind: SentKind::ActionPack,
            outbox_id: Some(52),
            meeting: Some(DEC.into()),
            action: Some("LCJB-A3".into()),
            member: Some("Leah Simms".into()),
            ..SentMessage::default()
        },
    );
    sent.message_ids.insert(
        "request-9@board.example".into(),
        SentMessage {
            kind: SentKind::UpdateRequest,
            outbox_id: Some(9),
            meeting: Some(DEC.into()),
            item: Some("2.b".into()),
            member: Some("Kilvinder Vigurs".into()),
            ..SentMessage::default()
        },
    );
    sent.message_ids.insert(
        "ack-77@board.example".into(),
        SentMessage {
            kind: SentKind::Acknowledgement,
            outbox_id: Some(77),
            meeting: Some(DEC.into()),
            item: Some("2.b".into()),
            member: Some("Kilvinder Vigurs".into()),
            recipient: Some(PROBATION.into()),
            about_message: Some(12),
            ..SentMessage::default()
        },
    );
    let with = |name: &'static str, message: Message, expect: Expect| Case {
        name,
        message,
        sent: sent.clone(),
        now: now(),
        expect,
    };
    check(vec![
        with(
            "an approval by reply token",
            Message {
                to: vec!["LCJB Board <lcjb+ap.k3j2h4@board.example>".into()],
                ..message(SECRETARIAT, "Re: Approval request: draft minutes LCJB-2023-09-20", "APPROVE\n\nSent from my iPhone")
            },
            Expect {
                kind: Some(Kind::ApprovalReply),
                meeting: Some(Some(SEP)),
                disposition: Some(Disposition::Filed),
                reasons: &["sent to the reply token of our approval request (LCJB-2023-09-20, to LCJB Secretariat, outbox #41)"],
                ..Expect::default()
            },
        ),
        with(
            "an approval from someone who does not approve stays filed for the approval step to refuse",
            Message {
                to: vec!["lcjb+ap.k3j2h4@board.example".into()],
                ..message(MPS, "Re: Approval request: draft minutes", "Approved")
            },
            Expect {
                kind: Some(Kind::ApprovalReply),
                disposition: Some(Disposition::Filed),
                reasons: &["not a chair or secretariat member"],
                ..Expect::default()
            },
        ),
        with(
            "an action pack reply threaded by References",
            Message {
                references: vec!["<other@x.example>".into(), "<pack-3@board.example>".into()],
                ..message("leah.simms@probation.justice.example", "RE: Your LCJB actions", "Done - recruitment completed in November.\n\nLeah")
            },
            Expect {
                kind: Some(Kind::ActionUpdate),
                action: Some(Some("LCJB-A3")),
                meeting: Some(Some(DEC)),
                organisation: Some(Some("HMPPS Probation")),
                disposition: Some(Disposition::Filed),
                reasons: &["replies to our action pack", "LCJB-A3 is owned by HMPPS Probation"],
                ..Expect::default()
            },
        ),
        with(
            "a phone reply to our request for updates",
            Message {
                in_reply_to: Some("<request-9@board.example>".into()),
                attachments: vec![attachment("IMG_0042.docx")],
                ..message(PROBATION, "Re: [LCJB 2023-12-13] Written updates due 6 December", "Attached\n\nSent from my iPhone\n\n> On 20 Nov 2023, at 09:00, LCJB Secretariat <lcjb@board.example> wrote:\n> Please send your written update for Item 2.b")
            },
            Expect {
                reasons: &["a reply to our request for written updates", "our request for written updates was about item 2.b"],
                ..filed_update(DEC, Some("2.b"), "HMPPS Probation")
            },
        ),
        with(
            "a correction in reply to an acknowledgement",
            Message {
                in_reply_to: Some("ack-77@board.example".into()),
                ..message(PROBATION, "Re: Received: your written update", "WRONG ITEM 2c\n\nKilvinder")
            },
            Expect {
                kind: Some(Kind::Unrelated),
                disposition: Some(Disposition::Filed),
                reasons: &["asks to re-file message 12 against item 2c"],
                ..Expect::default()
            },
        ),
        with(
            "a correction from someone else is not honoured",
            Message {
                in_reply_to: Some("ack-77@board.example".into()),
                ..message(MPS, "Re: Received: your written update", "WRONG ITEM 2c")
            },
            Expect {
                reasons: &["not from the person we acknowledged"],
                ..Expect::default()
            },
        ),
        with(
            "an unknown reply token",
            Message {
                to: vec!["lcjb+zzz@board.example".into()],
                ..message(PROBATION, "Re: Written update", "Our update is attached.")
            },
            Expect {
                reasons: &["addressed to reply token zzz, which matches nothing we sent"],
                ..filed_update(DEC, Some("2.b"), "HMPPS Probation")
            },
        ),
    ]);
    let correction = decide(
        &Message {
            in_reply_to: Some("ack-77@board.example".into()),
            ..message(PROBATION, "Re: Received", "wrong item 2.c")
        },
        &registry(),
        &sent,
        now(),
        DEFAULT_THRESHOLD,
    );
    assert_eq!(
        correction.correction,
        Some(Correction {
            message: 12,
            item: "2c".into()
        })
    );
    assert_eq!(correction.outbox_id, Some(77));
}

#[test]
fn forwarded_messages_are_filed_to_the_original_agency() {
    check(vec![
        case(
            "Gmail forward by the secretariat",
            message(SECRETARIAT, "Fwd: Written update item 2b", "FYI - for the pack.\n\n---------- Forwarded message ---------\nFrom: Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>\nDate: Thu, 30 Nov 2023 at 17:01\nSubject: Written update item 2b\nTo: <lcjb-secretariat@mopac.example>\n\nPlease find our update on the HMIP recommendations.\n"),
            Expect {
                member: Some(Some("Kilvinder Vigurs")),
                reasons: &["forwarded by the secretariat (LCJB Secretariat); the original sender is Kilvinder Vigurs of HMPPS Probation"],
                ..filed_update(DEC, Some("2.b"), "HMPPS Probation")
            },
        ),
        case(
            "Outlook forward by the secretariat, name only",
            message("tamara.barnett@mopac.example", "FW: Case file quality pilot", "See below.\n\n________________________________\nFrom: Twist, Matt\nSent: 29 November 2023 16:40\nTo: Barnett, Tamara\nSubject: Case file quality pilot - written update\n\nTamara, our written update on the pilot is below.\n"),
            Expect {
                member: Some(Some("Matt Twist")),
                ..filed_update(DEC, Some("3"), "MPS")
            },
        ),
        case(
            "an agency forwarding a colleague keeps its own organisation",
            message(MPS, "Fwd: update", "Forwarding Jo's note.\n\n---------- Forwarded message ---------\nFrom: Jo Towens <jo.towens@hmcts.example>\nSubject: update\n\nHarrow update.\n"),
            Expect {
                organisation: Some(Some("MPS")),
                reasons: &["forwards a message from Jo Towens of HMCTS"],
                ..Expect::default()
            },
        ),
        case(
            "a forward from an unknown original",
            message(SECRETARIAT, "Fwd: Written update", "---------- Forwarded message ---------\nFrom: Someone <someone@elsewhere.example>\nSubject: Written update\n\nUpdate.\n"),
            Expect {
                disposition: Some(Disposition::Triage),
                reasons: &["whom the registry does not know"],
                ..Expect::default()
            },
        ),
    ]);
}

#[test]
fn draft_minutes_come_from_the_secretariat_and_look_back() {
    check(vec![
        case(
            "draft minutes naming the meeting",
            Message {
                attachments: vec![attachment("LCJB minutes 20 September 2023 DRAFT.docx")],
                ..message(SECRETARIAT, "Draft minutes – LCJB 20 September 2023", "Attendees\nApologies\nThe date of the next meeting is Wednesday 13th December.")
            },
            Expect {
                kind: Some(Kind::DraftMinutes),
                meeting: Some(Some(SEP)),
                organisation: Some(Some("MOPAC")),
                item: Some(None),
                disposition: Some(Disposition::Filed),
                reasons: &["says draft minutes", "LCJB-2023-12-13 has not been held yet"],
                ..Expect::default()
            },
        ),
        case(
            "draft minutes naming no meeting",
            Message {
                attachments: vec![attachment("Draft minutes.docx")],
                ..message(SECRETARIAT, "Draft minutes for approval", "Please find the draft minutes attached.")
            },
            Expect {
                kind: Some(Kind::DraftMinutes),
                meeting: Some(Some(SEP)),
                disposition: Some(Disposition::Filed),
                reasons: &["the last one held is LCJB-2023-09-20"],
                ..Expect::default()
            },
        ),
        case(
            "minutes from an agency are not filed as draft minutes",
            Message {
                attachments: vec![attachment("Draft minutes - CPS comments.docx")],
                ..message(CPS_SOUTH, "Draft minutes", "Our comments on the draft minutes.")
            },
            Expect {
                reasons: &["minutes come from the secretariat, and this sender is not"],
                disposition: Some(Disposition::Triage),
                ..Expect::default()
            },
        ),
    ]);
}

#[test]
fn conflicting_signals_lower_confidence_and_say_so() {
    check(vec![
        case(
            "two past meetings named by tags",
            Message {
                attachments: vec![attachment("Draft minutes LCJB 2023-02-01.docx")],
                ..message(SECRETARIAT, "Draft minutes [LCJB 2023-09-20]", "Attached.")
            },
            Expect {
                kind: Some(Kind::DraftMinutes),
                meeting: Some(Some(SEP)),
                disposition: Some(Disposition::Triage),
                reasons: &["conflicting: attachment \"Draft minutes LCJB 2023-02-01.docx\" names LCJB-2023-02-01"],
                ..Expect::default()
            },
        ),
        case(
            "a tie between two items goes to the first named, in triage",
            message(VCL, "Written update: Item 2.b and Item 4", "Attached."),
            Expect {
                kind: Some(Kind::WrittenUpdate),
                item: Some(Some("2.b")),
                disposition: Some(Disposition::Triage),
                reasons: &["names 2 items (2.b, 4): filed against 2.b"],
                ..Expect::default()
            },
        ),
        case(
            "two items, one led by the sender",
            message(CPS_SOUTH, "Written update: Items 2.b and 4", "Attached."),
            Expect {
                item: Some(Some("4")),
                disposition: Some(Disposition::Triage),
                reasons: &["CPS South leads item 4", "names 2 items (2.b, 4): filed against 4"],
                ..Expect::default()
            },
        ),
        case(
            "the subject's item outweighs one in the text",
            message(PROBATION, "Written update – Item 2.b", "Our update. It also touches on item 4."),
            Expect {
                reasons: &["conflicting: the text names Item 4"],
                ..filed_update(DEC, Some("2.b"), "HMPPS Probation")
            },
        ),
        case(
            "an update tagged for a meeting already held",
            message(MPS, "[LCJB 2023-09-20] Written update", "Attached."),
            Expect {
                meeting: Some(Some(SEP)),
                disposition: Some(Disposition::Triage),
                reasons: &["LCJB-2023-09-20 has already been held"],
                ..Expect::default()
            },
        ),
        case(
            "a past meeting mentioned in the text of an update for the next",
            message(MPS, "[LCJB 2023-12-13] Written update", "As agreed at the meeting on 20 September, our update is below."),
            Expect {
                reasons: &["conflicting: the text names LCJB-2023-09-20"],
                ..filed_update(DEC, Some("3"), "MPS")
            },
        ),
        case(
            "an action owned by another organisation",
            message(VCL, "LCJB-A17 update", "Done."),
            Expect {
                kind: Some(Kind::ActionUpdate),
                action: Some(Some("LCJB-A17")),
                disposition: Some(Disposition::Triage),
                reasons: &["conflicting: LCJB-A17 is owned by MPS, not VCL"],
                ..Expect::default()
            },
        ),
        case(
            "an action not in the register",
            message(MPS, "LCJB-A99 update", "Done."),
            Expect {
                kind: Some(Kind::ActionUpdate),
                disposition: Some(Disposition::Triage),
                reasons: &["LCJB-A99 is not in the action register"],
                ..Expect::default()
            },
        ),
        case(
            "a tag naming no meeting falls back to the next",
            message(MPS, "[LCJB 2023-12-14] Written update", "Attached."),
            Expect {
                reasons: &["carries the tag \"LCJB 2023-12-14\", which is no meeting of the board", "nothing names a meeting"],
                ..filed_update(DEC, Some("3"), "MPS")
            },
        ),
        case(
            "an action update mentioning its action in the subject and an item",
            message(PROBATION, "LCJB-A3: Item 2.b", "Update: complete."),
            Expect {
                action: Some(Some("LCJB-A3")),
                item: Some(Some("2.b")),
                ..Expect::default()
            },
        ),
    ]);
}

#[test]
fn quoted_text_does_not_decide_the_item() {
    check(vec![case(
        "a reply naming its own item over the quoted one",
        message(CPS_SOUTH, "Re: Written updates due", "Our update on item 4 is attached.\n\nOn Mon, 20 Nov 2023 at 09:00, LCJB Secretariat <lcjb@board.example> wrote:\n> Item 2.b and Item 3 are due\n"),
        Expect {
            not_reasons: &["Item 2.b", "Item 3"],
            ..filed_update(DEC, Some("4"), "CPS South")
        },
    )]);
}

#[test]
fn late_updates_still_go_to_the_next_meeting() {
    check(vec![Case {
        name: "after the papers deadline",
        message: message(VCL, "Written update", "Apologies for the delay."),
        sent: Sent::default(),
        now: at("2023-12-08T09:00:00Z"),
        expect: Expect {
            reasons: &["papers were due 2023-12-06"],
            ..filed_update(DEC, None, "VCL")
        },
    }]);
}

#[test]
fn a_known_sender_naming_nothing_goes_to_triage_as_a_likely_update() {
    check(vec![case(
        "no cues",
        message(VCL, "Quick question", "Can we talk tomorrow?"),
        Expect {
            kind: Some(Kind::WrittenUpdate),
            disposition: Some(Disposition::Triage),
            reasons: &["nothing names a kind"],
            ..Expect::default()
        },
    )]);
}

#[test]
fn inactive_members_and_organisations_lower_confidence() {
    let mut registry = registry();
    for m in &mut registry.members {
        if m.name == "Jo Towens" {
            m.active = false;
        }
    }
    let d = decide(
        &message("jo.towens@hmcts.example", "Written update", "Attached."),
        &registry,
        &Sent::default(),
        now(),
        DEFAULT_THRESHOLD,
    );
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("no longer an active member")),
        "{d:?}"
    );
    assert_eq!(d.organisation.as_deref(), Some("HMCTS"));
    assert!(d.confidence <= 0.8);
}

#[test]
fn the_threshold_decides_between_filed_and_triage() {
    let m = message(VCL, "Victims' Commissioner written update", "Attached.");
    let registry = registry();
    let lenient = decide(&m, &registry, &Sent::default(), now(), 0.5);
    let strict = decide(&m, &registry, &Sent::default(), now(), 0.99);
    assert_eq!(lenient.disposition, Disposition::Filed);
    assert_eq!(strict.disposition, Disposition::Triage);
    assert_eq!(lenient.confidence, strict.confidence);
}

#[test]
fn reply_tokens_and_thread_ids_are_read_from_the_headers() {
    let m = Message {
        to: vec![
            "\"LCJB\" <LCJB+Tok1@Board.Example>".into(),
            "other@x.example".into(),
        ],
        cc: vec!["lcjb+tok2@board.example".into()],
        delivered_to: vec![
            "lcjb+tok1@board.example".into(),
            "lcjbx+no@board.example".into(),
        ],
        in_reply_to: Some("<a@x>".into()),
        references: vec!["<c@x>".into(), "<b@x>".into(), "<a@x>".into()],
        ..Message::default()
    };
    assert_eq!(
        m.reply_tokens("lcjb@board.example"),
        vec!["Tok1", "tok2", "tok1"]
    );
    assert_eq!(m.thread_ids(), vec!["a@x", "b@x", "c@x"]);
    assert!(m.reply_tokens("not-an-address").is_empty());
}

#[test]
fn headers_are_read_from_ingestion_json_in_either_shape() {
    let h = Headers::from_json(&serde_json::json!({
        "auto_submitted": "auto-replied",
        "precedence": ["bulk", "junk"],
        "list_id": null,
        "x_autoreply": true,
    }));
    assert_eq!(h.auto_submitted.as_deref(), Some("auto-replied"));
    assert_eq!(h.precedence.as_deref(), Some("bulk"));
    assert_eq!(h.list_id, None);
    assert_eq!(h.x_autoreply.as_deref(), Some("true"));
    assert_eq!(
        Headers::from_json(&serde_json::json!("not an object")),
        Headers::default()
    );
}

#[test]
fn kinds_round_trip_through_their_names() {
    for kind in Kind::ALL {
        assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
    assert_eq!(Kind::parse("spam"), None);
}

/// A small deterministic generator: the same cases on every run, no extra crate.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }

    fn text(&mut self, parts: &[&str], max: u64) -> String {
        let n = self.next() % max;
        let mut out = String::new();
        for _ in 0..n {
            if self.next().is_multiple_of(5) {
                let c = char::from_u32((self.next() % 0x2_0000) as u32).unwrap_or('\u{fffd}');
                out.push(c);
            } else {
                out.push_str(self.pick(parts));
            }
        }
        out
    }
}

#[test]
fn arbitrary_input_never_panics_and_always_explains_itself() {
    const PARTS: &[&str] = &[
        "[LCJB ",
        "2023-12-13",
        "]",
        "Item ",
        "2.b",
        "2(",
        "LCJB-A",
        "17",
        " ",
        "\n",
        "> ",
        "On Mon wrote:",
        "From: ",
        "Sent: ",
        "To: ",
        "Subject: ",
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
        "<",
        ">",
        "@",
        "met.example",
        "lcjb+",
        "board.example",
        "Re: ",
        "Fwd: ",
        "Out of Office",
        "13th December",
        "31/02/2023",
        "99/99/9999",
        "Approved",
        "WRONG ITEM ",
        "é",
        "’",
        "\u{0}",
        "\r\n",
        "-- ",
        "Sent from my iPhone",
        "December 45",
        "item 999z",
        ",",
        "and ",
        "Vigurs, Kilvinder",
        "[mailto:",
        "_____",
        "Attendees",
        "Apologies",
        "draft minutes",
        "update",
    ];
    let registry = registry();
    let mut sent = Sent::default();
    sent.reply_tokens.insert(
        "17".into(),
        SentMessage {
            kind: SentKind::Acknowledgement,
            about_message: Some(1),
            meeting: Some("LCJB-1999-01-01".into()),
            item: Some("zz".into()),
            ..SentMessage::default()
        },
    );
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let message = Message {
            from: Some(noise.text(PARTS, 6)),
            from_name: Some(noise.text(PARTS, 4)),
            sender: Some(noise.text(PARTS, 3)),
            to: vec![noise.text(PARTS, 5)],
            cc: vec![noise.text(PARTS, 3)],
            delivered_to: vec![noise.text(PARTS, 3)],
            subject: Some(noise.text(PARTS, 12)),
            body_text: Some(noise.text(PARTS, 80)),
            body_html: noise
                .next()
                .is_multiple_of(3)
                .then(|| noise.text(PARTS, 40)),
            headers: Headers {
                auto_submitted: noise.next().is_multiple_of(7).then(|| noise.text(PARTS, 2)),
                precedence: noise
                    .next()
                    .is_multiple_of(7)
                    .then(|| noise.pick(&["bulk", "list", "junk", ""]).to_owned()),
                authentication_results: noise
                    .next()
                    .is_multiple_of(9)
                    .then(|| noise.text(PARTS, 3)),
                ..Headers::default()
            },
            dsn: noise.next().is_multiple_of(11).then(|| Dsn {
                recipients: vec![DsnRecipient {
                    address: Some(noise.text(PARTS, 3)),
                    ..DsnRecipient::default()
                }],
                original_message_id: Some(noise.text(PARTS, 2)),
            }),
            message_id: None,
            in_reply_to: Some(noise.text(PARTS, 3)),
            references: vec![noise.text(PARTS, 3)],
            attachments: vec![Attachment {
                filename: Some(noise.text(PARTS, 5)),
                content_type: "application/octet-stream".into(),
                first_lines: Some(noise.text(PARTS, 10)),
            }],
        };
        let d = decide(&message, &registry, &sent, now(), DEFAULT_THRESHOLD);
        assert!((0.0..=1.0).contains(&d.confidence), "round {round}: {d:?}");
        assert!(!d.reasons.is_empty(), "round {round}: {message:?}");
        let machine = message.dsn.is_some()
            || message
                .headers
                .auto_submitted
                .as_deref()
                .is_some_and(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("no"));
        if machine && d.disposition == Disposition::Filed {
            assert!(
                !d.kind.has_effect(),
                "round {round}: a machine message filed as {}: {d:?}",
                d.kind
            );
        }
    }
}

#[test]
fn huge_input_is_read_only_as_far_as_needed() {
    let body = "Item 2.b update. ".repeat(200_000);
    let subject = "[LCJB 2023-12-13] ".repeat(10_000);
    let d = decide(
        &message(PROBATION, &subject, &body),
        &registry(),
        &Sent::default(),
        now(),
        DEFAULT_THRESHOLD,
    );
    assert_eq!(d.kind, Kind::WrittenUpdate);
    assert_eq!(d.meeting.as_deref(), Some(DEC));
}

#[test]
fn a_verp_address_names_its_outbox_row_only_when_the_row_vouches_for_its_tag() {
    let bounce = |to: &str| Message {
        to: vec![to.into()],
        ..message(
            "MAILER-DAEMON@mx.example",
            "Undeliverable: your actions",
            "Delivery has failed.",
        )
    };
    // The snapshot holds the token only when its tag matched the row's Message-ID.
    let mut sent = Sent::default();
    sent.bounce_tokens.insert(
        "bounce-42-0a1b2c3d4e5f".into(),
        SentMessage {
            kind: SentKind::ActionPack,
            outbox_id: Some(42),
            ..SentMessage::default()
        },
    );
    let d = decide(
        &bounce("lcjb+bounce-42-0a1b2c3d4e5f@board.example"),
        &registry(),
        &sent,
        now(),
        DEFAULT_THRESHOLD,
    );
    assert_eq!(d.kind, Kind::Bounce);
    assert_eq!(d.outbox_id, Some(42));
    assert!(
        d.reasons
            .iter()
            .any(|r| r.contains("sent to the bounce address of our action pack")),
        "{d:?}"
    );
    // A forged tag (not in the snapshot) names no row.
    let d = decide(
        &bounce("lcjb+bounce-42-000000000000@board.example"),
        &registry(),
        &sent,
        now(),
        DEFAULT_THRESHOLD,
    );
    assert_eq!(d.kind, Kind::Bounce);
    assert_eq!(d.outbox_id, None, "{d:?}");
    let d = decide(
        &Message {
            to: vec!["lcjb+bounce-42-0a1b2c3d4e5f@board.example".into()],
            ..message(MPS, "Away", "Back on Monday.")
        },
        &registry(),
        &sent,
        now(),
        DEFAULT_THRESHOLD,
    );
    assert_eq!(d.kind, Kind::AutoReply, "{d:?}");
}

#[test]
fn delivery_reports_are_read_from_ingestion_json() {
    let dsn = Dsn::from_json(&serde_json::json!({
        "message": {"reporting_mta": "dns; mx.board.example"},
        "recipients": [{
            "final_recipient": "rfc822; gone@courts.example",
            "action": "Failed",
            "status": "5.1.1",
            "diagnostic_code": "smtp; 550 5.1.1 unknown"
        }]
    }));
    assert_eq!(dsn.recipients.len(), 1);
    assert_eq!(
        dsn.recipients[0].address.as_deref(),
        Some("rfc822; gone@courts.example")
    );
    assert_eq!(dsn.recipients[0].action.as_deref(), Some("failed"));
    assert_eq!(Dsn::from_json(&serde_json::json!(null)), Dsn::default());
    let h = Headers::from_json(&serde_json::json!({
        "authentication_results": ["mx1; dmarc=pass", "mx2; dmarc=fail header.from=met.example"]
    }));
    assert!(h.authentication_results.unwrap().contains("dmarc=fail"));
}

#[test]
fn display_names_are_written_as_people_write_them() {
    assert_eq!(natural_name("Vigurs, Kilvinder"), "Kilvinder Vigurs");
    assert_eq!(natural_name("Kilvinder Vigurs (HMPPS)"), "Kilvinder Vigurs");
    assert_eq!(natural_name("\"Jo Towens\""), "Jo Towens");
    assert_eq!(natural_name("jo@x.example"), "");
}

#[test]
fn action_updates_go_to_the_next_meeting_and_the_secretariat_may_update_any_action() {
    let mut sent = Sent::default();
    sent.message_ids.insert(
        "pack-sep@board.example".into(),
        SentMessage {
            kind: SentKind::ActionPack,
            outbox_id: Some(60),
            meeting: Some(SEP.into()),
            action: Some("LCJB-A17".into()),
            member: Some("Nick John".into()),
            ..SentMessage::default()
        },
    );
    check(vec![
        Case {
            name: "a reply to the pack of the meeting that raised the action",
            message: Message {
                in_reply_to: Some("<pack-sep@board.example>".into()),
                ..message(MPS, "RE: Your LCJB actions", "Done.\n\nNick")
            },
            sent,
            now: now(),
            expect: Expect {
                kind: Some(Kind::ActionUpdate),
                action: Some(Some("LCJB-A17")),
                meeting: Some(Some(DEC)),
                disposition: Some(Disposition::Filed),
                reasons: &["LCJB-2023-09-20 has already been held: an action update is reported at the next meeting"],
                ..Expect::default()
            },
        },
        case(
            "the secretariat closes an action the MPS owns",
            message(
                SECRETARIAT,
                "LCJB-A17 closed",
                "LCJB-A17 Closed - the data was shared at the working group.",
            ),
            Expect {
                kind: Some(Kind::ActionUpdate),
                action: Some(Some("LCJB-A17")),
                disposition: Some(Disposition::Filed),
                reasons: &["LCJB-A17 is owned by MPS; the secretariat may update it"],
                not_reasons: &["conflicting: LCJB-A17 is owned by MPS"],
                ..Expect::default()
            },
        ),
    ]);
}

#[test]
fn a_shortened_line_ends_after_a_whole_word() {
    let text = "Share the themes that emerged from the HMIP inspection with the board";
    let short = shorten(text, 30);
    assert_eq!(short, "Share the themes that emerged…");
    assert!(short.chars().count() <= 30);
    assert_eq!(shorten("  two\n words ", 30), "two words");
    assert_eq!(shorten("Supercalifragilistic", 10), "Supercali…");
}
