-- Filing: what each inbound message is and what it belongs to, decided by rule or by a
-- person. A message's filings are its history: re-filing adds a row and clears `current`
-- on the one before, so exactly one row per message is current and none is deleted.
--
-- Filing reads these keys of `messages.headers` besides those listed in 0002:
-- list_unsubscribe, x_spam_flag, x_spam_status, x_failed_recipients.

CREATE TABLE filings (
    id              BIGSERIAL PRIMARY KEY,
    message_id      BIGINT NOT NULL REFERENCES messages (id),
    board_id        BIGINT NOT NULL REFERENCES boards (id),
    kind            TEXT NOT NULL CHECK (kind IN
                    ('draft_minutes', 'written_update', 'approval_reply', 'action_update',
                     'bounce', 'auto_reply', 'unrelated')),
    -- filed: at or above filing.threshold (or by hand); triage: below it; quarantined:
    -- from a sender the registry does not know
    disposition     TEXT NOT NULL CHECK (disposition IN ('filed', 'triage', 'quarantined')),
    meeting_id      BIGINT REFERENCES meetings (id),
    item_id         BIGINT REFERENCES agenda_items (id),
    -- `LCJB-A17`; a reference rather than a key until the action register exists
    action_ref      TEXT,
    organisation_id BIGINT REFERENCES organisations (id),
    member_id       BIGINT REFERENCES members (id),
    confidence      REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    -- every signal that counted, in words, as a JSON array of strings
    reasons         JSONB NOT NULL DEFAULT '[]'::JSONB,
    -- `rule` for the decision function, `cli` or a person's address for a human
    decided_by      TEXT NOT NULL,
    decided_at      TIMESTAMPTZ NOT NULL,
    -- the outbox row the message replies to or bounces, when known
    outbox_id       BIGINT,
    current         BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE UNIQUE INDEX filings_current ON filings (message_id) WHERE current;
CREATE INDEX filings_meeting ON filings (meeting_id, kind) WHERE current;
CREATE INDEX filings_disposition ON filings (disposition) WHERE current;

-- Acknowledgements owed to the senders of filed updates, recorded in the transaction that
-- files the update. `sent_to_outbox_at` is set when the outbox takes it; until then it is
-- owed, so nothing is lost while the outbox is unavailable.
CREATE TABLE pending_acknowledgements (
    id                  BIGSERIAL PRIMARY KEY,
    filing_id           BIGINT NOT NULL UNIQUE REFERENCES filings (id),
    message_id          BIGINT NOT NULL REFERENCES messages (id),
    board_id            BIGINT NOT NULL REFERENCES boards (id),
    meeting_id          BIGINT REFERENCES meetings (id),
    member_id           BIGINT REFERENCES members (id),
    to_address          TEXT NOT NULL,
    -- what the update was filed against and how to correct it
    context             JSONB NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    sent_to_outbox_at   TIMESTAMPTZ,
    outbox_id           BIGINT
);
CREATE INDEX pending_acknowledgements_owed ON pending_acknowledgements (id)
    WHERE sent_to_outbox_at IS NULL;

-- Wakes the filing worker as soon as ingestion commits a message, instead of polling.
CREATE FUNCTION messages_notify_received() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'received' THEN
        PERFORM pg_notify('minuted_messages_received', NEW.id::TEXT);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER messages_received_notify AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_notify_received();
