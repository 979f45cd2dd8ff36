-- Workers wake when work is queued instead of at their next poll. A statement that files
-- messages (a new filing, or triage settled by hand) announces it on
-- `minuted_messages_filed`, which the minutes, approval and action-update workers listen
-- on; a statement that queues email announces it on `minuted_outbox_queued`, which the
-- sender listens on. One notification per statement, with no payload, so queueing 10,000
-- emails in one statement sends one. The workers still poll: a notification missed while
-- a listener reconnects delays work by the poll interval and never loses it.

CREATE FUNCTION minuted_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER filings_announce
    AFTER INSERT OR UPDATE OF kind, disposition ON filings
    FOR EACH STATEMENT EXECUTE FUNCTION minuted_announce('minuted_messages_filed');

CREATE TRIGGER outbox_announce
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION minuted_announce('minuted_outbox_queued');
