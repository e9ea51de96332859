-- Responses, exported in (xid, id) order: see survey.Cursor.
--
-- xid is the inserting transaction's id. It is set by default and never
-- updated: rows are append-only.
--
-- The CHECK constraints repeat the domain's field limits (survey.Max*Len,
-- counted in characters like utf8.RuneCountInString) so that nothing that
-- bypasses the service can store what the service would refuse. answers is
-- bounded on its stored text form at twice survey.MaxAnswersSize: jsonb prints
-- a space after each ':' and ',', so a compact document at most doubles.
CREATE TABLE responses (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    survey     text NOT NULL,
    text       text NOT NULL,
    device     text NOT NULL,
    location   text NOT NULL,
    answers    jsonb NULL,
    created_at timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT responses_survey_length CHECK (char_length(survey) BETWEEN 1 AND 64),
    CONSTRAINT responses_text_length CHECK (char_length(text) BETWEEN 1 AND 4096),
    CONSTRAINT responses_device_length CHECK (char_length(device) BETWEEN 1 AND 64),
    CONSTRAINT responses_location_length CHECK (char_length(location) BETWEEN 1 AND 128),
    CONSTRAINT responses_answers_object CHECK (answers IS NULL OR jsonb_typeof(answers) = 'object'),
    CONSTRAINT responses_answers_size CHECK (answers IS NULL OR octet_length(answers::text) <= 32768)
);

-- One index per filter combination. An export page is
--
--   WHERE <equalities> AND (xid, id) > ($x, $i) ORDER BY xid, id LIMIT n
--
-- and it costs O(n) only if an index starts with exactly the filtered columns
-- (in any order) followed by (xid, id): the seek then lands on the first row
-- and the index order is the export order. An index with an extra leading
-- column cannot serve the smaller filter in order, and one that lacks a
-- filtered column reads and discards every non-matching row after the cursor,
-- unbounded when the filter is selective. The filters (survey, device,
-- location) allow eight subsets, hence eight indexes, including the empty
-- subset on (xid, id).
--
-- Cost: space, and index maintenance per insert. Each filtered index grows
-- inside its key range rather than at its right edge, so its leaves end up
-- about half full: with a million short responses the indexes took 530 MB
-- beside an 80 MB heap. Inserts are dominated by the commit's WAL flush: with
-- eight concurrent writers, throughput with all eight indexes stayed within
-- run-to-run noise of the table with only (xid, id). For unselective filters
-- the planner may rightly prefer (xid, id) and discard the few misses; the
-- filtered indexes bound the cost when a combination is rare.
CREATE INDEX responses_export ON responses (xid, id);
CREATE INDEX responses_export_s ON responses (survey, xid, id);
CREATE INDEX responses_export_d ON responses (device, xid, id);
CREATE INDEX responses_export_l ON responses (location, xid, id);
CREATE INDEX responses_export_sd ON responses (survey, device, xid, id);
CREATE INDEX responses_export_sl ON responses (survey, location, xid, id);
CREATE INDEX responses_export_dl ON responses (device, location, xid, id);
CREATE INDEX responses_export_sdl ON responses (survey, device, location, xid, id);
