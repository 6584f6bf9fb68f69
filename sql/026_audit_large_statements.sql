-- The record-change audit trigger (018) failed on a statement changing about 400,000 rows
-- or more (a district's parcels in one import, a roll's khasras): it aggregated every
-- changed row, geometry included, into one jsonb array for `rows_changed` and then kept
-- that array only when 20 rows or fewer changed (a CASE does not stop the aggregate from
-- running), and PostgreSQL refuses a jsonb array over 256 MB. Now:
-- * `rows_changed` aggregates at most 21 rows (FILTER), enough to know whether 20 or
--   fewer changed; what it records is unchanged;
-- * the digest is the SHA-256 of the rows' own SHA-256 digests, one line each in key
--   order, instead of the SHA-256 of the rows' text: 64 bytes a row to hold instead of
--   the whole row, so a million-row statement no longer builds a string of hundreds of MB
--   (near PostgreSQL's 1 GB limit). Digests written before this migration keep their
--   meaning (content of the rows then); nothing recomputes them.
CREATE OR REPLACE FUNCTION record_change_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n bigint;
    ids jsonb;
    digest text;
    changes jsonb;
    who text := coalesce(landgov_acting_label(), 'db:' || session_user);
    -- each changed row as (k: key, b: before, a: after); an update pairs old and new rows
    -- by key in one hash join (the transition tables are visible to EXECUTE)
    changed text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT record_row_key(to_jsonb(x)) AS k, NULL::jsonb AS b,'
                           ' to_jsonb(x) AS a FROM new_rows x'
        WHEN 'DELETE' THEN 'SELECT record_row_key(to_jsonb(x)) AS k, to_jsonb(x) AS b,'
                           ' NULL::jsonb AS a FROM old_rows x'
        ELSE 'SELECT nw.k, od.j AS b, nw.j AS a FROM (SELECT record_row_key(to_jsonb(x)) AS k,'
             ' to_jsonb(x) AS j FROM new_rows x) nw LEFT JOIN (SELECT'
             ' record_row_key(to_jsonb(y)) AS k, to_jsonb(y) AS j FROM old_rows y) od'
             ' ON od.k = nw.k'
    END;
BEGIN
    EXECUTE format($q$
        SELECT count(*), jsonb_agg(k ORDER BY k) FILTER (WHERE rn <= 50),
               encode(sha256(convert_to(coalesce(string_agg(
                   encode(sha256(convert_to(coalesce(a, b)::text, 'UTF8')), 'hex'), E'\n'
                   ORDER BY k), ''), 'UTF8')), 'hex'),
               CASE WHEN count(*) <= 20 THEN jsonb_agg(jsonb_build_object('before', b,
                                                                          'after', a)
                                                       ORDER BY k) FILTER (WHERE rn <= 21)
               END
          FROM (SELECT c.*, row_number() OVER () AS rn FROM (%s) c) r$q$, changed)
      INTO n, ids, digest, changes;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    -- (jsonb_strip_nulls drops the missing before of an insert and after of a delete)
    INSERT INTO audit_log (actor, action, entity, entity_id, details)
    VALUES (who, 'db.' || lower(TG_OP), TG_TABLE_NAME,
            CASE WHEN n = 1 THEN ids ->> 0 END,
            jsonb_strip_nulls(jsonb_build_object('rows', n, 'ids', ids, 'digest', digest,
                'db_user', session_user, 'rows_changed', changes)));
    RETURN NULL;
END $$;
