-- The action register's history, the persistent schedule and meeting packs.
--
-- Nothing here is deleted: an action's updates, every job that fired, expired or was
-- skipped, and every pack compiled stay as history.

-- Who last changed an action, and when it was closed.
ALTER TABLE actions
    ADD COLUMN added_by    TEXT NOT NULL DEFAULT 'minutes',
    ADD COLUMN updated_at  TIMESTAMPTZ,
    ADD COLUMN closed_at   TIMESTAMPTZ;
CREATE INDEX actions_owner ON actions (owner_organisation_id) WHERE status = 'open';

-- Progress on an action: from a filed message (a reply to an action pack or update
-- request, or any message naming the action) or by hand.
CREATE TABLE action_updates (
    id              BIGSERIAL PRIMARY KEY,
    action_id       BIGINT NOT NULL REFERENCES actions (id),
    -- the message it came from; its attachments are the update's attachments
    message_id      BIGINT REFERENCES messages (id),
    -- done: the action was closed by it; progress: recorded only; dropped / reopened: by
    -- the secretariat
    kind            TEXT NOT NULL CHECK (kind IN ('done', 'progress', 'dropped', 'reopened')),
    text            TEXT NOT NULL,
    organisation_id BIGINT REFERENCES organisations (id),
    member_id       BIGINT REFERENCES members (id),
    -- the sender's address, `cli`, or a person's address for a change by hand
    by_text         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX action_updates_action ON action_updates (action_id, created_at);
-- A message updates an action once, however many workers look at it.
CREATE UNIQUE INDEX action_updates_message ON action_updates (message_id, action_id)
    WHERE message_id IS NOT NULL;

-- Every filed action_update message looked at, with what came of it, so a message is
-- applied once: applied (an action_updates row), or refused and sent to triage.
CREATE TABLE action_update_sources (
    message_id      BIGINT PRIMARY KEY REFERENCES messages (id),
    action_id       BIGINT REFERENCES actions (id),
    outcome         TEXT NOT NULL CHECK (outcome IN ('done', 'progress', 'triage', 'closed')),
    reason          TEXT,
    at              TIMESTAMPTZ NOT NULL
);

-- A meeting's pack as compiled at its papers deadline: the rendering context (agenda,
-- updates received, action log, who did not report) frozen so that what is approved is
-- what is circulated.
CREATE TABLE meeting_packs (
    id              BIGSERIAL PRIMARY KEY,
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    meeting_id      BIGINT NOT NULL REFERENCES meetings (id),
    n               INTEGER NOT NULL,
    content         JSONB NOT NULL,
    -- hex SHA-256 of `content` as compiled: the approval token is bound to it
    content_sha256  TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'draft' CHECK (status IN
                    ('draft', 'approved', 'rejected', 'superseded')),
    created_at      TIMESTAMPTZ NOT NULL,
    decided_at      TIMESTAMPTZ,
    UNIQUE (meeting_id, n)
);

ALTER TABLE approval_requests
    ADD COLUMN meeting_pack_id BIGINT REFERENCES meeting_packs (id),
    ADD CONSTRAINT approval_requests_subject CHECK (
        (what = 'revision' AND revision_id IS NOT NULL AND meeting_pack_id IS NULL)
        OR (what = 'meeting_pack' AND meeting_pack_id IS NOT NULL AND revision_id IS NULL));
CREATE INDEX approval_requests_pack ON approval_requests (meeting_pack_id);
-- A pack is approved at most once, whichever daemon applies it.
CREATE UNIQUE INDEX approval_requests_one_pack_approval ON approval_requests (meeting_pack_id)
    WHERE status = 'approved';

-- The persistent schedule: one row per thing to do at a time. Rows are planned ahead
-- (idempotently, by the unique index) and taken with FOR UPDATE SKIP LOCKED, so each
-- fires once whichever daemon gets there first; a row whose moment passed beyond
-- expires_at while no daemon ran expires instead of firing late.
CREATE TABLE schedule_jobs (
    id              BIGSERIAL PRIMARY KEY,
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    kind            TEXT NOT NULL CHECK (kind IN ('update_request', 'chaser', 'meeting_pack')),
    meeting_id      BIGINT NOT NULL REFERENCES meetings (id),
    -- the organisation asked or chased; NULL for a meeting pack
    organisation_id BIGINT REFERENCES organisations (id),
    due_at          TIMESTAMPTZ NOT NULL,
    -- not fired after this: expired instead
    expires_at      TIMESTAMPTZ NOT NULL,
    -- pending: waiting for due_at; fired: done, the outbox rows are queued; skipped: not
    -- needed when its time came (the update had arrived); expired: its moment passed
    -- while no daemon ran; cancelled: the meeting or organisation went away
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                    ('pending', 'fired', 'skipped', 'expired', 'cancelled')),
    -- what firing did: outbox ids, recipients, or why it was skipped
    outcome         JSONB NOT NULL DEFAULT '{}'::JSONB,
    fired_by        TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    done_at         TIMESTAMPTZ
);
CREATE UNIQUE INDEX schedule_jobs_once ON schedule_jobs (kind, meeting_id, COALESCE(organisation_id, 0));
CREATE INDEX schedule_jobs_due ON schedule_jobs (due_at) WHERE status = 'pending';
