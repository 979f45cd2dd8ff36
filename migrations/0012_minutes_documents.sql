-- Minutes sent in the body of an email have no file of their own. A document is made of
-- their text (without the covering note) when the revision is stored, so that approvers
-- and members always receive the minutes as a file: `document_id` is that document.
ALTER TABLE minutes_revisions ADD COLUMN document_id BIGINT REFERENCES attachments (id);
