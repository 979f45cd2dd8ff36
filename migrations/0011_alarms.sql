-- Alarms when mail stops. The ingest worker and the sender record each contact with
-- their server (`mail_health`, one row per service, and `mailbox_folder_contacts` per
-- folder); an alarm opens when a service has failed for longer than its
-- `alerts.*_minutes` or a sign-in is refused, and is resolved when contact returns. The
-- secretariat is emailed once when an alarm opens and once when it is resolved
-- (`alert`, through the outbox, so it is retried).

CREATE TABLE mail_health (
    service          TEXT PRIMARY KEY CHECK (service IN ('mailbox', 'outgoing')),
    name             TEXT NOT NULL,
    last_ok_at       TIMESTAMPTZ,
    -- The first failure since the last success; NULL while contact is good.
    failing_since    TIMESTAMPTZ,
    last_error       TEXT,
    last_error_at    TIMESTAMPTZ,
    -- The server or the identity provider refused our credentials: alarm at once.
    sign_in_refused  BOOLEAN NOT NULL DEFAULT false,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE mailbox_folder_contacts (
    mailbox     TEXT NOT NULL,
    folder      TEXT NOT NULL,
    last_ok_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (mailbox, folder)
);

CREATE TABLE alarms (
    id           BIGSERIAL PRIMARY KEY,
    service      TEXT NOT NULL CHECK (service IN ('mailbox', 'outgoing')),
    opened_at    TIMESTAMPTZ NOT NULL,
    reason       TEXT NOT NULL,
    resolved_at  TIMESTAMPTZ
);
-- At most one open alarm per service, across every process.
CREATE UNIQUE INDEX alarms_one_open ON alarms (service) WHERE resolved_at IS NULL;

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN
    ('acknowledgement', 'approval_request', 'approval_result', 'circulation',
     'action_pack', 'update_request', 'chaser', 'meeting_pack', 'bounce_notice',
     'reply_help', 'triage_notice', 'alert'));
