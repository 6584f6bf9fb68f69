-- Hash chain over the audit log: every row carries its position (seq), the previous
-- row's hash (prev_hash) and its own hash (row_hash). Editing, deleting or reordering a
-- row breaks the chain from that row on; `landgov audit verify` finds the first break.
--
-- What the chain proves: nobody changed rows *inside* the log without recomputing every
-- later hash. What it cannot prove on its own: that the newest rows were not cut off, or
-- that someone with superuser rights did not rewrite the whole tail. For those, record
-- the head (seq and row_hash that `verify` prints) outside the database now and then.

ALTER TABLE audit_log
    ADD COLUMN seq       bigint UNIQUE,
    ADD COLUMN prev_hash text,
    ADD COLUMN row_hash  text;

-- The hash of one row. Its canonical text (version 1 of the scheme, named in the text):
--   'landgov-audit-v1' | prev_hash | seq | at | actor | action | entity | entity_id | details
-- Fields are joined by '|'. In each field '\' becomes '\\' and '|' becomes '\|', so the
-- separator never appears unescaped; NULL is '\N' (a literal '\N' is written '\\N').
-- `at` is rendered in UTC with microseconds (2024-05-01T09:30:00.123456Z), independent
-- of the session's TimeZone; details is jsonb's canonical text (keys sorted, spacing
-- normalised). The hash is SHA-256 of the text's UTF-8 bytes, in lowercase hex.
-- verify recomputes with this same function, so Python never re-implements it.
CREATE FUNCTION audit_row_hash(
    prev_hash text, seq bigint, at timestamptz, actor text, action text,
    entity text, entity_id text, details jsonb
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN encode(sha256(convert_to(
    'landgov-audit-v1'
    || '|' || coalesce(replace(replace(prev_hash, '\', '\\'), '|', '\|'), '\N')
    || '|' || coalesce(seq::text, '\N')
    || '|' || coalesce(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '\N')
    || '|' || coalesce(replace(replace(actor, '\', '\\'), '|', '\|'), '\N')
    || '|' || coalesce(replace(replace(action, '\', '\\'), '|', '\|'), '\N')
    || '|' || coalesce(replace(replace(entity, '\', '\\'), '|', '\|'), '\N')
    || '|' || coalesce(replace(replace(entity_id, '\', '\\'), '|', '\|'), '\N')
    || '|' || coalesce(replace(replace(details::text, '\', '\\'), '|', '\|'), '\N'),
    'UTF8')), 'hex');
-- (seq and at need no escaping: their text has neither '|' nor '\'.)

-- Backfill the rows written before the chain existed, in id order, keeping their `at`.
-- The append-only trigger is off for this one pass (a migration runs once, in one
-- transaction, so nothing else can write in between) and on again right after.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DO $$
DECLARE
    r    record;
    n    bigint := 0;
    prev text := repeat('0', 64);
    h    text;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        h := audit_row_hash(prev, n, r.at, r.actor, r.action, r.entity, r.entity_id,
                            r.details);
        UPDATE audit_log SET seq = n, prev_hash = prev, row_hash = h WHERE id = r.id;
        prev := h;
    END LOOP;
END $$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;

ALTER TABLE audit_log
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN row_hash SET NOT NULL,
    ADD CONSTRAINT audit_log_seq_positive CHECK (seq >= 1),
    ADD CONSTRAINT audit_log_hashes_hex CHECK (prev_hash ~ '^[0-9a-f]{64}$'
                                               AND row_hash ~ '^[0-9a-f]{64}$');

-- Chains every new row onto the current head. Whatever the caller sends for at, seq,
-- prev_hash and row_hash is overwritten: the time is the server's clock, not the caller's.
--
-- Concurrency: the trigger first takes a transaction-level advisory lock (key
-- 441295057, shared by every writer), held until the writer's transaction commits or
-- rolls back. A second writer waits at that lock; when it gets it, the first writer's
-- row is already committed and visible (PostgreSQL makes a transaction visible before
-- releasing its locks, and under READ COMMITTED each statement in this function takes a
-- fresh snapshot), so it reads the true head and the chain never forks. A rolled-back
-- writer leaves no row, so seq stays gapless. The UNIQUE seq is the backstop: a writer
-- under REPEATABLE READ/SERIALIZABLE whose snapshot predates the other's commit gets a
-- unique violation (retry the transaction), never a fork.
--
-- Trade-off: audit writes are serialised. From its first audit row until it ends, a
-- transaction blocks every other transaction that wants to append one; throughput is
-- one audit-writing transaction at a time. Write audit rows last, just before commit
-- (the importers do), and keep such transactions short. Rows written inside one
-- transaction, or one statement, chain in the order they are inserted.
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head record;
BEGIN
    PERFORM pg_advisory_xact_lock(441295057);
    SELECT a.seq, a.row_hash INTO head FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
    NEW.at := clock_timestamp();
    NEW.seq := coalesce(head.seq, 0) + 1;
    NEW.prev_hash := coalesce(head.row_hash, repeat('0', 64));
    NEW.row_hash := audit_row_hash(NEW.prev_hash, NEW.seq, NEW.at, NEW.actor, NEW.action,
                                   NEW.entity, NEW.entity_id, NEW.details);
    RETURN NEW;
END $$;

CREATE TRIGGER audit_log_chain
    BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

COMMENT ON COLUMN audit_log.seq IS 'position in the hash chain: 1, 2, 3... without gaps';
COMMENT ON COLUMN audit_log.prev_hash IS 'row_hash of seq - 1 (64 zeros for seq 1)';
COMMENT ON COLUMN audit_log.row_hash IS 'audit_row_hash(prev_hash, seq, at, actor, action, '
                                        'entity, entity_id, details)';
