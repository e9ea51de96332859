-- A version per provider of its rows in responses, so that a page read once
-- can answer again while nothing it was read from has changed (the page
-- cache in package aggregate): a reader that finds every version as it was
-- finds the same rows.
--
-- Kept by triggers, like the rollup, so no writer can forget it: every
-- statement that inserts, updates or deletes a provider's rows adds one to
-- the provider's version in its own transaction, visible exactly when its
-- rows are. Rows an upsert leaves alone (a replayed page) change nothing,
-- and neither does the version. A provider's writers are serialised by its
-- cursor row lock already (ApplyPage, RetireProvider), so the version row
-- adds no contention; a statement bumps its providers in name order.
--
-- Versions only grow, and rows are never deleted: a provider's version is
-- never seen again once it has moved on.
CREATE TABLE response_versions (
    provider text COLLATE "C" PRIMARY KEY,
    version  bigint           NOT NULL
);

CREATE FUNCTION response_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO response_versions AS v (provider, version)
        SELECT DISTINCT provider, 1 FROM old_rows ORDER BY 1
        ON CONFLICT (provider) DO UPDATE SET version = v.version + 1;
    ELSIF TG_OP = 'TRUNCATE' THEN
        UPDATE response_versions SET version = version + 1;
    ELSE
        -- An update never moves a row to another provider: (provider,
        -- provider_id) is the key the upserts match on.
        INSERT INTO response_versions AS v (provider, version)
        SELECT DISTINCT provider, 1 FROM new_rows ORDER BY 1
        ON CONFLICT (provider) DO UPDATE SET version = v.version + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER response_versions_insert AFTER INSERT ON responses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION response_versions_bump();
CREATE TRIGGER response_versions_update AFTER UPDATE ON responses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION response_versions_bump();
CREATE TRIGGER response_versions_delete AFTER DELETE ON responses
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION response_versions_bump();
CREATE TRIGGER response_versions_truncate AFTER TRUNCATE ON responses
    FOR EACH STATEMENT EXECUTE FUNCTION response_versions_bump();

-- The providers with rows already: version 1, so that their first change
-- after this step is seen as one.
INSERT INTO response_versions (provider, version)
SELECT DISTINCT provider, 1 FROM responses;
