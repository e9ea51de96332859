-- provider_cursors becomes the durable record of every provider the
-- freshness guarantee covers: a row exists for every provider the
-- aggregator has synced (ApplyPage creates it) or found configured in etcd
-- (Remember creates it before the provider is first synced), and stays
-- until the provider is retired on purpose.
--
-- descriptor is the provider key's last value seen in etcd, as written
-- ('' for a provider only known from its cursor). A retired provider is
-- out of the guarantee; ApplyPage refuses its pages, so a sync round still
-- running when it was retired cannot write behind the retirement.
ALTER TABLE provider_cursors
    ADD COLUMN descriptor text NOT NULL DEFAULT '',
    ADD COLUMN retired boolean NOT NULL DEFAULT false;
