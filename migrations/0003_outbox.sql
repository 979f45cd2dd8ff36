-- Outbound mail: one row per recipient email, created in the same transaction as the
-- change that causes it, sent by the sender worker, never deleted. Every attempt and its
-- outcome is kept in outbox_attempts.

CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    kind            TEXT NOT NULL CHECK (kind IN
                    ('acknowledgement', 'approval_request', 'approval_result', 'circulation',
                     'action_pack', 'update_request', 'chaser', 'meeting_pack',
                     'bounce_notice')),
    meeting_id      BIGINT REFERENCES meetings (id),
    -- the member this is for, when it is one; the address is what the mail goes to
    member_id       BIGINT REFERENCES members (id),
    to_address      TEXT NOT NULL CHECK (to_address = lower(to_address)),
    to_name         TEXT,
    -- what the caller knew at enqueue; the worker adds board, meeting and member from
    -- the database when it renders
    context         JSONB NOT NULL DEFAULT '{}'::JSONB,
    -- NULL until rendered; once rendered, every retry sends exactly these
    subject         TEXT,
    body_text       TEXT,
    body_html       TEXT,
    rendered_at     TIMESTAMPTZ,
    -- without angle brackets, chosen at enqueue and never changed: a retry after an
    -- unknown outcome carries the same Message-ID so the recipient can de-duplicate
    message_id      TEXT NOT NULL UNIQUE,
    in_reply_to     TEXT,
    "references"    TEXT[] NOT NULL DEFAULT '{}',
    -- Reply-To is <board local>+<reply_token>@<board domain>
    reply_token     TEXT NOT NULL UNIQUE,
    -- pending: waiting for its first attempt; sending: leased by a worker; sent: the
    -- server accepted it; retrying: transient failure, next_attempt_at says when;
    -- failed: permanent failure or gave up; unknown: the connection was lost after the
    -- message was handed over (retried with the same Message-ID); bounced: a bounce came
    -- back; expired: the event it was for passed first; held: waits for hold_until
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                    ('pending', 'sending', 'sent', 'retrying', 'failed', 'unknown',
                     'bounced', 'expired', 'held')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- when the worker may next take it: the first attempt, a retry, the end of a hold,
    -- or (while sending) the end of the lease
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT,
    lease_expires_at TIMESTAMPTZ,
    -- not sent after this (a chaser for a meeting that has passed): expired instead
    expires_at      TIMESTAMPTZ,
    hold_until      TIMESTAMPTZ,
    last_error      TEXT,
    -- the server's reply to the last attempt, e.g. `250 2.0.0 Ok: queued as 4Sx...`
    server_reply    TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    -- start of the retry window (max_retry_hours): the enqueue, or a manual retry
    queued_at       TIMESTAMPTZ NOT NULL,
    -- when status last changed
    status_at       TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    -- when the secretariat was told of this row's failure or bounce (bounce_notice)
    notified_at     TIMESTAMPTZ
);
-- What the worker looks for: rows that may be taken now.
CREATE INDEX outbox_due ON outbox (next_attempt_at)
    WHERE status IN ('pending', 'retrying', 'unknown', 'held', 'sending');
CREATE INDEX outbox_expiring ON outbox (expires_at)
    WHERE expires_at IS NOT NULL AND status IN ('pending', 'retrying', 'unknown', 'held');
CREATE INDEX outbox_status ON outbox (status, id);
CREATE INDEX outbox_meeting ON outbox (meeting_id) WHERE meeting_id IS NOT NULL;
-- Failures and bounces the secretariat has not been told of yet.
CREATE INDEX outbox_unnotified ON outbox (board_id)
    WHERE status IN ('failed', 'bounced') AND notified_at IS NULL;

-- Every attempt to send a row, written when the row is leased (so a worker that dies
-- mid-send still leaves a trace) and completed with its outcome.
CREATE TABLE outbox_attempts (
    id          BIGSERIAL PRIMARY KEY,
    outbox_id   BIGINT NOT NULL REFERENCES outbox (id),
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    -- NULL while in flight; `unknown` also when the lease ran out before an outcome
    outcome     TEXT CHECK (outcome IN
                ('sent', 'transient', 'permanent', 'unknown', 'expired', 'render_failed')),
    detail      TEXT,
    server_reply TEXT,
    UNIQUE (outbox_id, attempt)
);
CREATE INDEX outbox_attempts_started ON outbox_attempts (started_at);

-- Attachments by reference to the stored bytes (migration 0002); the file name and type
-- are the outgoing message's, not necessarily those it arrived with.
CREATE TABLE outbox_attachments (
    outbox_id       BIGINT NOT NULL REFERENCES outbox (id),
    position        INTEGER NOT NULL,
    attachment_id   BIGINT NOT NULL REFERENCES attachments (id),
    filename        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    PRIMARY KEY (outbox_id, position)
);

-- When each board's secretariat was last sent a bounce_notice: at most one an hour, so a
-- bad morning is one summary, not a flood. The row is locked while deciding.
CREATE TABLE outbox_notice_markers (
    board_id        BIGINT PRIMARY KEY REFERENCES boards (id),
    -- NULL: never
    last_notice_at  TIMESTAMPTZ
);
