-- The filing worker's snapshot of the registry includes the action register (refs,
-- owners, open or not), so a change to an action must bump the registry's version just
-- as a change to a member or meeting does.
CREATE TRIGGER actions_changed AFTER INSERT OR UPDATE OR DELETE ON actions
    FOR EACH STATEMENT EXECUTE FUNCTION registry_changed();
