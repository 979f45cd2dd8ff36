-- Search over the archive: PostgreSQL full-text search (English) over each message's
-- subject and own words, and over the text of its .docx, .pdf and text attachments.
--
-- `own_text` is the sender's own words in the body (quotes, signatures and footers
-- trimmed), filled in after the message is stored; until then the whole body text is
-- searched. An attachment's `text` is extracted once (`text_state`: pending until read,
-- then done, none for a type that holds no readable text, or error).

ALTER TABLE messages ADD COLUMN own_text TEXT;
ALTER TABLE messages ADD COLUMN search TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('english', left(coalesce(subject, ''), 1000)), 'A')
    || setweight(to_tsvector('english', left(coalesce(own_text, body_text, ''), 200000)), 'B')
) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
CREATE INDEX messages_own_text_pending ON messages (id) WHERE own_text IS NULL;

ALTER TABLE attachments ADD COLUMN text TEXT;
ALTER TABLE attachments ADD COLUMN text_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (text_state IN ('pending', 'done', 'none', 'error'));
ALTER TABLE attachments ADD COLUMN search TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('english', left(coalesce(text, ''), 500000)), 'C')
) STORED;
CREATE INDEX attachments_search ON attachments USING GIN (search);
CREATE INDEX attachments_text_pending ON attachments (id) WHERE text_state = 'pending';
CREATE INDEX message_attachments_attachment ON message_attachments (attachment_id);
