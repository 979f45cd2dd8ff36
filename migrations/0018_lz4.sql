-- 0002 compresses a message's raw bytes and attachment contents with lz4 where the
-- server offers it. The other large values stayed with PostgreSQL's default pglz, which
-- profiling showed as the database's largest single cost of storing and indexing a
-- message (its bodies, own words and search vector) and of recording a send (the
-- rendered bodies): they are lz4 too from now on. Only values written from now on are
-- affected. A server before PostgreSQL 14 (no per-column compression) or built without
-- lz4 keeps pglz; the statements are run with EXECUTE so that either is caught here
-- rather than failing the migration.

DO $$
BEGIN
    IF current_setting('server_version_num')::INT < 140000 THEN
        RAISE NOTICE 'PostgreSQL before 14 has no per-column compression: stored mail stays compressed with pglz';
        RETURN;
    END IF;
    EXECUTE 'ALTER TABLE messages
        ALTER COLUMN raw SET COMPRESSION lz4,
        ALTER COLUMN body_text SET COMPRESSION lz4,
        ALTER COLUMN body_html SET COMPRESSION lz4,
        ALTER COLUMN own_text SET COMPRESSION lz4,
        ALTER COLUMN headers SET COMPRESSION lz4,
        ALTER COLUMN search SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE attachments
        ALTER COLUMN content SET COMPRESSION lz4,
        ALTER COLUMN text SET COMPRESSION lz4,
        ALTER COLUMN search SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE outbox
        ALTER COLUMN body_text SET COMPRESSION lz4,
        ALTER COLUMN body_html SET COMPRESSION lz4,
        ALTER COLUMN context SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: stored mail stays compressed with pglz';
END $$;
