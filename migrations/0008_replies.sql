-- Replies read the way people write them.
--
-- Calendar responses are a kind of their own, with the member's answer (accepted,
-- declined, tentative, delegated) kept beside the filing. Two new kinds of outgoing
-- mail: `reply_help` answers a reply minuted could not act on (what it understood, what
-- happens next, the reply that would work), and `triage_notice` tells the secretariat,
-- at most hourly, that messages wait for a person.

ALTER TABLE filings DROP CONSTRAINT filings_kind_check;
ALTER TABLE filings ADD CONSTRAINT filings_kind_check CHECK (kind IN
    ('draft_minutes', 'written_update', 'approval_reply', 'action_update', 'bounce',
     'auto_reply', 'attendance_response', 'unrelated'));
-- {"participation": "declined", "uid": "...", "comment": "..."} for attendance responses
ALTER TABLE filings ADD COLUMN attendance JSONB;

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN
    ('acknowledgement', 'approval_request', 'approval_result', 'circulation',
     'action_pack', 'update_request', 'chaser', 'meeting_pack', 'bounce_notice',
     'reply_help', 'triage_notice'));

-- The message each answer is about: one answer per message, however many daemons file.
CREATE TABLE reply_answers (
    message_id  BIGINT PRIMARY KEY REFERENCES messages (id),
    outbox_id   BIGINT NOT NULL REFERENCES outbox (id),
    reason      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- When the secretariat was last told that messages wait in triage: a notice goes at most
-- hourly, and only when something has come into triage since the last one. The row is
-- locked while deciding, so two daemons never both send one.
CREATE TABLE triage_notice_markers (
    board_id            BIGINT PRIMARY KEY REFERENCES boards (id),
    last_notice_at      TIMESTAMPTZ
);
