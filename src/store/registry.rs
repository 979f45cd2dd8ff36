//! Writes a validated [`Registry`] into the registry tables and reads a board back as a
//! [`BoardView`].
//!
//! An import is one transaction that makes the database match the file: rows are added,
//! updated, or — when they disappear from the file — marked `active = false`, never
//! deleted, because messages, filings and actions point at them. Importing the same file
//! twice changes nothing: every write is preceded by a comparison with what is stored, the
//! `UPDATE`s carry `IS DISTINCT FROM` guards so `updated_at` only moves on a real change,
//! and events are recorded only for real changes.
//!
//! Meetings are the exception to "missing means inactive": a meeting that has been held
//! stays on the record whatever the file says, so a meeting left out of the file is left
//! alone, agenda and all.
//!
//! Validation is not repeated here; `registry::parse` has done it.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sqlx::{PgConnection, PgPool};

use super::events::{self, NewEvent};
use super::{Error, Result};
use crate::domain::board::MeetingHead;
use crate::domain::zone::Zone;
use crate::registry::{
    AddressView, BoardView, ItemView, MeetingView, MemberRole, MemberView, OrganisationView,
    Registry,
};

/// What an import did, per kind of row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// The board's slug.
    pub board: String,
    pub organisations: Counts,
    pub members: Counts,
    pub meetings: Counts,
    pub items: Counts,
}

impl ImportSummary {
    /// Whether any registry row was added, updated or deactivated.
    pub fn changed(&self) -> bool {
        [
            &self.organisations,
            &self.members,
            &self.meetings,
            &self.items,
        ]
        .iter()
        .any(|c| c.added + c.updated + c.deactivated > 0)
    }
}

/// Rows in the file are `added`, `updated` (including re-activated) or `unchanged`;
/// `deactivated` counts active rows that the file no longer lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub unchanged: usize,
}

/// Makes the registry tables match `reg`, in one transaction, recording one event per
/// change (by `actor`) and a `board.imported` event when anything changed.
pub async fn import(pool: &PgPool, reg: &Registry, actor: &str) -> Result<ImportSummary> {
    let mut tx = pool.begin().await?;
    // Several `minuted run` processes may import `board.file` as they start; taking turns
    // keeps them from racing to insert the same rows.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('minuted.board_import'), hashtext($1))")
        .bind(&reg.board.slug)
        .execute(&mut *tx)
        .await?;

    let (board_id, board_changed) = upsert_board(&mut tx, reg, actor).await?;
    let mut import = Import {
        conn: &mut tx,
        board_id,
        actor,
        summary: ImportSummary {
            board: reg.board.slug.clone(),
            ..ImportSummary::default()
        },
        organisation_shorts: HashMap::new(),
    };
    let organisation_ids = import.organisations(reg).await?;
    import.members(reg, &organisation_ids).await?;
    import.meetings(reg, &organisation_ids).await?;

    let summary = import.summary;
    if board_changed || summary.changed() {
        events::record(
            &mut tx,
            NewEvent {
                board_id: Some(board_id),
                actor,
                kind: "board.imported",
                subject: Some(("board", board_id)),
                detail: serde_json::to_value(&summary).unwrap_or(Value::Null),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(summary)
}

/// Inserts or updates the board row; returns its id and whether it changed.
async fn upsert_board(conn: &mut PgConnection, reg: &Registry, actor: &str) -> Result<(i64, bool)> {
    let board = &reg.board;
    let address = board.address.as_str();
    let timezone = board.timezone.name();
    let quorum_members = board.quorum_members.and_then(|n| i32::try_from(n).ok());
    let quorum_organisations = board
        .quorum_organisations
        .and_then(|n| i32::try_from(n).ok());
    #[allow(clippy::type_complexity)]
    let existing: Option<(i64, String, String, String, Option<i32>, Option<i32>)> = sqlx::query_as(
        "SELECT id, name, address, timezone, quorum_members, quorum_organisations
             FROM boards WHERE slug = $1 FOR UPDATE",
    )
    .bind(&board.slug)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, name, stored_address, stored_timezone, stored_members, stored_organisations)) =
        existing
    else {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO boards (slug, name, address, timezone, quorum_members,
                                 quorum_organisations)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&board.slug)
        .bind(&board.name)
        .bind(address)
        .bind(timezone)
        .bind(quorum_members)
        .bind(quorum_organisations)
        .fetch_one(&mut *conn)
        .await?;
        let detail = json!({
            "slug": board.slug, "name": board.name, "address": address, "timezone": timezone,
            "quorum_members": quorum_members, "quorum_organisations": quorum_organisations,
        });
        record(conn, id, actor, "board.added", ("board", id), detail).await?;
        return Ok((id, true));
    };
    let mut changes = Changes::default();
    changes.compare("name", &name, &board.name);
    changes.compare("address", &stored_address, &address);
    changes.compare("timezone", &stored_timezone.as_str(), &timezone);
    changes.compare("quorum_members", &stored_members, &quorum_members);
    changes.compare(
        "quorum_organisations",
        &stored_organisations,
        &quorum_organisations,
    );
    if changes.is_empty() {
        return Ok((id, false));
    }
    sqlx::query(
        "UPDATE boards SET name = $2, address = $3, timezone = $4, quorum_members = $5,
                           quorum_organisations = $6, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(&board.name)
    .bind(address)
    .bind(timezone)
    .bind(quorum_members)
    .bind(quorum_organisations)
    .execute(&mut *conn)
    .await?;
    let detail = changes.into_detail(json!({ "slug": board.slug }));
    record(conn, id, actor, "board.updated", ("board", id), detail).await?;
    Ok((id, true))
}

/// The board's time zone; UTC for a board without one.
pub async fn board_zone(conn: &mut PgConnection, board_id: i64) -> Result<Zone> {
    let name: Option<String> = sqlx::query_scalar("SELECT timezone FROM boards WHERE id = $1")
        .bind(board_id)
        .fetch_optional(conn)
        .await?;
    Ok(zone_named(name.as_deref()))
}

/// The zone a board's stored `timezone` names; UTC when it names none we know.
pub(super) fn zone_named(name: Option<&str>) -> Zone {
    name.and_then(|n| n.parse().ok()).unwrap_or_default()
}

/// One import in progress: the transaction, whose board, and what has been done so far.
struct Import<'c> {
    conn: &'c mut PgConnection,
    board_id: i64,
    actor: &'c str,
    summary: ImportSummary,
    /// Short name of every organisation of the board, active or not, for event details.
    organisation_shorts: HashMap<i64, String>,
}

#[derive(sqlx::FromRow)]
struct OrganisationRow {
    id: i64,
    short: String,
    name: String,
    active: bool,
    domains: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: i64,
    name: String,
    initials: Option<String>,
    role_text: Option<String>,
    organisation_id: Option<i64>,
    roles: Vec<String>,
    circulation: bool,
    deputy_of: Option<i64>,
    active: bool,
}

#[derive(sqlx::FromRow)]
struct MeetingRow {
    id: i64,
    date: NaiveDate,
    time: Option<NaiveTime>,
    title: String,
    papers_deadline: Option<NaiveDate>,
    end_time: Option<NaiveTime>,
    location: Option<String>,
    cancelled: bool,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    number: String,
    position: i32,
    title: String,
    lead_organisation_id: Option<i64>,
    active: bool,
}

impl Import<'_> {
    async fn event(&mut self, kind: &str, subject: (&str, i64), detail: Value) -> Result<()> {
        record(self.conn, self.board_id, self.actor, kind, subject, detail).await
    }

    /// Upserts the file's organisations and deactivates the others; returns short name →
    /// id for the organisations in the file.
    async fn organisations(&mut self, reg: &Registry) -> Result<HashMap<String, i64>> {
        let rows: Vec<OrganisationRow> = sqlx::query_as(
            "SELECT o.id, o.short, o.name, o.active,
                    COALESCE(array_agg(d.domain ORDER BY d.domain)
                             FILTER (WHERE d.domain IS NOT NULL), '{}') AS domains
             FROM organisations o
             LEFT JOIN organisation_domains d ON d.organisation_id = o.id
             WHERE o.board_id = $1
             GROUP BY o.id",
        )
        .bind(self.board_id)
        .fetch_all(&mut *self.conn)
        .await?;
        let mut existing: HashMap<&str, &OrganisationRow> =
            rows.iter().map(|r| (r.short.as_str(), r)).collect();
        self.organisation_shorts = rows.iter().map(|r| (r.id, r.short.clone())).collect();
        let mut ids = HashMap::new();

        for org in &reg.organisations {
            let mut domains = org.domains.clone();
            domains.sort();
            let Some(row) = existing.remove(org.short.as_str()) else {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO organisations (board_id, short, name) VALUES ($1, $2, $3)
                     RETURNING id",
                )
                .bind(self.board_id)
                .bind(&org.short)
                .bind(&org.name)
                .fetch_one(&mut *self.conn)
                .await?;
                self.set_domains(id, &domains).await?;
                let detail = json!({ "short": org.short, "name": org.name, "domains": domains });
                self.event("organisation.added", ("organisation", id), detail)
                    .await?;
                self.summary.organisations.added += 1;
                self.organisation_shorts.insert(id, org.short.clone());
                ids.insert(org.short.clone(), id);
                continue;
            };
            ids.insert(org.short.clone(), row.id);
            let mut changes = Changes::default();
            changes.compare("name", &row.name, &org.name);
            changes.compare("active", &row.active, &true);
            changes.compare("domains", &row.domains, &domains);
            if changes.is_empty() {
                self.summary.organisations.unchanged += 1;
                continue;
            }
            let domains_changed = row.domains != domains;
            sqlx::query(
                "UPDATE organisations SET name = $2, active = TRUE, updated_at = now()
                 WHERE id = $1
                   AND (name IS DISTINCT FROM $2 OR active IS DISTINCT FROM TRUE OR $3)",
            )
            .bind(row.id)
            .bind(&org.name)
            .bind(domains_changed)
            .execute(&mut *self.conn)
            .await?;
            if domains_changed {
                self.set_domains(row.id, &domains).await?;
            }
            let kind = if row.active {
                "organisation.updated"
            } else {
                "organisation.reactivated"
            };
            let detail = changes.into_detail(json!({ "short": org.short }));
            self.event(kind, ("organisation", row.id), detail).await?;
            self.summary.organisations.updated += 1;
        }

        for row in existing.into_values().filter(|r| r.active) {
            sqlx::query(
                "UPDATE organisations SET active = FALSE, updated_at = now()
                 WHERE id = $1 AND active",
            )
            .bind(row.id)
            .execute(&mut *self.conn)
            .await?;
            let detail = json!({ "short": row.short, "name": row.name });
            self.event("organisation.deactivated", ("organisation", row.id), detail)
                .await?;
            self.summary.organisations.deactivated += 1;
        }
        Ok(ids)
    }

    async fn set_domains(&mut self, organisation_id: i64, domains: &[String]) -> Result<()> {
        sqlx::query(
            "DELETE FROM organisation_domains
             WHERE organisation_id = $1 AND NOT (domain = ANY($2))",
        )
        .bind(organisation_id)
        .bind(domains)
        .execute(&mut *self.conn)
        .await?;
        sqlx::query(
            "INSERT INTO organisation_domains (organisation_id, domain)
             SELECT $1, d FROM unnest($2::TEXT[]) AS d
             ON CONFLICT DO NOTHING",
        )
        .bind(organisation_id)
        .bind(domains)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    /// Upserts the file's members and their addresses, resolves deputies, and deactivates
    /// members the file no longer lists.
    async fn members(
        &mut self,
        reg: &Registry,
        organisation_ids: &HashMap<String, i64>,
    ) -> Result<()> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "SELECT id, name, initials, role_text, organisation_id, roles, circulation,
                    deputy_of, active
             FROM members WHERE board_id = $1",
        )
        .bind(self.board_id)
        .fetch_all(&mut *self.conn)
        .await?;
        let stored_addresses: Vec<(i64, String, bool)> = sqlx::query_as(
            "SELECT member_id, address, is_primary FROM member_addresses WHERE board_id = $1",
        )
        .bind(self.board_id)
        .fetch_all(&mut *self.conn)
        .await?;

        let existing: HashMap<&str, &MemberRow> =
            rows.iter().map(|r| (r.name.as_str(), r)).collect();
        let names_by_id: HashMap<i64, &str> =
            rows.iter().map(|r| (r.id, r.name.as_str())).collect();

        // Pass 1: every member in the file gets an id, so deputies and addresses can
        // point at members that come later in the file.
        let mut ids: HashMap<&str, i64> = HashMap::new();
        let mut added: HashSet<i64> = HashSet::new();
        for member in &reg.members {
            if let Some(row) = existing.get(member.name.as_str()) {
                ids.insert(&member.name, row.id);
                continue;
            }
            let organisation_id = member
                .organisation
                .as_ref()
                .and_then(|o| organisation_ids.get(o));
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO members
                     (board_id, name, initials, role_text, organisation_id, roles, circulation)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(self.board_id)
            .bind(&member.name)
            .bind(&member.initials)
            .bind(&member.role)
            .bind(organisation_id)
            .bind(role_names(&member.roles))
            .bind(member.circulation)
            .fetch_one(&mut *self.conn)
            .await?;
            ids.insert(&member.name, id);
            added.insert(id);
        }

        let address_changes = self
            .replace_addresses(reg, &ids, &stored_addresses, &names_by_id)
            .await?;

        // Pass 2: deputies for new members, every field for existing ones.
        let in_file: HashSet<&str> = reg.members.iter().map(|m| m.name.as_str()).collect();
        for member in &reg.members {
            let id = ids[member.name.as_str()];
            let deputy_of = member
                .deputy_of
                .as_deref()
                .and_then(|d| ids.get(d))
                .copied();
            let organisation_id = member
                .organisation
                .as_ref()
                .and_then(|o| organisation_ids.get(o))
                .copied();
            let roles = role_names(&member.roles);
            let addresses: Vec<&str> = member.addresses.iter().map(|a| a.as_str()).collect();

            if added.contains(&id) {
                if deputy_of.is_some() {
                    sqlx::query("UPDATE members SET deputy_of = $2 WHERE id = $1")
                        .bind(id)
                        .bind(deputy_of)
                        .execute(&mut *self.conn)
                        .await?;
                }
                let detail = json!({
                    "name": member.name,
                    "initials": member.initials,
                    "role": member.role,
                    "organisation": member.organisation,
                    "addresses": addresses,
                    "roles": roles,
                    "circulation": member.circulation,
                    "deputy_of": member.deputy_of,
                });
                self.event("member.added", ("member", id), detail).await?;
                self.summary.members.added += 1;
                continue;
            }

            let row = existing[member.name.as_str()];
            let mut changes = Changes::default();
            changes.compare("initials", &row.initials, &member.initials);
            changes.compare("role", &row.role_text, &member.role);
            if row.organisation_id != organisation_id {
                let before = row
                    .organisation_id
                    .and_then(|o| self.organisation_shorts.get(&o));
                changes.compare("organisation", &before, &member.organisation);
            }
            changes.compare("roles", &row.roles, &roles);
            changes.compare("circulation", &row.circulation, &member.circulation);
            if row.deputy_of != deputy_of {
                let before = row.deputy_of.and_then(|d| names_by_id.get(&d).copied());
                changes.compare("deputy_of", &before, &member.deputy_of.as_deref());
            }
            changes.compare("active", &row.active, &true);
            let addresses_changed = match address_changes.get(&id) {
                Some(change) => {
                    changes.push("addresses", change.clone());
                    true
                }
                None => false,
            };
            if changes.is_empty() {
                self.summary.members.unchanged += 1;
                continue;
            }
            sqlx::query(
                "UPDATE members
                 SET initials = $2, role_text = $3, organisation_id = $4, roles = $5,
                     circulation = $6, deputy_of = $7, active = TRUE, updated_at = now()
                 WHERE id = $1
                   AND (initials IS DISTINCT FROM $2 OR role_text IS DISTINCT FROM $3
                        OR organisation_id IS DISTINCT FROM $4 OR roles IS DISTINCT FROM $5
                        OR circulation IS DISTINCT FROM $6 OR deputy_of IS DISTINCT FROM $7
                        OR active IS DISTINCT FROM TRUE OR $8)",
            )
            .bind(id)
            .bind(&member.initials)
            .bind(&member.role)
            .bind(organisation_id)
            .bind(&roles)
            .bind(member.circulation)
            .bind(deputy_of)
            .bind(addresses_changed)
            .execute(&mut *self.conn)
            .await?;
            let kind = if row.active {
                "member.updated"
            } else {
                "member.reactivated"
            };
            let detail = changes.into_detail(json!({ "name": member.name }));
            self.event(kind, ("member", id), detail).await?;
            self.summary.members.updated += 1;
        }

        for row in rows
            .iter()
            .filter(|r| r.active && !in_file.contains(r.name.as_str()))
        {
            sqlx::query(
                "UPDATE members SET active = FALSE, updated_at = now() WHERE id = $1 AND active",
            )
            .bind(row.id)
            .execute(&mut *self.conn)
            .await?;
            self.event(
                "member.deactivated",
                ("member", row.id),
                json!({ "name": row.name }),
            )
            .await?;
            self.summary.members.deactivated += 1;
        }
        Ok(())
    }

    /// Makes each listed member's addresses exactly those in the file, primary first.
    /// An address listed for one member but stored for another (say, a shared mailbox
    /// handed to a successor) moves. Members not in the file keep their addresses unless
    /// someone in the file now claims them. Returns, per existing member whose addresses
    /// changed, a before/after detail for its event.
    async fn replace_addresses(
        &mut self,
        reg: &Registry,
        ids: &HashMap<&str, i64>,
        stored: &[(i64, String, bool)],
        names_by_id: &HashMap<i64, &str>,
    ) -> Result<HashMap<i64, Value>> {
        // address -> (member id, primary), as the file wants it
        let mut wanted: HashMap<&str, (i64, bool)> = HashMap::new();
        for member in &reg.members {
            let id = ids[member.name.as_str()];
            for (i, address) in member.addresses.iter().enumerate() {
                wanted.insert(address.as_str(), (id, i == 0));
            }
        }
        let listed: HashSet<i64> = ids.values().copied().collect();

        let mut moved_from: HashMap<i64, Map<String, Value>> = HashMap::new();
        let mut keep: HashSet<(i64, &str)> = HashSet::new();
        for (member_id, address, is_primary) in stored {
            match wanted.get(address.as_str()) {
                Some((owner, primary)) if owner == member_id => {
                    keep.insert((*member_id, address.as_str()));
                    if primary != is_primary {
                        sqlx::query(
                            "UPDATE member_addresses SET is_primary = $3
                             WHERE member_id = $1 AND address = $2",
                        )
                        .bind(member_id)
                        .bind(address)
                        .bind(primary)
                        .execute(&mut *self.conn)
                        .await?;
                    }
                }
                Some((owner, _)) => {
                    let from = names_by_id.get(member_id).copied().unwrap_or_default();
                    moved_from
                        .entry(*owner)
                        .or_default()
                        .insert(address.clone(), Value::from(from));
                    self.delete_address(*member_id, address).await?;
                }
                None if listed.contains(member_id) => {
                    self.delete_address(*member_id, address).await?;
                }
                None => {}
            }
        }
        for (address, (member_id, primary)) in &wanted {
            if keep.contains(&(*member_id, *address)) {
                continue;
            }
            sqlx::query(
                "INSERT INTO member_addresses (member_id, board_id, address, is_primary)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(member_id)
            .bind(self.board_id)
            .bind(address)
            .bind(primary)
            .execute(&mut *self.conn)
            .await?;
        }

        // Compare per member as (primary, the rest as a set): the order of the secondary
        // addresses is not something minuted acts on.
        let mut before: HashMap<i64, (Option<&str>, BTreeSet<&str>)> = HashMap::new();
        for (member_id, address, is_primary) in stored {
            let entry = before.entry(*member_id).or_default();
            if *is_primary && entry.0.is_none() {
                entry.0 = Some(address);
            } else {
                entry.1.insert(address);
            }
        }
        let mut changes = HashMap::new();
        for member in &reg.members {
            let id = ids[member.name.as_str()];
            let Some(old) = before.remove(&id) else {
                if !member.addresses.is_empty() && names_by_id.contains_key(&id) {
                    changes.insert(
                        id,
                        address_change(&[], &member.addresses, moved_from.remove(&id)),
                    );
                }
                continue;
            };
            let new_primary = member.addresses.first().map(|a| a.as_str());
            let new_rest: BTreeSet<&str> = member
                .addresses
                .iter()
                .skip(1)
                .map(|a| a.as_str())
                .collect();
            if old.0 == new_primary && old.1 == new_rest {
                continue;
            }
            let old_list: Vec<&str> = old.0.into_iter().chain(old.1).collect();
            changes.insert(
                id,
                address_change(&old_list, &member.addresses, moved_from.remove(&id)),
            );
        }
        Ok(changes)
    }

    async fn delete_address(&mut self, member_id: i64, address: &str) -> Result<()> {
        sqlx::query("DELETE FROM member_addresses WHERE member_id = $1 AND address = $2")
            .bind(member_id)
            .bind(address)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    /// Upserts the file's meetings (keyed by date) and their agenda items.
    async fn meetings(
        &mut self,
        reg: &Registry,
        organisation_ids: &HashMap<String, i64>,
    ) -> Result<()> {
        let rows: Vec<MeetingRow> = sqlx::query_as(
            "SELECT id, date, time, title, papers_deadline, end_time, location, cancelled
             FROM meetings WHERE board_id = $1",
        )
        .bind(self.board_id)
        .fetch_all(&mut *self.conn)
        .await?;
        let existing: HashMap<NaiveDate, &MeetingRow> = rows.iter().map(|r| (r.date, r)).collect();

        for meeting in &reg.meetings {
            let meeting_ref = Registry::meeting_ref(&reg.board.slug, meeting.date);
            let id = match existing.get(&meeting.date) {
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO meetings (board_id, ref, date, time, title, papers_deadline,
                                               end_time, location, cancelled)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    )
                    .bind(self.board_id)
                    .bind(&meeting_ref)
                    .bind(meeting.date)
                    .bind(meeting.time)
                    .bind(&meeting.title)
                    .bind(meeting.papers_deadline)
                    .bind(meeting.end_time)
                    .bind(&meeting.location)
                    .bind(meeting.cancelled)
                    .fetch_one(&mut *self.conn)
                    .await?;
                    let detail = json!({
                        "ref": meeting_ref,
                        "date": meeting.date,
                        "time": meeting.time,
                        "end": meeting.end_time,
                        "title": meeting.title,
                        "location": meeting.location,
                        "papers_deadline": meeting.papers_deadline,
                        "cancelled": meeting.cancelled,
                    });
                    self.event("meeting.added", ("meeting", id), detail).await?;
                    self.summary.meetings.added += 1;
                    id
                }
                Some(row) => {
                    let mut changes = Changes::default();
                    changes.compare("time", &row.time, &meeting.time);
                    changes.compare("title", &row.title, &meeting.title);
                    changes.compare(
                        "papers_deadline",
                        &row.papers_deadline,
                        &meeting.papers_deadline,
                    );
                    changes.compare("end", &row.end_time, &meeting.end_time);
                    changes.compare("location", &row.location, &meeting.location);
                    changes.compare("cancelled", &row.cancelled, &meeting.cancelled);
                    if changes.is_empty() {
                        self.summary.meetings.unchanged += 1;
                    } else {
                        sqlx::query(
                            "UPDATE meetings SET time = $2, title = $3, papers_deadline = $4,
                                                 end_time = $5, location = $6, cancelled = $7,
                                                 updated_at = now()
                             WHERE id = $1
                               AND (time IS DISTINCT FROM $2 OR title IS DISTINCT FROM $3
                                    OR papers_deadline IS DISTINCT FROM $4
                                    OR end_time IS DISTINCT FROM $5
                                    OR location IS DISTINCT FROM $6
                                    OR cancelled IS DISTINCT FROM $7)",
                        )
                        .bind(row.id)
                        .bind(meeting.time)
                        .bind(&meeting.title)
                        .bind(meeting.papers_deadline)
                        .bind(meeting.end_time)
                        .bind(&meeting.location)
                        .bind(meeting.cancelled)
                        .execute(&mut *self.conn)
                        .await?;
                        let detail = changes.into_detail(json!({ "ref": meeting_ref }));
                        self.event("meeting.updated", ("meeting", row.id), detail)
                            .await?;
                        self.summary.meetings.updated += 1;
                    }
                    row.id
                }
            };
            self.items(id, &meeting_ref, meeting, organisation_ids)
                .await?;
        }
        Ok(())
    }

    async fn items(
        &mut self,
        meeting_id: i64,
        meeting_ref: &str,
        meeting: &crate::registry::Meeting,
        organisation_ids: &HashMap<String, i64>,
    ) -> Result<()> {
        let rows: Vec<ItemRow> = sqlx::query_as(
            "SELECT id, number, position, title, lead_organisation_id, active
             FROM agenda_items WHERE meeting_id = $1",
        )
        .bind(meeting_id)
        .fetch_all(&mut *self.conn)
        .await?;
        let mut existing: HashMap<&str, &ItemRow> =
            rows.iter().map(|r| (r.number.as_str(), r)).collect();

        for (index, item) in meeting.items.iter().enumerate() {
            let position = i32::try_from(index + 1).unwrap_or(i32::MAX);
            let lead_id = item
                .lead
                .as_ref()
                .and_then(|l| organisation_ids.get(l))
                .copied();
            let Some(row) = existing.remove(item.number.as_str()) else {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO agenda_items
                         (meeting_id, number, position, title, lead_organisation_id)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(meeting_id)
                .bind(&item.number)
                .bind(position)
                .bind(&item.title)
                .bind(lead_id)
                .fetch_one(&mut *self.conn)
                .await?;
                let detail = json!({
                    "meeting": meeting_ref,
                    "number": item.number,
                    "title": item.title,
                    "lead": item.lead,
                });
                self.event("agenda_item.added", ("agenda_item", id), detail)
                    .await?;
                self.summary.items.added += 1;
                continue;
            };
            let mut changes = Changes::default();
            changes.compare("title", &row.title, &item.title);
            if row.lead_organisation_id != lead_id {
                let before = row
                    .lead_organisation_id
                    .and_then(|o| self.organisation_shorts.get(&o));
                changes.compare("lead", &before, &item.lead);
            }
            changes.compare("position", &row.position, &position);
            changes.compare("active", &row.active, &true);
            if changes.is_empty() {
                self.summary.items.unchanged += 1;
                continue;
            }
            sqlx::query(
                "UPDATE agenda_items
                 SET title = $2, lead_organisation_id = $3, position = $4, active = TRUE
                 WHERE id = $1
                   AND (title IS DISTINCT FROM $2 OR lead_organisation_id IS DISTINCT FROM $3
                        OR position IS DISTINCT FROM $4 OR active IS DISTINCT FROM TRUE)",
            )
            .bind(row.id)
            .bind(&item.title)
            .bind(lead_id)
            .bind(position)
            .execute(&mut *self.conn)
            .await?;
            let kind = if row.active {
                "agenda_item.updated"
            } else {
                "agenda_item.reactivated"
            };
            let detail =
                changes.into_detail(json!({ "meeting": meeting_ref, "number": item.number }));
            self.event(kind, ("agenda_item", row.id), detail).await?;
            self.summary.items.updated += 1;
        }

        for row in existing.into_values().filter(|r| r.active) {
            sqlx::query("UPDATE agenda_items SET active = FALSE WHERE id = $1 AND active")
                .bind(row.id)
                .execute(&mut *self.conn)
                .await?;
            let detail =
                json!({ "meeting": meeting_ref, "number": row.number, "title": row.title });
            self.event("agenda_item.deactivated", ("agenda_item", row.id), detail)
                .await?;
            self.summary.items.deactivated += 1;
        }
        Ok(())
    }
}

async fn record(
    conn: &mut PgConnection,
    board_id: i64,
    actor: &str,
    kind: &str,
    subject: (&str, i64),
    detail: Value,
) -> Result<()> {
    events::record(
        conn,
        NewEvent {
            board_id: Some(board_id),
            actor,
            kind,
            subject: Some(subject),
            detail,
        },
    )
    .await?;
    Ok(())
}

/// Roles as stored: a set, kept in one canonical order so that reordering the list in
/// the file is not a change.
fn role_names(roles: &[MemberRole]) -> Vec<String> {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    roles.iter().map(|r| r.as_str().to_owned()).collect()
}

fn address_change(
    before: &[&str],
    after: &[crate::domain::address::EmailAddress],
    moved_from: Option<Map<String, Value>>,
) -> Value {
    let after: Vec<&str> = after.iter().map(|a| a.as_str()).collect();
    let mut change = json!({ "before": before, "after": after });
    if let (Some(moved_from), Value::Object(map)) = (moved_from, &mut change) {
        map.insert("moved_from".into(), Value::Object(moved_from));
    }
    change
}

/// The fields an update changes, as `{"field": {"before": .., "after": ..}}` for the
/// event detail.
#[derive(Default)]
struct Changes(Map<String, Value>);

impl Changes {
    fn compare<B, A>(&mut self, field: &str, before: &B, after: &A)
    where
        B: Serialize + ?Sized,
        A: Serialize + ?Sized,
    {
        let before = serde_json::to_value(before).unwrap_or(Value::Null);
        let after = serde_json::to_value(after).unwrap_or(Value::Null);
        if before != after {
            self.0.insert(
                field.to_owned(),
                json!({ "before": before, "after": after }),
            );
        }
    }

    fn push(&mut self, field: &str, change: Value) {
        self.0.insert(field.to_owned(), change);
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `identity` (an object naming the row) with the changes under `changes`.
    fn into_detail(self, identity: Value) -> Value {
        let mut detail = match identity {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        detail.insert("changes".into(), Value::Object(self.0));
        Value::Object(detail)
    }
}

/// Everything the database holds about one board. With no `slug`, the only board there
/// is; it is an error to leave it out when there are several.
pub async fn show(pool: &PgPool, slug: Option<&str>) -> Result<BoardView> {
    let mut tx = pool.begin().await?;
    // One snapshot for the several queries below, so a concurrent import cannot produce a
    // view that mixes before and after.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;

    let boards: Vec<(i64, String, String, String, String)> = match slug {
        Some(slug) => {
            sqlx::query_as("SELECT id, slug, name, address, timezone FROM boards WHERE slug = $1")
                .bind(slug)
                .fetch_all(&mut *tx)
                .await?
        }
        None => {
            sqlx::query_as("SELECT id, slug, name, address, timezone FROM boards ORDER BY slug")
                .fetch_all(&mut *tx)
                .await?
        }
    };
    let (board_id, slug, name, address, timezone) = match (boards.len(), slug) {
        (1, _) => boards
            .into_iter()
            .next()
            .ok_or_else(|| Error::NotFound("board".into()))?,
        (0, Some(slug)) => {
            return Err(Error::NotFound(format!(
                "board `{slug}`; run `minuted board import FILE` to create it"
            )))
        }
        (0, None) => {
            return Err(Error::NotFound(
                "no board has been imported yet; run `minuted board import FILE` first".into(),
            ))
        }
        _ => {
            let slugs: Vec<&str> = boards.iter().map(|b| b.1.as_str()).collect();
            return Err(Error::Conflict(format!(
                "there are several boards ({}); name the one to show",
                slugs.join(", ")
            )));
        }
    };

    let organisations: Vec<(String, String, Vec<String>, bool)> = sqlx::query_as(
        "SELECT o.short, o.name,
                COALESCE(array_agg(d.domain ORDER BY d.domain)
                         FILTER (WHERE d.domain IS NOT NULL), '{}'),
                o.active
         FROM organisations o
         LEFT JOIN organisation_domains d ON d.organisation_id = o.id
         WHERE o.board_id = $1
         GROUP BY o.id
         ORDER BY o.id",
    )
    .bind(board_id)
    .fetch_all(&mut *tx)
    .await?;

    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        name: String,
        initials: Option<String>,
        role_text: Option<String>,
        organisation: Option<String>,
        roles: Vec<String>,
        circulation: bool,
        deputy_of: Option<String>,
        active: bool,
    }
    let members: Vec<Row> = sqlx::query_as(
        "SELECT m.id, m.name, m.initials, m.role_text, o.short AS organisation, m.roles,
                m.circulation, d.name AS deputy_of, m.active
         FROM members m
         LEFT JOIN organisations o ON o.id = m.organisation_id
         LEFT JOIN members d ON d.id = m.deputy_of
         WHERE m.board_id = $1
         ORDER BY m.id",
    )
    .bind(board_id)
    .fetch_all(&mut *tx)
    .await?;
    let addresses: Vec<(i64, String, bool, String)> = sqlx::query_as(
        "SELECT member_id, address, is_primary, status FROM member_addresses
         WHERE board_id = $1
         ORDER BY member_id, is_primary DESC, address",
    )
    .bind(board_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut addresses_by_member: HashMap<i64, Vec<AddressView>> = HashMap::new();
    for (member_id, address, primary, status) in addresses {
        addresses_by_member
            .entry(member_id)
            .or_default()
            .push(AddressView {
                address,
                primary,
                status,
            });
    }

    #[allow(clippy::type_complexity)]
    let meetings: Vec<(
        i64,
        String,
        NaiveDate,
        Option<NaiveTime>,
        String,
        Option<NaiveDate>,
        String,
    )> = sqlx::query_as(
        "SELECT id, ref, date, time, title, papers_deadline, status FROM meetings
         WHERE board_id = $1 ORDER BY date",
    )
    .bind(board_id)
    .fetch_all(&mut *tx)
    .await?;
    let items: Vec<(i64, String, String, Option<String>, bool)> = sqlx::query_as(
        "SELECT i.meeting_id, i.number, i.title, o.short, i.active
         FROM agenda_items i
         JOIN meetings m ON m.id = i.meeting_id
         LEFT JOIN organisations o ON o.id = i.lead_organisation_id
         WHERE m.board_id = $1
         ORDER BY i.meeting_id, i.position, i.id",
    )
    .bind(board_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut items_by_meeting: HashMap<i64, Vec<ItemView>> = HashMap::new();
    for (meeting_id, number, title, lead, active) in items {
        items_by_meeting
            .entry(meeting_id)
            .or_default()
            .push(ItemView {
                number,
                title,
                lead,
                active,
            });
    }
    tx.commit().await?;

    Ok(BoardView {
        slug,
        name,
        address,
        timezone,
        organisations: organisations
            .into_iter()
            .map(|(short, name, domains, active)| OrganisationView {
                short,
                name,
                domains,
                active,
            })
            .collect(),
        members: members
            .into_iter()
            .map(|m| MemberView {
                addresses: addresses_by_member.remove(&m.id).unwrap_or_default(),
                name: m.name,
                initials: m.initials,
                role: m.role_text,
                organisation: m.organisation,
                roles: m.roles,
                circulation: m.circulation,
                deputy_of: m.deputy_of,
                active: m.active,
            })
            .collect(),
        meetings: meetings
            .into_iter()
            .map(
                |(id, meeting_ref, date, time, title, papers_deadline, status)| MeetingView {
                    head: MeetingHead {
                        meeting_ref,
                        date,
                        time,
                        title,
                        papers_deadline,
                    },
                    status,
                    items: items_by_meeting.remove(&id).unwrap_or_default(),
                },
            )
            .collect(),
    })
}
