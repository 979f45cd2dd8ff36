-- The three tables that record a filed message as handled (minutes_sources,
-- approval_replies, action_update_sources) take the same row: the message, the row it
-- came to, the outcome, why, and when. minutes_sources had no reason: a draft filed
-- without a meeting, or whose file could not be read, now says why.
ALTER TABLE minutes_sources ADD COLUMN reason TEXT;
