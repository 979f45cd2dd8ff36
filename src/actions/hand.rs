//! The action register by hand (`minuted actions add`, `done` and `drop`): each change
//! checked against the registry and recorded with its audit event in one transaction.

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;

use crate::store::actions::{self as store, ActionFilter, ActionView, NewAction, NewUpdate};
use crate::store::events::{self, NewEvent};
use crate::store::names as known_names;
use crate::text::names::unknown;

/// An action added by hand, as `minuted actions add` gives it.
#[derive(Debug, Clone)]
pub struct HandAction {
    /// The meeting it was raised at (ref, any case).
    pub meeting: String,
    /// The owner organisation's short name (any case).
    pub owner: String,
    pub text: String,
    pub due: Option<NaiveDate>,
    pub item: Option<String>,
    pub member: Option<String>,
    /// Who is adding it, for the register and the audit log.
    pub by: String,
}

impl HandAction {
    /// The action with its text and `by` trimmed; an error when either is empty. [`add`]
    /// checks it again; the command line checks first, before it opens the database.
    pub fn checked(self) -> anyhow::Result<HandAction> {
        let text = self.text.trim();
        if text.is_empty() {
            bail!("the action's text must not be empty");
        }
        Ok(HandAction {
            text: text.to_owned(),
            by: named(&self.by, "adding")?.to_owned(),
            ..self
        })
    }
}

/// `by` trimmed; an error when it names nobody (`doing`: what they are doing to the
/// action).
pub fn named<'a>(by: &'a str, doing: &str) -> anyhow::Result<&'a str> {
    let by = by.trim();
    if by.is_empty() {
        bail!("--by must name who is {doing} the action");
    }
    Ok(by)
}

/// What `actions add` prints with `--json`.
#[derive(Debug, Serialize)]
pub struct Added {
    #[serde(rename = "ref")]
    pub reference: String,
    pub meeting: String,
    pub owner: String,
    pub member: Option<String>,
    pub item: Option<String>,
}

/// Adds `hand` to the register with its audit event, in one transaction. The meeting,
/// owner, member and item must be the registry's; an unknown meeting or owner is
/// answered with the nearest names.
pub async fn add(pool: &PgPool, hand: &HandAction, now: DateTime<Utc>) -> anyhow::Result<Added> {
    let hand = hand.clone().checked()?;
    let mut tx = pool.begin().await?;
    let Some((board_id, meeting_id, meeting)) = store::meeting(&mut tx, &hand.meeting).await?
    else {
        let known = known_names::meeting_refs(&mut tx).await?;
        bail!("{}", unknown("meeting", &hand.meeting, &known));
    };
    let Some((organisation_id, owner)) =
        store::organisation(&mut tx, board_id, &hand.owner).await?
    else {
        let known = known_names::organisation_shorts(&mut tx, Some(board_id)).await?;
        bail!("{}", unknown("organisation", &hand.owner, &known));
    };
    let member = match &hand.member {
        Some(name) => {
            let (id, name, member_org) = store::member(&mut tx, board_id, name)
                .await?
                .ok_or_else(|| anyhow!("no member {name:?}: see `minuted board show`"))?;
            if member_org != Some(organisation_id) {
                bail!("{name} is not a member of {owner}: give their organisation as --owner");
            }
            Some((id, name))
        }
        None => None,
    };
    let item = match &hand.item {
        Some(number) => Some(
            store::item_number(&mut tx, meeting_id, number)
                .await?
                .ok_or_else(|| anyhow!("item {number} is not on the agenda of {meeting}"))?,
        ),
        None => None,
    };
    let (id, reference) = store::add(
        &mut tx,
        &NewAction {
            board_id,
            text: &hand.text,
            owner_text: Some(&owner),
            owner_organisation_id: Some(organisation_id),
            owner_member_id: member.as_ref().map(|(id, _)| *id),
            meeting_id,
            item_number: item.as_deref(),
            revision_id: None,
            due: hand.due,
            due_text: None,
            added_by: &hand.by,
        },
        now,
    )
    .await?;
    events::record(
        &mut tx,
        NewEvent {
            board_id: Some(board_id),
            actor: &hand.by,
            kind: "action.added",
            subject: Some(("action", id)),
            detail: json!({
                "action": reference,
                "text": hand.text,
                "owner": owner,
                "member": member.as_ref().map(|(_, name)| name),
                "meeting": meeting,
                "item": item,
                "due": hand.due,
            }),
        },
    )
    .await?;
    tx.commit().await.context("failed to add the action")?;
    Ok(Added {
        reference,
        meeting,
        owner,
        member: member.map(|(_, name)| name),
        item,
    })
}

/// Closes an action by hand (`done` or `dropped`), recording an update and an event.
/// `kind` is `done` or `dropped`. Returns the action as the register now shows it.
pub async fn close(
    pool: &PgPool,
    reference: &str,
    kind: &str,
    note: Option<&str>,
    by: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<ActionView>> {
    let by = named(by, "closing")?;
    let mut tx = pool.begin().await?;
    let Some(action) = store::lock(&mut tx, None, reference).await? else {
        let known = known_names::action_refs(&mut tx).await?;
        bail!("{}", unknown("action", reference, &known));
    };
    if action.status != "open" {
        bail!("{} is already {}", action.reference, action.status);
    }
    let text = note
        .map(str::to_owned)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("{kind} by hand"));
    let update = store::record_update(
        &mut tx,
        &NewUpdate {
            action_id: action.id,
            message_id: None,
            kind,
            text: &text,
            organisation_id: None,
            member_id: None,
            by,
        },
        now,
    )
    .await?;
    events::record(
        &mut tx,
        NewEvent {
            board_id: Some(action.board_id),
            actor: by,
            kind: if kind == "done" {
                "action.done"
            } else {
                "action.dropped"
            },
            subject: Some(("action", action.id)),
            detail: json!({"action": action.reference, "update": update, "text": text}),
        },
    )
    .await?;
    tx.commit().await.context("failed to close the action")?;
    let filter = ActionFilter {
        reference: Some(action.reference),
        ..ActionFilter::default()
    };
    Ok(store::list(pool, &filter).await?)
}
