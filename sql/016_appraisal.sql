-- Mass appraisal (issue: valuation): LightGBM models per land class trained on validated
-- sales, and which model valued each parcel of a roll. A model is stored with everything
-- needed to reproduce and audit it: the booster as LightGBM text (no pickle), its
-- features, the market trend it adjusted sales with, and its cross-validated ratio study.
CREATE TABLE appraisal_model (
    id               bigserial PRIMARY KEY,
    set_fingerprint  text NOT NULL CHECK (set_fingerprint ~ '^[0-9a-f]{64}$'),
    as_of            date NOT NULL,
    land_class       text NOT NULL CHECK (land_class IN ('nehri', 'chahi', 'barani', 'banjar',
                                           'ghair_mumkin', 'abadi', 'shamlat', 'forest')),
    booster          text NOT NULL,                 -- LightGBM model text
    features         jsonb NOT NULL,                -- names, categorical ones, crop codes
    trend_per_year   double precision NOT NULL,     -- log price change a year (time adjustment)
    n_sales          integer NOT NULL CHECK (n_sales > 0),
    metrics          jsonb NOT NULL DEFAULT '{}'::jsonb,  -- out-of-fold ratio study, params
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (set_fingerprint, land_class)
);
CREATE INDEX appraisal_model_asof_idx ON appraisal_model (as_of, created_at);

-- The sales each model learnt from, with their time-adjusted price and the model's
-- out-of-fold estimate: the rows of its ratio study.
CREATE TABLE appraisal_sale (
    model_id         bigint NOT NULL REFERENCES appraisal_model (id) ON DELETE CASCADE,
    mutation_id      bigint NOT NULL REFERENCES mutation (id),
    adjusted_price_rs bigint NOT NULL CHECK (adjusted_price_rs > 0),
    estimate_rs      bigint NOT NULL CHECK (estimate_rs > 0),
    PRIMARY KEY (model_id, mutation_id)
);

ALTER TABLE valuation_roll_value
    ADD COLUMN model_id bigint REFERENCES appraisal_model (id);  -- NULL: the statutory value

CREATE OR REPLACE VIEW valuation_current AS
SELECT v.roll_id, v.khasra_id, v.value_rs, v.rate_id, r.as_of, r.method, v.model_id
FROM valuation_roll_value v
JOIN (SELECT id, as_of, method FROM valuation_roll ORDER BY created_at DESC, id DESC LIMIT 1) r
  ON r.id = v.roll_id;
