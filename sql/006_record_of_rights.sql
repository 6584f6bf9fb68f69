-- Record of rights (issue 4): generated jamabandi snapshots and the register of issued
-- fards (ownership extracts). The holdings themselves stay a query over share and
-- khewat_khasra periods (003); what is stored here is what was certified, so that it can
-- be reproduced and verified later (landgov.records.rights and landgov.records.fard).

-- A generated jamabandi keeps its snapshot: the record of rights of every khewat of the
-- mouza as of `as_of`, as canonical JSON, and the SHA-256 of that canonical text
-- (computed in Python: jsonb does not keep the canonical spelling). Until generated,
-- all five columns are NULL (the demo's rows); afterwards the database refuses to change
-- them or to delete the row. Attestation (attested_by/on) may still be added later.
ALTER TABLE jamabandi
    ADD COLUMN as_of            date,
    ADD COLUMN snapshot         jsonb,
    ADD COLUMN snapshot_sha256  text CHECK (snapshot_sha256 ~ '^[0-9a-f]{64}$'),
    ADD COLUMN generated_at     timestamptz,
    ADD COLUMN generated_by     text CHECK (btrim(generated_by) <> ''),
    ADD CONSTRAINT jamabandi_snapshot_complete CHECK (
        (as_of IS NULL) = (snapshot IS NULL)
        AND (snapshot IS NULL) = (snapshot_sha256 IS NULL)
        AND (snapshot IS NULL) = (generated_at IS NULL)
        AND (snapshot IS NULL) = (generated_by IS NULL));

CREATE FUNCTION jamabandi_keep_snapshot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.snapshot IS NOT NULL THEN
            RAISE EXCEPTION 'jamabandi % of mouza % is generated and immutable: DELETE refused',
                OLD.year, OLD.mouza_id USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.snapshot IS NOT NULL AND (
           NEW.id IS DISTINCT FROM OLD.id
        OR NEW.mouza_id IS DISTINCT FROM OLD.mouza_id
        OR NEW.year IS DISTINCT FROM OLD.year
        OR NEW.as_of IS DISTINCT FROM OLD.as_of
        OR NEW.snapshot IS DISTINCT FROM OLD.snapshot
        OR NEW.snapshot_sha256 IS DISTINCT FROM OLD.snapshot_sha256
        OR NEW.generated_at IS DISTINCT FROM OLD.generated_at
        OR NEW.generated_by IS DISTINCT FROM OLD.generated_by) THEN
        RAISE EXCEPTION 'jamabandi % of mouza % is generated and immutable: its snapshot '
            'cannot be changed', OLD.year, OLD.mouza_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER jamabandi_snapshot_immutable
    BEFORE UPDATE OR DELETE ON jamabandi
    FOR EACH ROW EXECUTE FUNCTION jamabandi_keep_snapshot();

CREATE FUNCTION jamabandi_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM jamabandi WHERE snapshot IS NOT NULL) THEN
        RAISE EXCEPTION 'jamabandi holds generated snapshots: TRUNCATE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER jamabandi_no_truncate
    BEFORE TRUNCATE ON jamabandi
    FOR EACH STATEMENT EXECUTE FUNCTION jamabandi_refuse_truncate();

-- One issued fard. `code` is the SHA-256 (hex) of the issue's canonical text (snapshot
-- hash, subject, date, language, purpose, time and issuer), so two fards of the same holding get
-- different codes; the printed short code is its first 12 hex digits. `snapshot` and
-- `snapshot_sha256` are the certified holding; verification recomputes the holding from
-- the records and compares. Issued fards are never changed or withdrawn here.
CREATE TABLE fard_issue (
    code             text PRIMARY KEY CHECK (code ~ '^[0-9a-f]{64}$'),
    subject_kind     text NOT NULL CHECK (subject_kind IN ('person', 'khewat')),
    -- person: the CNIC; khewat: '<mouza id>:<khewat number>'
    subject          text NOT NULL CHECK (CASE subject_kind
                         WHEN 'person' THEN subject ~ '^\d{5}-\d{7}-\d$'
                         ELSE subject ~ '^\d+:\d+$' END),
    as_of            date NOT NULL,
    language         text NOT NULL CHECK (language IN ('en', 'ur', 'both')),
    purpose          text CHECK (btrim(purpose) <> ''),  -- e.g. 'bank loan', as stated
    snapshot         jsonb NOT NULL,
    snapshot_sha256  text NOT NULL CHECK (snapshot_sha256 ~ '^[0-9a-f]{64}$'),
    issued_at        timestamptz NOT NULL,
    issued_by        text NOT NULL CHECK (btrim(issued_by) <> '')
);
CREATE INDEX fard_issue_subject_idx ON fard_issue (subject_kind, subject, as_of);

CREATE FUNCTION fard_issue_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fard_issue is a register of issued certificates: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER fard_issue_append_only
    BEFORE UPDATE OR DELETE ON fard_issue
    FOR EACH ROW EXECUTE FUNCTION fard_issue_refuse_change();
CREATE TRIGGER fard_issue_no_truncate
    BEFORE TRUNCATE ON fard_issue
    FOR EACH STATEMENT EXECUTE FUNCTION fard_issue_refuse_change();
