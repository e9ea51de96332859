-- The rollup: how many responses each (provider, survey, device, location)
-- holds per UTC hour of created_at. Stats read it instead of counting the
-- table when their filter allows (see stats.go), so a dashboard refreshing
-- every few seconds costs what the rollup's size does, not the table's.
--
-- An hour, because it is the finest bucket whose rollup stays much smaller
-- than the table: minutes would make about as many rollup rows as responses
-- at a few responses per combination and minute, days would leave every
-- hourly chart and every range starting on the hour to the table. Day
-- buckets are summed from the hours; minute buckets, and ranges that cut an
-- hour, read the table.
--
-- Exactly as fresh and exactly once as the rows: the triggers below count
-- every write to responses in the statement that makes it, so ApplyPage's
-- upserts (both paths), a replaced record that moved (-1 in its old bucket,
-- +1 in its new one) and a retired provider's deleted rows all change the
-- counts in their own transaction, and a rolled back page changes neither.
-- Quarantined records are never in responses, so they are not counted.
--
-- Contention: provider leads the key, so each provider has its own rows,
-- and a provider's writers are already serialised by its cursor row lock
-- (ApplyPage, RetireProvider). Each statement adds its deltas in one upsert
-- in key order, so two writers could not deadlock even without that lock.
--
-- A count that drops to 0 stays as a row (reads skip it): deleting it would
-- cost a statement per write for a row the next response may need again.
CREATE TABLE response_counts (
    provider text COLLATE "C" NOT NULL,
    bucket   timestamptz      NOT NULL, -- the UTC hour: date_bin, not date_trunc(..., 'UTC'), which costs a time zone lookup per row
    survey   text COLLATE "C" NOT NULL,
    device   text COLLATE "C" NOT NULL,
    location text COLLATE "C" NOT NULL,
    n        integer          NOT NULL, -- sum(integer) adds in bigint: 3x faster than numeric
    PRIMARY KEY (provider, bucket, survey, device, location)
) WITH (fillfactor = 70); -- room for HOT updates: the current hour's counts change with every page

-- response_counts_apply adds one statement's changes to the counts: +1 per
-- inserted row, -1 per deleted row, and for an updated row -1 and +1, which
-- cancel unless a counted field changed. One upsert in key order.
CREATE FUNCTION response_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO response_counts AS c (provider, bucket, survey, device, location, n)
        SELECT provider, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), survey, device, location, count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (provider, bucket, survey, device, location) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO response_counts AS c (provider, bucket, survey, device, location, n)
        SELECT provider, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), survey, device, location, -count(*)
        FROM old_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (provider, bucket, survey, device, location) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO response_counts AS c (provider, bucket, survey, device, location, n)
        SELECT provider, bucket, survey, device, location, sum(d) FROM (
            SELECT provider, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00') AS bucket, survey, device, location, 1 AS d FROM new_rows
            UNION ALL
            SELECT provider, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), survey, device, location, -1 FROM old_rows
        ) AS moved
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (provider, bucket, survey, device, location) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

-- Statement-level triggers see a statement's rows as transition tables: one
-- rollup upsert per statement, not one per row. An INSERT ... ON CONFLICT
-- DO UPDATE fires both: its inserted rows in the INSERT trigger's new_rows,
-- its updated ones in the UPDATE trigger's tables; rows the upsert leaves
-- alone (a replay) are in neither.
CREATE TRIGGER response_counts_insert AFTER INSERT ON responses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION response_counts_apply();
CREATE TRIGGER response_counts_update AFTER UPDATE ON responses
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION response_counts_apply();
CREATE TRIGGER response_counts_delete AFTER DELETE ON responses
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION response_counts_apply();

-- Backfill. CREATE TRIGGER locked responses against writes until this step
-- commits, so no row is counted twice or missed between the two.
INSERT INTO response_counts (provider, bucket, survey, device, location, n)
SELECT provider, date_bin('1 hour', created_at, timestamptz '2000-01-01 00:00:00+00'), survey, device, location, count(*)
FROM responses GROUP BY 1, 2, 3, 4, 5;
