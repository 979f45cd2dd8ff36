-- A message's search vector is worked out from its subject when it is stored, and from its
-- own words once the indexer has found them; not from the whole body at every insert.
--
-- 0015 made `search` a generated column over the subject and `coalesce(own_text,
-- body_text)`: every message stored paid for `to_tsvector` over its whole body (quotes and
-- all) inside the ingest transaction, and again when its own words came in. On a 10,000
-- message ingest that was most of the time. A trigger now sets it only when the subject
-- or the own words change; until the indexer has run, a message is found by its subject.

ALTER TABLE messages DROP COLUMN search;
ALTER TABLE messages ADD COLUMN search TSVECTOR;

CREATE FUNCTION messages_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := setweight(to_tsvector('english', left(coalesce(NEW.subject, ''), 1000)), 'A')
        || setweight(to_tsvector('english', left(coalesce(NEW.own_text, ''), 200000)), 'B');
    RETURN NEW;
END $$;

-- On UPDATE only when the subject or the own words are written (retention and erasure
-- write them; filing never does).
CREATE TRIGGER messages_search BEFORE INSERT OR UPDATE OF subject, own_text ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_search_vector();

UPDATE messages
SET search = setweight(to_tsvector('english', left(coalesce(subject, ''), 1000)), 'A')
    || setweight(to_tsvector('english', left(coalesce(own_text, ''), 200000)), 'B');

CREATE INDEX messages_search ON messages USING GIN (search);
