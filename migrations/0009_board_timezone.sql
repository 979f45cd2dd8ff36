-- The board's time zone (an IANA name). Meeting times, papers deadlines and the
-- schedule's times of day are read in it; instants stay UTC.

ALTER TABLE boards ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
