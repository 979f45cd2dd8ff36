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

-- A counter every change to the registry bumps, so the filing worker keeps its snapshot of
-- the registry until the registry changes instead of reading it again for every message.
CREATE TABLE registry_version (
    id          BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    -- tells databases apart for a process that talks to several
    instance    BIGINT NOT NULL DEFAULT (floor(random() * 9e15))::BIGINT,
    version     BIGINT NOT NULL DEFAULT 0
);
INSERT INTO registry_version DEFAULT VALUES;

CREATE FUNCTION registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_version SET version = version + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER boards_changed AFTER INSERT OR UPDATE OR DELETE ON boards
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER organisations_changed AFTER INSERT OR UPDATE OR DELETE ON organisations
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER organisation_domains_changed AFTER INSERT OR UPDATE OR DELETE
    ON organisation_domains FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER members_changed AFTER INSERT OR UPDATE OR DELETE ON members
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER member_addresses_changed AFTER INSERT OR UPDATE OR DELETE ON member_addresses
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER meetings_changed AFTER INSERT OR UPDATE OR DELETE ON meetings
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
CREATE TRIGGER agenda_items_changed AFTER INSERT OR UPDATE OR DELETE ON agenda_items
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
