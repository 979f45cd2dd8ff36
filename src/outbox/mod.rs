//! Outbound mail: everything minuted sends — acknowledgements, approval requests,
//! circulation, action packs, update requests, chasers, meeting packs, bounce notices —
//! goes through this one path.
//!
//! # Queueing (for other modules)
//!
//! Queue an email inside the transaction of the change that causes it, so the email
//! exists exactly when the change does:
//!
//! ```ignore
//! let mut tx = pool.begin().await?;
//! // ... the change itself (an approval, a filing, a schedule firing) ...
//! let id = store::outbox::enqueue(&mut tx, NewOutboxMessage {
//!     kind: MailKind::Acknowledgement,
//!     board_id,
//!     meeting_id: Some(meeting_id),
//!     to: Recipient { address, name: Some(name), member_id: Some(member_id) },
//!     context: json!({ "original_subject": subject, /* the kind's keys */ }),
//!     in_reply_to: Some(inbound_message_id),
//!     references: inbound_references,
//!     attachments: vec![],        // NewAttachment { attachment_id, filename, content_type }
//!     not_after: None,            // e.g. the meeting's start for a chaser: expires instead
//!     hold_until: None,           // `held` until then
//! }, clock.now()).await?;
//! tx.commit().await?;
//! ```
//!
//! `store::outbox::enqueue_many` queues many in one statement (circulation to every
//! member). Each row gets, at enqueue and for good: a Message-ID
//! `outbox.<id>.<random>@<board domain>`, a reply token (Reply-To is
//! `<board local>+<token>@<board domain>`), and the VERP return path
//! `<board local>+bounce-<id>-<tag>@<board domain>` ([`verp`](crate::domain::verp)). An `outbox.enqueued` event is
//! recorded.
//!
//! The template context is the caller's kind-specific JSON object plus what
//! [`context`] adds from the registry at render time (board, meeting and items,
//! recipient, reply address, attachments); `templates/examples/KIND.json` shows every
//! key of each kind.
//!
//! # Bounces (for filing)
//!
//! [`verp::parse_bounce_address`](crate::domain::verp::parse_bounce_address) turns the address a bounce came back to into the row
//! id and tag, which must match the row's Message-ID ([`verp::tag_matches`](crate::domain::verp::tag_matches));
//! `store::bounces::mark_bounced(conn, BounceTarget::Row(id) | MessageId(..), hard,
//! reason, now)` marks the row `bounced`, flags the member's address on a hard bounce,
//! records `outbox.bounced` and tells the secretariat (at most one `bounce_notice` an
//! hour per board, listing everything since the last).
//!
//! # Sending
//!
//! [`worker::Worker`] leases due rows, renders, sends through a [`transport::Transport`]
//! (SMTP, a `.eml` file per message, or sendmail) and records every attempt. Delivery is
//! at least once: a message whose connection was lost after the final `.` is `unknown`
//! and sent again with the same Message-ID.

pub mod compose;
pub mod context;
pub mod transport;
pub mod worker;
