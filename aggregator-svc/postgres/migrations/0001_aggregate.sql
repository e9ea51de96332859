-- The aggregate: every provider's responses, each stored once, keyed by
-- the provider and the provider's id for it; and each provider's cursor. ApplyPage writes
-- a page's rows and the new cursor in one transaction.
--
-- The columns that are keys compare bytewise (COLLATE "C") whatever the
-- server's locale. provider and provider_id are the read order's
-- tie-breakers, and the keyset code compares them in Go, which must agree
-- with the database. survey, device and location are only compared for
-- equality or to break ties between stats groups, and bytewise comparison
-- makes maintaining their indexes about an eighth cheaper than a locale's.
CREATE TABLE responses (
    provider    text COLLATE "C" NOT NULL,
    provider_id text COLLATE "C" NOT NULL,
    survey      text COLLATE "C" NOT NULL,
    text        text NOT NULL,
    device      text COLLATE "C" NOT NULL,
    location    text COLLATE "C" NOT NULL,
    answers     jsonb NULL,
    created_at  timestamptz NOT NULL,
    synced_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, provider_id),

    CONSTRAINT responses_provider_nonempty CHECK (provider <> ''),
    CONSTRAINT responses_provider_id_nonempty CHECK (provider_id <> '')
);

-- cursor is the provider's opaque token to resume after the last applied
-- page; a provider has no row until its first page is applied.
CREATE TABLE provider_cursors (
    provider   text COLLATE "C" PRIMARY KEY,
    cursor     text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Read order is newest first: (created_at, provider, provider_id) DESC, and
-- a dashboard page is
--
--   WHERE <equalities> [AND created_at range]
--     AND (created_at, provider, provider_id) < ($t, $p, $i)
--   ORDER BY created_at DESC, provider DESC, provider_id DESC LIMIT n+1
--
-- It costs O(n) when an index starts with the filtered columns followed by
-- the read order: the keyset comparison and the time range become index
-- conditions, the seek lands on the first row of the page and no Sort runs.
-- (With provider filtered the comparison drops provider, which the index
-- then has in front.)
--
-- Four filters make sixteen combinations; indexing them all would multiply
-- the write cost of every sync. These five cover the common ones in order:
--
--   responses_recent        no filter, and any filter of low selectivity
--                           (device: a handful of values) or a time range:
--                           a walk down the newest rows, discarding a
--                           bounded share.
--   responses_device_loc    device + location, the dashboard's headline
--                           query ("iOS users in Germany").
--   responses_location      location alone: many values, so walking the
--                           newest rows would discard most of them.
--   responses_survey        survey alone: many values.
--   responses_provider      provider alone (one provider may be tiny).
--
-- Other combinations use the index of their most selective filter and check
-- the rest on the way, which reads (page / share of the others) rows: still
-- bounded by the page unless two filters are each common but rare together.
--
-- Cost: a sync writes every row into the table and six btrees (these five
-- and the primary key). Loading a backlog, each secondary index takes
-- roughly a tenth off the rows per second.
CREATE INDEX responses_recent ON responses (created_at DESC, provider DESC, provider_id DESC);
CREATE INDEX responses_device_loc ON responses (device, location, created_at DESC, provider DESC, provider_id DESC);
CREATE INDEX responses_location ON responses (location, created_at DESC, provider DESC, provider_id DESC);
CREATE INDEX responses_survey ON responses (survey, created_at DESC, provider DESC, provider_id DESC);
CREATE INDEX responses_provider ON responses (provider, created_at DESC, provider_id DESC);
