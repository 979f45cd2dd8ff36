-- The board registry (boards, organisations, members, meetings, agenda items) and the
-- append-only audit log. Rows in the registry are never deleted: later tables (messages,
-- filings, actions) point at them, so a removal is `active = false`.

CREATE TABLE boards (
    id          BIGSERIAL PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE organisations (
    id          BIGSERIAL PRIMARY KEY,
    board_id    BIGINT NOT NULL REFERENCES boards (id),
    short       TEXT NOT NULL,
    name        TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (board_id, short)
);

-- Email domains an organisation sends from, lower-case, e.g. `met.example`.
CREATE TABLE organisation_domains (
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    domain          TEXT NOT NULL CHECK (domain = lower(domain)),
    PRIMARY KEY (organisation_id, domain)
);
CREATE INDEX organisation_domains_domain ON organisation_domains (domain);

CREATE TABLE members (
    id              BIGSERIAL PRIMARY KEY,
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    name            TEXT NOT NULL,
    initials        TEXT,
    role_text       TEXT,
    organisation_id BIGINT REFERENCES organisations (id),
    -- any of chair, secretariat, member, observer
    roles           TEXT[] NOT NULL DEFAULT '{}',
    circulation     BOOLEAN NOT NULL DEFAULT TRUE,
    deputy_of       BIGINT REFERENCES members (id),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A member is identified by name within a board: addresses change more often than names.
    UNIQUE (board_id, name),
    CHECK (roles <@ ARRAY['chair', 'secretariat', 'member', 'observer']::TEXT[])
);

-- A member's email addresses, lower-case. The first listed is primary. `status` becomes
-- `bouncing` when a hard bounce is recorded against the address.
CREATE TABLE member_addresses (
    member_id   BIGINT NOT NULL REFERENCES members (id),
    board_id    BIGINT NOT NULL REFERENCES boards (id),
    address     TEXT NOT NULL CHECK (address = lower(address)),
    is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
    status      TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'bouncing')),
    PRIMARY KEY (member_id, address),
    UNIQUE (board_id, address)
);

CREATE TABLE meetings (
    id              BIGSERIAL PRIMARY KEY,
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    ref             TEXT NOT NULL UNIQUE,
    date            DATE NOT NULL,
    time            TIME,
    title           TEXT NOT NULL,
    papers_deadline DATE,
    status          TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN
                    ('scheduled', 'held', 'minutes_draft', 'minutes_approved', 'circulated')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (board_id, date)
);

CREATE TABLE agenda_items (
    id                   BIGSERIAL PRIMARY KEY,
    meeting_id           BIGINT NOT NULL REFERENCES meetings (id),
    -- as written in the agenda: `1`, `2.b`, `4`
    number               TEXT NOT NULL,
    position             INTEGER NOT NULL,
    title                TEXT NOT NULL,
    lead_organisation_id BIGINT REFERENCES organisations (id),
    active               BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (meeting_id, number)
);

-- The audit trail: what changed, by whom or what, and why. Append-only.
CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    board_id    BIGINT REFERENCES boards (id),
    -- who or what: `system`, `cli`, `rule`, or a person's address
    actor       TEXT NOT NULL,
    -- dotted verb, e.g. `board.imported`, `member.deactivated`
    kind        TEXT NOT NULL,
    -- what it concerns, e.g. `member` / 42
    subject_type TEXT,
    subject_id  BIGINT,
    detail      JSONB NOT NULL DEFAULT '{}'::JSONB
);
CREATE INDEX events_subject ON events (subject_type, subject_id);
CREATE INDEX events_at ON events (at);

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
