-- Records management: retention, legal holds.
--
-- Nothing is deleted outright. What has expired under `[retention]` becomes a tombstone:
-- the bytes, bodies and personal fields are emptied and `removed_at`/`removed_rule` say
-- when and under which rule; the id, hash, dates, kind and filing stay. An attachment's
-- bytes go when no retained message, outgoing message or minutes revision uses them.

ALTER TABLE messages ADD COLUMN removed_at TIMESTAMPTZ, ADD COLUMN removed_rule TEXT;
ALTER TABLE outbox ADD COLUMN removed_at TIMESTAMPTZ, ADD COLUMN removed_rule TEXT;
ALTER TABLE minutes_revisions ADD COLUMN removed_at TIMESTAMPTZ, ADD COLUMN removed_rule TEXT;
ALTER TABLE attachments ADD COLUMN removed_at TIMESTAMPTZ;

-- A legal hold: nothing about the meeting, or to or from the person, is removed while it
-- is in force.
CREATE TABLE holds (
    id           BIGSERIAL PRIMARY KEY,
    meeting_id   BIGINT REFERENCES meetings (id),
    person       TEXT CHECK (person = lower(person)),
    reason       TEXT NOT NULL CHECK (reason <> ''),
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    released_at  TIMESTAMPTZ,
    released_by  TEXT,
    CHECK ((meeting_id IS NULL) <> (person IS NULL))
);

-- What holds in force cover, as every query about holds reads it.
CREATE VIEW held_meetings AS
    SELECT meeting_id FROM holds WHERE released_at IS NULL AND meeting_id IS NOT NULL;
CREATE VIEW held_people AS
    SELECT person FROM holds WHERE released_at IS NULL AND person IS NOT NULL;

-- One retention run per day, whichever daemon gets there first.
CREATE TABLE retention_runs (
    day      DATE PRIMARY KEY,
    ran_at   TIMESTAMPTZ NOT NULL,
    removed  JSONB NOT NULL DEFAULT '{}'::JSONB
);

-- The audit log stays append-only, except for records management: a retention run
-- (removing events past `retention.event_days`) and an erasure (replacing a person's
-- address and name with a pseudonym) say so for their own transaction with
-- `SET LOCAL minuted.records = 'on'`, and only they may change or remove events.
CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('minuted.records', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP;
END;
$$;
