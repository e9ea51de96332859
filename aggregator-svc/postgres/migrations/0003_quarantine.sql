-- Records a provider sent that the aggregate cannot hold (a field too long,
-- a NUL, a missing time) are set aside here, in the transaction of their
-- page, instead of refusing the page: one bad record no longer stops its
-- provider. A later valid version of the record (same provider_id) is
-- stored and leaves quarantine in its own page's transaction.
--
-- record is the record as decoded, in JSON (bounded by the aggregator);
-- provider_cursors.quarantined counts the provider's rows here, kept in
-- step in the same transactions, so reading it costs nothing extra.
CREATE TABLE quarantined_records (
    provider    text        NOT NULL,
    provider_id text        NOT NULL,
    reason      text        NOT NULL,
    record      text        NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, provider_id)
);

ALTER TABLE provider_cursors ADD COLUMN quarantined integer NOT NULL DEFAULT 0;
