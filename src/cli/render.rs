//! `minuted render KIND --meeting REF [--member EMAIL] [--format text|html|eml]`: one
//! email as it would be sent, from the registry in the database: the recipient
//! organisation's open actions from the register, the meeting's latest compiled pack.
//! What the database does not hold for a kind (no actions yet, approval details, ...)
//! comes from the kind's example context, `templates/examples/KIND.json`, and a note on
//! stderr says so.

use crate::store::mail_context;
use anyhow::Context;
use serde_json::{json, Value};

use super::known::Named;
use super::{print_text, RenderArgs, RenderFormat};
use crate::app;
use crate::clock::Clock;
use crate::config::Loaded;
use crate::domain::outbound::MailKind;
use crate::domain::verp;
use crate::outbox::compose::{compose, Outgoing};
use crate::outbox::context::{meeting_value, template_context, ContextParts};
use crate::schedule;
use crate::store::actions::ActionFilter;
use crate::store::schedule as schedule_store;
use crate::templates::{example_context, Templates};

/// The keys the database provides for every kind (see `outbox::context`).
const FROM_DATABASE: [&str; 5] = [
    "board",
    "recipient",
    "reply_address",
    "meeting",
    "attachments",
];

pub async fn run(args: RenderArgs, loaded: &Loaded) -> anyhow::Result<()> {
    let templates: Templates = app::load_templates(&loaded.settings)?;
    let from: lettre::message::Mailbox = loaded
        .settings
        .outgoing
        .from
        .parse()
        .context("outgoing.from is not a mailbox")?;
    let text = super::with_database(loaded, async |pool| {
        let reference = Named::Meeting.spelled(pool, &args.meeting).await?;
        let mut conn = pool.acquire().await?;
        let meeting = mail_context::meeting_by_ref(&mut conn, &reference).await?;
        let board = mail_context::boards(&mut conn, &[meeting.board_id])
            .await?
            .remove(&meeting.board_id)
            .context("the meeting's board is missing")?;
        let (member, to_address) = match &args.member {
            Some(email) => (
                mail_context::member_by_address(&mut conn, board.id, email).await?,
                email.to_ascii_lowercase(),
            ),
            None => mail_context::secretariat(&mut conn, board.id)
                .await?
                .into_iter()
                .next()
                .map(|m| {
                    let address = m.address.clone().unwrap_or_default();
                    (m, address)
                })
                .context(
                    "the board has no secretariat member; name a recipient with --member EMAIL",
                )?,
        };

        let mut extra = example_context(args.kind);
        if let Some(map) = extra.as_object_mut() {
            for key in FROM_DATABASE {
                map.remove(key);
            }
        }
        let led: Vec<Value> = meeting
            .items
            .iter()
            .filter(|i| i.lead.is_some() && i.lead == member.organisation)
            .map(|i| json!({ "number": i.number, "title": i.title, "lead": i.lead }))
            .collect();
        let mut from_example: Vec<&str> = Vec::new();
        match args.kind {
            MailKind::Circulation => {
                let next =
                    mail_context::next_meeting_after(&mut conn, board.id, meeting.date).await?;
                extra["next_meeting"] = next.as_ref().map_or(Value::Null, meeting_value);
                from_example.push("approved_text");
            }
            MailKind::UpdateRequest | MailKind::Chaser | MailKind::ActionPack => {
                if args.kind != MailKind::ActionPack {
                    extra["items"] = Value::Array(led);
                    if let Some(deadline) = meeting.papers_deadline {
                        extra["deadline_text"] =
                            json!(crate::domain::outbound::long_date(deadline));
                    }
                }
                // The open actions the recipient's organisation owns, from the register.
                let owned = match &member.organisation {
                    Some(short) => {
                        schedule::logged_actions(
                            &mut conn,
                            &ActionFilter {
                                board_id: Some(board.id),
                                open_only: true,
                                owner: Some(short.clone()),
                                ..ActionFilter::default()
                            },
                            Clock::System.now().date_naive(),
                        )
                        .await?
                    }
                    None => Vec::new(),
                };
                if owned.is_empty() {
                    from_example.push("actions (the register has none open for the recipient)");
                } else {
                    extra["actions"] = serde_json::to_value(&owned)?;
                }
            }
            MailKind::MeetingPack => {
                match schedule_store::latest_pack_content(&mut conn, meeting.id).await? {
                    Some(content) => {
                        if let (Some(map), Some(pack)) =
                            (extra.as_object_mut(), content.as_object())
                        {
                            for (key, value) in pack {
                                map.insert(key.clone(), value.clone());
                            }
                        }
                    }
                    None => from_example.push("updates and actions (no pack compiled yet)"),
                }
            }
            MailKind::Acknowledgement => from_example.push("the acknowledged message"),
            MailKind::ApprovalRequest | MailKind::ApprovalResult => {
                from_example.push("the approval details")
            }
            MailKind::BounceNotice => from_example.push("the failures"),
            MailKind::ReplyHelp => from_example.push("the reply answered"),
            MailKind::TriageNotice => from_example.push("the messages waiting"),
            MailKind::Alert => from_example.push("the alarm"),
            MailKind::Invitation => from_example.push("the invitation"),
            MailKind::AttendanceRecorded => from_example.push("the answer recorded"),
            MailKind::QuorumWarning => from_example.push("the apologies"),
            MailKind::Digest => from_example.push("the day's messages, failures and actions"),
        }
        if !from_example.is_empty() {
            eprintln!(
                "note: {} from templates/examples/{}.json",
                from_example.join(", "),
                args.kind
            );
        }

        let token = "preview";
        let reply_address = verp::reply_address(&board.address, token);
        let context = template_context(&ContextParts {
            board: &board,
            meeting: Some(&meeting),
            member: Some(&member),
            to_address: &to_address,
            to_name: Some(&member.name),
            reply_address: &reply_address,
            attachments: &[],
            extra: &extra,
        });
        let rendered = templates.render(args.kind, &context)?;
        Ok(match args.format {
            RenderFormat::Text => format!("Subject: {}\n\n{}", rendered.subject, rendered.text),
            RenderFormat::Html => rendered.html,
            RenderFormat::Eml => {
                let domain = board.address.rsplit_once('@').map_or("", |(_, d)| d);
                let message_id = format!("preview.{}@{domain}", args.kind);
                let calendar = crate::domain::mail::CalendarPart::of(&context);
                let (_, bytes) = compose(&Outgoing {
                    from: &from,
                    to_address: &to_address,
                    to_name: Some(&member.name),
                    reply_to: &reply_address,
                    return_path: &verp::bounce_address(&board.address, 0, &message_id),
                    message_id: &message_id,
                    in_reply_to: None,
                    references: &[],
                    subject: &rendered.subject,
                    text: &rendered.text,
                    html: &rendered.html,
                    attachments: Vec::new(),
                    calendar: calendar.as_ref(),
                    date: Clock::System.now(),
                })?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
        })
    })
    .await?;
    print_text(&text)
}
