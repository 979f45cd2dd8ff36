-- Minutes revisions, approval requests and the action register.
--
-- A message filed as draft_minutes becomes a revision of its meeting's minutes. A new
-- revision supersedes the draft before it and any approval request still open for it.
-- Nothing here is deleted: superseded revisions and used requests are history.

CREATE TABLE minutes_revisions (
    id              BIGSERIAL PRIMARY KEY,
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    meeting_id      BIGINT NOT NULL REFERENCES meetings (id),
    -- 1, 2, ... per meeting
    n               INTEGER NOT NULL,
    message_id      BIGINT NOT NULL REFERENCES messages (id),
    -- the attachment the text came from; NULL when it came from the body
    attachment_id   BIGINT REFERENCES attachments (id),
    filename        TEXT,
    content_type    TEXT,
    -- docx, pdf, txt, md, html or body
    format          TEXT NOT NULL,
    extracted_text  TEXT NOT NULL,
    -- hex SHA-256 of the extracted text: identical content is not a new revision
    content_sha256  TEXT NOT NULL,
    -- the report `minutes show` prints (attendees, apologies, items, actions, unmatched)
    structure       JSONB NOT NULL DEFAULT '{}'::JSONB,
    status          TEXT NOT NULL CHECK (status IN
                    ('draft', 'approved', 'rejected', 'superseded', 'error')),
    -- why the file could not be read, for status `error`
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    decided_at      TIMESTAMPTZ,
    UNIQUE (meeting_id, n)
);
-- One revision per source message, so two workers cannot both make one.
CREATE UNIQUE INDEX minutes_revisions_message ON minutes_revisions (message_id);
CREATE INDEX minutes_revisions_meeting ON minutes_revisions (meeting_id, n DESC);

CREATE TABLE approval_requests (
    id              BIGSERIAL PRIMARY KEY,
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    -- what is to be approved: a minutes revision (later: a meeting pack)
    what            TEXT NOT NULL CHECK (what IN ('revision', 'meeting_pack')),
    revision_id     BIGINT REFERENCES minutes_revisions (id),
    approver_member_id BIGINT NOT NULL REFERENCES members (id),
    approver_address TEXT NOT NULL CHECK (approver_address = lower(approver_address)),
    -- the outbox row that carried the request (its reply_token is the signed token)
    outbox_id       BIGINT REFERENCES outbox (id),
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    -- set once, by the reply that decided it; a second decision finds it set
    used_at         TIMESTAMPTZ,
    -- open until answered; superseded when a newer revision arrives
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN
                    ('open', 'approved', 'rejected', 'superseded', 'undone')),
    decision        TEXT CHECK (decision IN ('approve', 'reject')),
    reason          TEXT,
    -- which message decided it, the token, the authentication results
    evidence        JSONB NOT NULL DEFAULT '{}'::JSONB
);
CREATE INDEX approval_requests_revision ON approval_requests (revision_id);
-- A revision is approved at most once, whichever daemon applies it.
CREATE UNIQUE INDEX approval_requests_one_approval ON approval_requests (revision_id)
    WHERE status = 'approved';

-- The action register, minimal: the next issue extends it.
CREATE TABLE board_counters (
    board_id        BIGINT PRIMARY KEY REFERENCES boards (id),
    next_action     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE actions (
    id              BIGSERIAL PRIMARY KEY,
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    -- `LCJB-A17`
    ref             TEXT NOT NULL UNIQUE,
    text            TEXT NOT NULL,
    owner_text      TEXT,
    owner_organisation_id BIGINT REFERENCES organisations (id),
    owner_member_id BIGINT REFERENCES members (id),
    meeting_id      BIGINT REFERENCES meetings (id),
    item_number     TEXT,
    revision_id     BIGINT REFERENCES minutes_revisions (id),
    due             DATE,
    due_text        TEXT,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dropped')),
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX actions_board ON actions (board_id, status);

-- Every draft_minutes message looked at, with what came of it: a revision, the same
-- content again, or no meeting. The worker takes messages not yet here.
CREATE TABLE minutes_sources (
    message_id      BIGINT PRIMARY KEY REFERENCES messages (id),
    revision_id     BIGINT REFERENCES minutes_revisions (id),
    outcome         TEXT NOT NULL CHECK (outcome IN ('revision', 'identical', 'error')),
    at              TIMESTAMPTZ NOT NULL
);

-- Every approval_reply message handled, with its outcome; one row per message, so a
-- reply is handled once however many daemons run.
CREATE TABLE approval_replies (
    message_id      BIGINT PRIMARY KEY REFERENCES messages (id),
    request_id      BIGINT REFERENCES approval_requests (id),
    -- approved, rejected, undone, comment, refused, unchanged
    outcome         TEXT NOT NULL,
    reason          TEXT,
    at              TIMESTAMPTZ NOT NULL
);
