-- Attendance by email. Each member who receives circulation is sent an iCalendar
-- invitation to each meeting (`invitations`, the last one sent to each member: its
-- SEQUENCE and method). A change of the meeting's time, end or place raises the meeting's
-- `invitation_sequence` and sends an update; a meeting marked cancelled sends a
-- METHOD:CANCEL. Answers (calendar replies, "Apologies, Jo will attend for me") are kept in
-- `attendance`, one row per member and meeting, the latest answer winning. A board with a
-- quorum (of members, or of organisations) has the secretariat told once, from
-- `schedule.quorum_days` before a meeting, if apologies put it at risk.

ALTER TABLE boards
    ADD COLUMN quorum_members INTEGER CHECK (quorum_members > 0),
    ADD COLUMN quorum_organisations INTEGER CHECK (quorum_organisations > 0);

ALTER TABLE meetings
    ADD COLUMN location TEXT,
    ADD COLUMN end_time TIME,
    ADD COLUMN cancelled BOOLEAN NOT NULL DEFAULT false,
    -- raised each time the invitation's time or place changes after it was first sent
    ADD COLUMN invitation_sequence INTEGER NOT NULL DEFAULT 0,
    -- the time and place the current sequence was sent with
    ADD COLUMN invitation_fingerprint TEXT,
    -- when the secretariat was told apologies put the quorum at risk
    ADD COLUMN quorum_warned_at TIMESTAMPTZ;

CREATE TABLE invitations (
    meeting_id  BIGINT NOT NULL REFERENCES meetings (id),
    member_id   BIGINT NOT NULL REFERENCES members (id),
    sequence    INTEGER NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('REQUEST', 'CANCEL')),
    outbox_id   BIGINT REFERENCES outbox (id),
    sent_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);

CREATE TABLE attendance (
    id                BIGSERIAL PRIMARY KEY,
    meeting_id        BIGINT NOT NULL REFERENCES meetings (id),
    member_id         BIGINT NOT NULL REFERENCES members (id),
    response          TEXT NOT NULL CHECK (response IN ('attending', 'apologies', 'tentative')),
    -- the reason as written, when one was given
    reason            TEXT,
    -- who attends in the member's place: a member of the board, else the name as written
    deputy_member_id  BIGINT REFERENCES members (id),
    deputy_name       TEXT,
    -- `reply` (the member named them) or `registry` (their deputy_of, proposed)
    deputy_source     TEXT CHECK (deputy_source IN ('reply', 'registry')),
    -- answered after the meeting had started
    late              BOOLEAN NOT NULL DEFAULT false,
    message_id        BIGINT REFERENCES messages (id),
    -- `calendar` (an iCalendar REPLY or a response subject), `words` (a plain reply),
    -- or `cli`
    via               TEXT NOT NULL,
    responded_at      TIMESTAMPTZ NOT NULL,
    recorded_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (meeting_id, member_id)
);

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN
    ('acknowledgement', 'approval_request', 'approval_result', 'circulation',
     'action_pack', 'update_request', 'chaser', 'meeting_pack', 'bounce_notice',
     'reply_help', 'triage_notice', 'alert', 'invitation', 'attendance_recorded',
     'quorum_warning'));
