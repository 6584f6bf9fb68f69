-- Where a khasra belongs (issue 16): a parcel can be on the map before the record of
-- rights holds it. An import that says nothing about khewats (a digitised aks-shajra, a
-- new survey) stores its khasras as *unassigned*: mapped, record of rights not yet
-- attached. That is a state, not an anomaly, so the dispute rule orphan_khasra skips it:
-- an orphan is a live khasra that no khewat holds and that was not imported unassigned,
-- i.e. whose holding was lost (a khewat_khasra period ended with no successor, a direct
-- edit) or that the record never held.
--
-- unassigned_since: the date the khasra was imported unassigned; NULL for every other
-- khasra (the demo's, a partition's tatimas, an import naming a khewat).
--
-- The state can only be left, never entered again:
--   * it is set only when the khasra is inserted (a khasra cannot have a khewat_khasra
--     row before it exists); an UPDATE that sets or changes it is refused, so a lost
--     holding cannot be hidden by marking the khasra unassigned afterwards;
--   * whichever path attaches the khasra to a khewat (an import naming its khewat, a
--     mutation, a direct INSERT), the khewat_khasra row clears it in the same statement
--     (a trigger of the table owner, so row-level security cannot leave it set).
-- Hence: unassigned_since IS NOT NULL implies no khewat_khasra row ever named the khasra.

ALTER TABLE khasra ADD COLUMN unassigned_since date;

COMMENT ON COLUMN khasra.unassigned_since IS
    'imported unassigned on this date: mapped, record of rights not yet attached (not an '
    'orphan); cleared when a khewat_khasra row attaches it, never set again';

CREATE INDEX khasra_unassigned_idx ON khasra (id) WHERE unassigned_since IS NOT NULL;

CREATE FUNCTION khasra_unassigned_only_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'khasra % of mouza %: the unassigned state is set only when a khasra is '
        'imported (it can be cleared, by attaching the khasra to a khewat, never set again)',
        NEW.number, NEW.mouza_id
        USING ERRCODE = 'check_violation';
END $$;

CREATE TRIGGER khasra_unassigned_only_on_insert
    BEFORE UPDATE OF unassigned_since ON khasra
    FOR EACH ROW
    WHEN (NEW.unassigned_since IS NOT NULL
          AND NEW.unassigned_since IS DISTINCT FROM OLD.unassigned_since)
    EXECUTE FUNCTION khasra_unassigned_only_on_insert();

-- SECURITY DEFINER: the table owner is not subject to row-level security, so the state is
-- cleared even where the acting user's policies would hide the khasra's row. The audit
-- trigger of khasra still records the change, naming the bound actor.
CREATE FUNCTION khewat_khasra_clears_unassigned() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE khasra k SET unassigned_since = NULL
      FROM (SELECT DISTINCT khasra_id FROM new_rows) n
     WHERE k.id = n.khasra_id AND k.unassigned_since IS NOT NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER khewat_khasra_clears_unassigned_insert
    AFTER INSERT ON khewat_khasra REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION khewat_khasra_clears_unassigned();
CREATE TRIGGER khewat_khasra_clears_unassigned_update
    AFTER UPDATE ON khewat_khasra REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION khewat_khasra_clears_unassigned();

-- The rule's explanation says what it no longer flags.
UPDATE dispute_rule SET
    explain_en = 'The khasra is on the village map but no ownership account holds it, and it '
                 'was not imported as awaiting its record of rights: its owners are missing '
                 'from the record of rights (a holding ended with no successor, or was never '
                 'recorded).',
    explain_ur = 'خسرہ موضع کے نقشے پر موجود ہے مگر کسی کھیوٹ میں درج نہیں، اور اسے ریکارڈ حقوق '
                 'کے انتظار میں درآمد بھی نہیں کیا گیا: اس کے مالکان ریکارڈ سے غائب ہیں (ملکیت '
                 'بغیر جانشین کے ختم ہوئی یا کبھی درج ہی نہیں ہوئی)۔'
 WHERE id = 'orphan_khasra';
