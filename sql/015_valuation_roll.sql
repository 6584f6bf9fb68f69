-- Valuation rolls (issue: valuation): every live parcel valued as of a date, one version
-- per run. A roll and all its values are written in one transaction, so a reader never
-- sees part of one; the fingerprint of its inputs makes a re-run find it, not repeat it.
CREATE TABLE valuation_roll (
    id              bigserial PRIMARY KEY,  -- the roll's version
    as_of           date NOT NULL,
    method          text NOT NULL CHECK (btrim(method) <> ''),
    fingerprint     text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    parcels         integer NOT NULL CHECK (parcels >= 0),  -- valued
    unvalued        integer NOT NULL DEFAULT 0 CHECK (unvalued >= 0),
    total_value_rs  numeric NOT NULL CHECK (total_value_rs >= 0),
    summary         jsonb NOT NULL DEFAULT '{}'::jsonb,  -- why parcels went unvalued, timings
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE valuation_roll_value (
    roll_id    bigint NOT NULL REFERENCES valuation_roll (id) ON DELETE CASCADE,
    khasra_id  bigint NOT NULL REFERENCES khasra (id),
    value_rs   bigint NOT NULL CHECK (value_rs >= 0),
    rate_id    bigint REFERENCES dc_rate (id),  -- the statutory rate row used
    PRIMARY KEY (roll_id, khasra_id)
);
CREATE INDEX valuation_roll_value_khasra_idx ON valuation_roll_value (khasra_id);

-- The roll readers use: the one published last.
CREATE VIEW valuation_current AS
SELECT v.roll_id, v.khasra_id, v.value_rs, v.rate_id, r.as_of, r.method
FROM valuation_roll_value v
JOIN (SELECT id, as_of, method FROM valuation_roll ORDER BY created_at DESC, id DESC LIMIT 1) r
  ON r.id = v.roll_id;
