-- The status page's users and the secretariat's daily digest.
--
-- `http_users`: who may sign in to the read-only status page. Passwords are kept only as
-- Argon2id hashes in PHC string form (`$argon2id$v=19$...`), never in clear.
CREATE TABLE http_users (
    id               BIGSERIAL PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    password_set_at  TIMESTAMPTZ NOT NULL,
    last_sign_in_at  TIMESTAMPTZ
);

-- One digest per board per local day: the row is written when the day's digest was
-- considered, with the outbox row when there was something to say, so it is decided once
-- however many daemons run.
CREATE TABLE digests (
    board_id     BIGINT NOT NULL REFERENCES boards (id),
    day          DATE NOT NULL,
    -- what it covers: messages received from `since` until `until`
    since        TIMESTAMPTZ NOT NULL,
    until        TIMESTAMPTZ NOT NULL,
    outbox_id    BIGINT REFERENCES outbox (id),
    PRIMARY KEY (board_id, day)
);

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN
    ('acknowledgement', 'approval_request', 'approval_result', 'circulation',
     'action_pack', 'update_request', 'chaser', 'meeting_pack', 'bounce_notice',
     'reply_help', 'triage_notice', 'alert', 'invitation', 'attendance_recorded',
     'quorum_warning', 'digest'));
