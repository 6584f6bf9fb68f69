-- Imported registers are not silently trusted (issue 14): a step loaded from a file (or
-- by the demo) never went through the engine's rank and jurisdiction checks, so the
-- dispute scan checks it afterwards (landgov.disputes.transfers, rule
-- imported_decision_unchecked): a decision (sanctioned or rejected, decided_by_user IS
-- NULL) whose officer's rank cannot decide, or a REJECTION by an officer with no posting
-- over the mouza on that date; a verification naming its officer (verified_by, no
-- verified_by_user) by a patwari or by an officer with no posting there on that date.
--
-- What officer_outside_jurisdiction (sql/011) already flags is not flagged twice: a
-- SANCTION by an officer with no posting over the mouza on the decision date is that
-- rule's. (The register importer also refuses a wrong rank outright and records failed
-- postings as mutation_flag rows at import; this rule puts them in the review queue.)
INSERT INTO dispute_rule (id, family, signal, severity, weight, thresholds, title_en, title_ur,
                          explain_en, explain_ur)
VALUES ('imported_decision_unchecked', 'sanction', 7, 'high', 3, '{}',
        'Imported step by an officer who could not take it',
        'درآمد شدہ اندراج جو افسر کر ہی نہیں سکتا تھا',
        'This decision or verification was loaded from a register, not made through landgov, '
        'and the officer it names either holds a rank that cannot take that step or had no '
        'posting over this mouza on that date. Imported steps get the same checks as live '
        'ones; this one fails them.',
        'یہ فیصلہ یا تصدیق رجسٹر سے درآمد ہوئی، landgov کے ذریعے نہیں کی گئی، اور اس میں درج '
        'افسر کا عہدہ یہ کام نہیں کر سکتا، یا اس تاریخ پر اس موضع پر اس کی تعیناتی نہیں تھی۔ '
        'درآمد شدہ اندراجات کی وہی جانچ ہوتی ہے جو براہ راست اندراجات کی؛ یہ اس میں ناکام ہے۔');

-- Bulk loads that keep their own ids (the demo district: COPY with the generator's ids)
-- must move each table's id sequence past them, or the next row entered by hand would
-- collide. setval needs UPDATE on the sequence, which the application role does not
-- have; this function moves a sequence forward only (never back, so no id is handed out
-- twice) and is all the application role may do to sequences.
CREATE FUNCTION landgov_advance_id_sequence(tbl text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    seq text := pg_get_serial_sequence(format('public.%I', tbl), 'id');
    top bigint;
    cur bigint;
BEGIN
    IF seq IS NULL THEN
        RAISE EXCEPTION 'table % has no id sequence', tbl USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE format('SELECT max(id) FROM public.%I', tbl) INTO top;
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM %s',
                   seq) INTO cur;
    IF top IS NULL OR top <= cur THEN
        RETURN cur;
    END IF;
    RETURN setval(seq, top);
END $$;
REVOKE ALL ON FUNCTION landgov_advance_id_sequence(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION landgov_advance_id_sequence(text) TO landgov_app;
