-- Mutations that are hard to get wrong (issue 19).
--
-- 1. A registered deed is entered once. A deed is identified by its registering office
--    (sub_registrar), its year and its number, written as people write them: case,
--    surrounding and repeated spaces do not make another deed. The engine refuses a
--    repeat first (landgov.records.entry, naming the earlier mutation); this index is
--    the guard behind it, for two entries racing each other in different mouzas (the
--    register lock is per mouza) and for any writer that bypasses the engine.
--    Not counted:
--    - rejected mutations: a mutation rejected because the parties did not appear is
--      entered again on the same deed;
--    - court decrees: their "deed number" is the decree's case number, and one decree
--      may order several mutations.
--    A deed with no sub-registrar recorded keys on an empty office, so two such deeds of
--    one year and number still collide (they cannot be told apart).
--    Existing duplicates stop the migration with a list of them: which of two entries is
--    the wrong one is an officer's decision (reject it, then migrate again), never the
--    migration's.
DO $$
DECLARE
    found text;
BEGIN
    SELECT string_agg(format('deed %s of %s (%s): mutation ids %s', d.deed, d.year,
                             coalesce(nullif(d.office, ''), 'no sub-registrar'), d.ids),
                      '; ')
      INTO found
      FROM (SELECT min(btrim(deed_number)) AS deed, extract(year FROM deed_date) AS year,
                   min(coalesce(btrim(sub_registrar), '')) AS office,
                   string_agg(id::text, ', ' ORDER BY id) AS ids
              FROM mutation
             WHERE deed_number IS NOT NULL AND status <> 'rejected' AND type <> 'court_decree'
             GROUP BY regexp_replace(lower(btrim(coalesce(sub_registrar, ''))), '\s+', ' ', 'g'),
                      extract(year FROM deed_date),
                      regexp_replace(upper(btrim(deed_number)), '\s+', ' ', 'g')
            HAVING count(*) > 1
             ORDER BY 1
             LIMIT 20) d;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'a registered deed is entered more than once: %. Reject the '
                        'mutations entered twice (landgov mutation reject), then migrate again',
                        found USING ERRCODE = 'unique_violation';
    END IF;
END $$;

CREATE UNIQUE INDEX mutation_deed_once ON mutation (
    (regexp_replace(lower(btrim(coalesce(sub_registrar, ''))), '\s+', ' ', 'g')),
    (extract(year FROM deed_date)),
    (regexp_replace(upper(btrim(deed_number)), '\s+', ' ', 'g'))
) WHERE deed_number IS NOT NULL AND status <> 'rejected' AND type <> 'court_decree';

COMMENT ON INDEX mutation_deed_once IS
    'a registered deed (office, year, number) is entered once; rejected mutations and court '
    'decrees excepted (sql/025)';

-- 2. A sale declared below its statutory (DC) value, below the appraisal model's value, or
--    with no price at all is sanctioned only when the sanctioning officer acknowledges it
--    (landgov.records.decisions.sanction, rule under_declared_price). The row keeps what
--    the officer was shown (the figures of landgov.records.pricing on the valuation date)
--    and who acknowledged it when, beside the engine's audit row of the sanction. Written
--    in the sanction's transaction; the application role may add rows in mouzas its actor
--    may write in, never change or delete them (no policy for either).
CREATE TABLE mutation_price_acknowledgement (
    mutation_id           bigint PRIMARY KEY REFERENCES mutation (id),
    reasons               text[] NOT NULL
                          CHECK (cardinality(reasons) > 0
                                 AND reasons <@ ARRAY['no_price', 'below_dc', 'below_model']),
    valuation_date        date NOT NULL,
    declared_rs           numeric(16, 0) CHECK (declared_rs >= 0),
    statutory_rs          numeric(16, 0) NOT NULL CHECK (statutory_rs >= 0),
    model_rs              numeric(16, 0) CHECK (model_rs >= 0),
    model_set             text,
    tax_at_stake_rs       numeric(16, 0) NOT NULL CHECK (tax_at_stake_rs >= 0),
    note                  text CHECK (note IS NULL OR btrim(note) <> ''),
    acknowledged_by_user  bigint NOT NULL REFERENCES app_user (id),
    acknowledged_by       bigint NOT NULL REFERENCES officer (id),
    acknowledged_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

COMMENT ON TABLE mutation_price_acknowledgement IS
    'a sanctioning officer''s acknowledgement of an under-declared sale, with the figures '
    'shown (sql/025)';

ALTER TABLE mutation_price_acknowledgement ENABLE ROW LEVEL SECURITY;
CREATE POLICY mutation_price_acknowledgement_read ON mutation_price_acknowledgement
    FOR SELECT USING (true);
CREATE POLICY mutation_price_acknowledgement_insert ON mutation_price_acknowledgement
    FOR INSERT
    WITH CHECK (landgov_may_write((SELECT m.mouza_id FROM mutation m WHERE m.id = mutation_id)));
