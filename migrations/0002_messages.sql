-- Inbound mail: every message ever read, raw bytes kept forever, with the fields parsed
-- from it and its attachments (stored once per content hash). Nothing here is deleted.

CREATE TABLE messages (
    id              BIGSERIAL PRIMARY KEY,
    -- where it was read: `imap://user@host/INBOX` or `maildir:/path`, and the UID or
    -- file name there
    source          TEXT NOT NULL,
    source_ref      TEXT,
    received_at     TIMESTAMPTZ NOT NULL,
    -- SHA-256 of the raw bytes as fetched: the de-duplication key for mail without a
    -- Message-ID and for the same bytes delivered twice
    raw_sha256      BYTEA NOT NULL UNIQUE,
    raw_size        BIGINT NOT NULL,
    -- the whole message; for one over mailbox.max_message_bytes only its header block
    raw             BYTEA NOT NULL,
    raw_truncated   BOOLEAN NOT NULL DEFAULT FALSE,
    -- Message-ID without angle brackets
    message_id      TEXT,
    in_reply_to     TEXT,
    "references"    TEXT[] NOT NULL DEFAULT '{}',
    from_address    TEXT,
    from_name       TEXT,
    sender_address  TEXT,
    to_addresses    TEXT[] NOT NULL DEFAULT '{}',
    cc_addresses    TEXT[] NOT NULL DEFAULT '{}',
    reply_to        TEXT[] NOT NULL DEFAULT '{}',
    -- envelope recipient where the source knows it (Delivered-To, X-Original-To)
    delivered_to    TEXT[] NOT NULL DEFAULT '{}',
    subject         TEXT,
    sent_at         TIMESTAMPTZ,
    -- Always an object. Keys, each present only when the header is: auto_submitted,
    -- precedence, x_autoreply, x_autorespond, x_auto_response_suppress, list_id,
    -- return_path, x_failed_recipients, x_mailer, user_agent (each the first occurrence,
    -- unfolded); authentication_results (an array of every occurrence); content_type (the
    -- top-level type/subtype, lower case) and report_type (for multipart/report).
    headers         JSONB NOT NULL DEFAULT '{}'::JSONB,
    -- the readable text: text/plain preferred, HTML converted to text
    body_text       TEXT,
    body_html       TEXT,
    -- delivery-status notification parts (RFC 3464), when the message is one:
    -- {"message": {field: value}, "recipients": [{field: value}]}, field names lower case
    -- with '-' written '_' (final_recipient, action, status, diagnostic_code, ...)
    dsn             JSONB,
    -- received: stored, waiting for filing; filed / triage / quarantined: filing's
    -- verdict; unparseable: kept raw with parse_error; oversized: headers only
    status          TEXT NOT NULL DEFAULT 'received' CHECK (status IN
                    ('received', 'filed', 'triage', 'quarantined', 'unparseable', 'oversized')),
    parse_error     TEXT
);
-- One row per Message-ID: a re-delivery with different bytes (another Received: line)
-- is still the same message.
CREATE UNIQUE INDEX messages_message_id ON messages (message_id) WHERE message_id IS NOT NULL;
CREATE INDEX messages_status ON messages (status, id);
CREATE INDEX messages_in_reply_to ON messages (in_reply_to) WHERE in_reply_to IS NOT NULL;

-- Attachment bytes, stored once however many messages carry them.
CREATE TABLE attachments (
    id          BIGSERIAL PRIMARY KEY,
    sha256      BYTEA NOT NULL UNIQUE,
    size        BIGINT NOT NULL,
    content     BYTEA NOT NULL
);

CREATE TABLE message_attachments (
    message_id      BIGINT NOT NULL REFERENCES messages (id),
    position        INTEGER NOT NULL,
    attachment_id   BIGINT NOT NULL REFERENCES attachments (id),
    filename        TEXT,
    content_type    TEXT NOT NULL,
    PRIMARY KEY (message_id, position)
);

-- How far each mailbox folder has been read. A new UIDVALIDITY starts a new row; old
-- rows stay as history.
CREATE TABLE mailbox_cursors (
    mailbox     TEXT NOT NULL,
    folder      TEXT NOT NULL,
    uidvalidity BIGINT NOT NULL,
    last_uid    BIGINT NOT NULL DEFAULT 0,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox, folder, uidvalidity)
);

-- Stored mail is compressed with lz4 where the server offers it (PostgreSQL 14 and later,
-- built with lz4, as Debian's is): several times faster to write than the default pglz,
-- which made large messages slow to store. Other servers keep pglz.
DO $$
BEGIN
    IF current_setting('server_version_num')::INT >= 140000 THEN
        BEGIN
            EXECUTE 'ALTER TABLE messages ALTER COLUMN raw SET COMPRESSION lz4';
            EXECUTE 'ALTER TABLE attachments ALTER COLUMN content SET COMPRESSION lz4';
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'lz4 compression is not available here; stored mail uses pglz';
        END;
    END IF;
END
$$;
