-- Real identity and least privilege (issue 14; docs/security.md).
--
-- Accounts (app_user) are bound to a person and, for officers, to the officer row whose
-- postings (officer_jurisdiction) say where and when they may act. Sessions are stored by
-- the SHA-256 of their token only. A transaction that changes the record binds its actor
-- with landgov_act_as(token): the database itself then knows who acts, the record tables'
-- row-level security lets the application role write only inside that actor's
-- jurisdiction today, and every change to khasra, khewat, share and mutation writes an
-- audit row from a trigger, whoever makes it.
--
-- This migration runs as the owner role (landgov_owner); the application (landgov_app)
-- and reporting (landgov_report) roles are created by `landgov db up` (or by the
-- deployer on an external server) and get only what is granted at the end.

CREATE TABLE app_user (
    id                    bigserial PRIMARY KEY,
    username              text NOT NULL UNIQUE CHECK (username ~ '^[a-z][a-z0-9._-]{2,63}$'),
    kind                  text NOT NULL CHECK (kind IN ('person', 'service')),
    full_name             text NOT NULL CHECK (btrim(full_name) <> ''),
    cnic                  text CHECK (cnic ~ '^\d{5}-\d{7}-\d$'),
    officer_id            bigint UNIQUE REFERENCES officer (id),
    password_hash         text CHECK (password_hash LIKE '$argon2id$%'),
    key_hash              text CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    totp_secret           text CHECK (totp_secret ~ '^[A-Z2-7]{32}$'),
    totp_last_step        bigint,
    failed_logins         integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until          timestamptz,
    must_change_password  boolean NOT NULL DEFAULT false,
    oidc_subject          text UNIQUE,
    created_at            timestamptz NOT NULL DEFAULT now(),
    disabled_at           timestamptz,
    -- a person signs in with a password (or an identity provider), a service with a key
    CONSTRAINT app_user_credential_by_kind CHECK (CASE kind
        WHEN 'service' THEN password_hash IS NULL AND totp_secret IS NULL AND officer_id IS NULL
        ELSE key_hash IS NULL END)
);
COMMENT ON TABLE app_user IS 'login accounts: people (password, TOTP) and batch services (key)';

-- Roles that are not officer designations (those come from the bound officer row).
CREATE TABLE user_role (
    user_id     bigint NOT NULL REFERENCES app_user (id),
    role        text NOT NULL CHECK (role IN ('revenue_analyst', 'auditor', 'administrator',
                    'svc_demo', 'svc_disputes', 'svc_valuation', 'svc_advisories',
                    'svc_imagery', 'svc_models', 'svc_audit')),
    valid_from  date NOT NULL,
    valid_to    date CHECK (valid_to IS NULL OR valid_to > valid_from),
    granted_by  bigint REFERENCES app_user (id),
    PRIMARY KEY (user_id, role, valid_from)
);

CREATE TABLE user_session (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES app_user (id),
    token_hash      text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    channel         text NOT NULL CHECK (channel IN ('dashboard', 'cli', 'service', 'oidc')),
    second_factor   boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_seen_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    idle_expires_at timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    CHECK (idle_expires_at <= expires_at)
);
CREATE INDEX user_session_user_idx ON user_session (user_id);

-- Every sign-in attempt, for lockout and for the auditor.
CREATE TABLE login_attempt (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    username  text NOT NULL,
    user_id   bigint REFERENCES app_user (id),
    channel   text NOT NULL,
    ok        boolean NOT NULL,
    reason    text NOT NULL
);
CREATE INDEX login_attempt_user_idx ON login_attempt (user_id, at);

-- Settings an administrator may change (minutes, days, counts).
CREATE TABLE security_setting (
    name         text PRIMARY KEY,
    value        integer NOT NULL CHECK (value >= 0),
    description  text NOT NULL
);
INSERT INTO security_setting (name, value, description) VALUES
    ('backdate_window_days', 7,
     'how many days before today an action may be dated (0: today only)'),
    ('session_idle_minutes', 30, 'a session unused this long ends'),
    ('session_absolute_minutes', 720, 'a session ends this long after sign-in, used or not'),
    ('cli_token_minutes', 480, 'lifetime of a landgov login token'),
    ('lockout_threshold', 5, 'failed sign-ins in a row before an account locks'),
    ('lockout_base_seconds', 60, 'first lockout; it doubles with each further failure'),
    ('lockout_max_seconds', 3600, 'longest lockout');

-- Who acts in the current transaction (pid + transaction start), written only by
-- landgov_act_as; the application role cannot touch it, so it cannot claim to be
-- someone else without that person's session token.
CREATE UNLOGGED TABLE acting_session (
    pid          integer NOT NULL,
    xact_start   timestamptz NOT NULL,
    user_id      bigint NOT NULL,
    session_id   bigint NOT NULL,
    label        text NOT NULL,
    all_mouzas   boolean NOT NULL,
    mouzas       bigint[] NOT NULL,
    PRIMARY KEY (pid, xact_start)
);

-- The mouzas an officer may write in on a day: postings valid that day on the mouza's
-- tehsil or patwar circle or any unit above them (as landgov.storage.officers).
CREATE FUNCTION landgov_officer_mouzas(officer bigint, on_day date) RETURNS bigint[]
LANGUAGE sql STABLE
RETURN (
    WITH RECURSIVE up(mouza_id, unit_id) AS (
        SELECT m.id, u.unit_id FROM mouza m
        CROSS JOIN LATERAL (VALUES (m.tehsil_id), (m.patwar_circle_id)) u(unit_id)
        WHERE u.unit_id IS NOT NULL
        UNION SELECT up.mouza_id, a.parent_id FROM up JOIN admin_unit a ON a.id = up.unit_id
        WHERE a.parent_id IS NOT NULL)
    SELECT coalesce(array_agg(DISTINCT up.mouza_id), '{}') FROM up
    JOIN officer_jurisdiction j ON j.admin_unit_id = up.unit_id
    WHERE j.officer_id = officer AND j.valid_from <= on_day
      AND (j.valid_to IS NULL OR j.valid_to > on_day));

CREATE FUNCTION landgov_act_as(token text) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    s record;
    everywhere boolean;
    writable bigint[] := '{}';
BEGIN
    SELECT us.id AS session_id, u.id AS user_id, u.kind, u.username, u.officer_id,
           o.designation
      INTO s
      FROM user_session us JOIN app_user u ON u.id = us.user_id
      LEFT JOIN officer o ON o.id = u.officer_id
     WHERE us.token_hash = encode(sha256(convert_to(token, 'UTF8')), 'hex')
       AND us.revoked_at IS NULL AND us.expires_at > now() AND u.disabled_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no valid landgov session for this token (expired, revoked or unknown)'
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    -- only the demo loader writes records everywhere; officers write where posted today
    everywhere := EXISTS (SELECT 1 FROM user_role r WHERE r.user_id = s.user_id
                          AND r.role = 'svc_demo' AND r.valid_from <= current_date
                          AND (r.valid_to IS NULL OR r.valid_to > current_date));
    IF s.officer_id IS NOT NULL THEN
        writable := landgov_officer_mouzas(s.officer_id, current_date);
    END IF;
    DELETE FROM acting_session WHERE pid = pg_backend_pid();
    INSERT INTO acting_session VALUES (pg_backend_pid(), now(), s.user_id, s.session_id,
        (CASE s.kind WHEN 'service' THEN 'service:' ELSE 'user:' END) || s.username,
        everywhere, writable);
    RETURN s.user_id;
END $$;

CREATE FUNCTION landgov_acting_user() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
RETURN (SELECT user_id FROM acting_session WHERE pid = pg_backend_pid() AND xact_start = now());

CREATE FUNCTION landgov_acting_label() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
RETURN (SELECT label FROM acting_session WHERE pid = pg_backend_pid() AND xact_start = now());

-- Who the bound actor is, as the database knows it (the application checks roles and the
-- second factor against this, not against what a caller claims).
CREATE FUNCTION landgov_acting_identity(OUT user_id bigint, OUT session_id bigint,
    OUT officer_id bigint, OUT designation text, OUT second_factor boolean, OUT kind text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT a.user_id, a.session_id, u.officer_id, o.designation, s.second_factor, u.kind
      FROM (SELECT 1) one
      LEFT JOIN acting_session a ON a.pid = pg_backend_pid() AND a.xact_start = now()
      LEFT JOIN user_session s ON s.id = a.session_id
      LEFT JOIN app_user u ON u.id = a.user_id
      LEFT JOIN officer o ON o.id = u.officer_id
$$;

CREATE FUNCTION landgov_may_write(mouza bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
RETURN coalesce((SELECT a.all_mouzas OR mouza = ANY (a.mouzas) FROM acting_session a
                 WHERE a.pid = pg_backend_pid() AND a.xact_start = now()), false);

-- Row-level security on the record tables: anyone connected may read, the application
-- role writes only rows of mouzas its bound actor may write in today. The owner role
-- (migrations) is not subject to it. A second wall behind the application's own checks.
ALTER TABLE khasra ENABLE ROW LEVEL SECURITY;
ALTER TABLE khewat ENABLE ROW LEVEL SECURITY;
ALTER TABLE khewat_khasra ENABLE ROW LEVEL SECURITY;
ALTER TABLE share ENABLE ROW LEVEL SECURITY;
ALTER TABLE mutation ENABLE ROW LEVEL SECURITY;
ALTER TABLE mutation_line ENABLE ROW LEVEL SECURITY;

CREATE POLICY khasra_read ON khasra FOR SELECT USING (true);
CREATE POLICY khasra_insert ON khasra FOR INSERT WITH CHECK (landgov_may_write(mouza_id));
CREATE POLICY khasra_update ON khasra FOR UPDATE USING (landgov_may_write(mouza_id))
    WITH CHECK (landgov_may_write(mouza_id));
CREATE POLICY khasra_delete ON khasra FOR DELETE USING (landgov_may_write(mouza_id));

CREATE POLICY khewat_read ON khewat FOR SELECT USING (true);
CREATE POLICY khewat_insert ON khewat FOR INSERT WITH CHECK (landgov_may_write(mouza_id));
CREATE POLICY khewat_update ON khewat FOR UPDATE USING (landgov_may_write(mouza_id))
    WITH CHECK (landgov_may_write(mouza_id));
CREATE POLICY khewat_delete ON khewat FOR DELETE USING (landgov_may_write(mouza_id));

CREATE POLICY khewat_khasra_read ON khewat_khasra FOR SELECT USING (true);
CREATE POLICY khewat_khasra_insert ON khewat_khasra FOR INSERT
    WITH CHECK (landgov_may_write(mouza_id));
CREATE POLICY khewat_khasra_update ON khewat_khasra FOR UPDATE
    USING (landgov_may_write(mouza_id)) WITH CHECK (landgov_may_write(mouza_id));
CREATE POLICY khewat_khasra_delete ON khewat_khasra FOR DELETE
    USING (landgov_may_write(mouza_id));

CREATE POLICY mutation_read ON mutation FOR SELECT USING (true);
CREATE POLICY mutation_insert ON mutation FOR INSERT WITH CHECK (landgov_may_write(mouza_id));
CREATE POLICY mutation_update ON mutation FOR UPDATE USING (landgov_may_write(mouza_id))
    WITH CHECK (landgov_may_write(mouza_id));
CREATE POLICY mutation_delete ON mutation FOR DELETE USING (landgov_may_write(mouza_id));

CREATE POLICY share_read ON share FOR SELECT USING (true);
CREATE POLICY share_insert ON share FOR INSERT
    WITH CHECK (landgov_may_write((SELECT k.mouza_id FROM khewat k WHERE k.id = khewat_id)));
CREATE POLICY share_update ON share FOR UPDATE
    USING (landgov_may_write((SELECT k.mouza_id FROM khewat k WHERE k.id = khewat_id)))
    WITH CHECK (landgov_may_write((SELECT k.mouza_id FROM khewat k WHERE k.id = khewat_id)));
CREATE POLICY share_delete ON share FOR DELETE
    USING (landgov_may_write((SELECT k.mouza_id FROM khewat k WHERE k.id = khewat_id)));

CREATE POLICY mutation_line_read ON mutation_line FOR SELECT USING (true);
CREATE POLICY mutation_line_insert ON mutation_line FOR INSERT
    WITH CHECK (landgov_may_write((SELECT m.mouza_id FROM mutation m WHERE m.id = mutation_id)));
CREATE POLICY mutation_line_update ON mutation_line FOR UPDATE
    USING (landgov_may_write((SELECT m.mouza_id FROM mutation m WHERE m.id = mutation_id)))
    WITH CHECK (landgov_may_write((SELECT m.mouza_id FROM mutation m WHERE m.id = mutation_id)));
CREATE POLICY mutation_line_delete ON mutation_line FOR DELETE
    USING (landgov_may_write((SELECT m.mouza_id FROM mutation m WHERE m.id = mutation_id)));

-- Who entered, verified and decided a mutation as accounts (separation of duties), and
-- when each step was recorded by the server's clock (a back-dated step shows as a date
-- before the day it was recorded; the dispute rule backdated_action lists them).
ALTER TABLE mutation
    ADD COLUMN entered_by_user   bigint REFERENCES app_user (id),
    ADD COLUMN verified_by_user  bigint REFERENCES app_user (id),
    ADD COLUMN decided_by_user   bigint REFERENCES app_user (id),
    ADD COLUMN entered_by        bigint REFERENCES officer (id),
    ADD COLUMN recorded_at       timestamptz,
    ADD COLUMN verified_recorded_at timestamptz,
    ADD COLUMN decided_recorded_at  timestamptz;

CREATE FUNCTION mutation_record_times() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.recorded_at := clock_timestamp();
        NEW.verified_recorded_at := CASE WHEN NEW.verified_on IS NULL THEN NULL
                                         ELSE clock_timestamp() END;
        NEW.decided_recorded_at := CASE WHEN NEW.decided_on IS NULL THEN NULL
                                        ELSE clock_timestamp() END;
    ELSE
        NEW.recorded_at := OLD.recorded_at;
        NEW.verified_recorded_at := CASE
            WHEN NEW.verified_on IS NOT DISTINCT FROM OLD.verified_on
                THEN OLD.verified_recorded_at
            WHEN NEW.verified_on IS NULL THEN NULL ELSE clock_timestamp() END;
        NEW.decided_recorded_at := CASE
            WHEN NEW.decided_on IS NOT DISTINCT FROM OLD.decided_on
                THEN OLD.decided_recorded_at
            WHEN NEW.decided_on IS NULL THEN NULL ELSE clock_timestamp() END;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER mutation_record_times BEFORE INSERT OR UPDATE ON mutation
    FOR EACH ROW EXECUTE FUNCTION mutation_record_times();

-- Every change to the core record tables writes one audit row per statement and table,
-- whoever makes it (the application, the owner, a superuser at a psql prompt): who
-- (the bound actor, else the database user), how many rows, their ids, a digest of the
-- rows' content and, for small changes, the rows before and after.
-- The key of a changed row as JSON: its id, or khewat_khasra's composite primary key.
CREATE FUNCTION record_row_key(r jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN coalesce(r -> 'id', jsonb_build_array(r -> 'khewat_id', r -> 'khasra_id', r -> 'valid_from'));

CREATE FUNCTION record_change_audit() RETURNS trigger
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
               encode(sha256(convert_to(coalesce(string_agg(coalesce(a, b)::text, E'\n'
                                                            ORDER BY k), ''), 'UTF8')), 'hex'),
               CASE WHEN count(*) <= 20 THEN jsonb_agg(jsonb_build_object('before', b,
                                                                          'after', a)
                                                       ORDER BY k) END
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

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['khasra', 'khewat', 'khewat_khasra', 'share', 'mutation'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION record_change_audit()',
                       t || '_audit_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows'
                       ' NEW TABLE AS new_rows FOR EACH STATEMENT'
                       ' EXECUTE FUNCTION record_change_audit()', t || '_audit_update', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION record_change_audit()',
                       t || '_audit_delete', t);
    END LOOP;
END $$;

-- Reads of personal data: who read whom, when, why. Append-only like the audit log.
CREATE TABLE access_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor         text NOT NULL CHECK (btrim(actor) <> ''),
    user_id       bigint REFERENCES app_user (id),
    action        text NOT NULL CHECK (btrim(action) <> ''),
    subject_kind  text NOT NULL CHECK (subject_kind IN ('party', 'khewat', 'khasra', 'mouza',
                                                        'phone', 'export')),
    subject       text NOT NULL,
    details       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX access_log_subject_idx ON access_log (subject_kind, subject, at);
CREATE INDEX access_log_user_idx ON access_log (user_id, at);
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- The dispute rule for back-dated steps (scan: landgov.disputes.records).
INSERT INTO dispute_rule (id, family, signal, severity, weight, thresholds, title_en, title_ur,
                          explain_en, explain_ur)
VALUES ('backdated_action', 'sanction', 7, 'medium', 1.5, '{"days": 1}',
        'Back-dated step',
        'پچھلی تاریخ کا اندراج',
        'A verification or decision was dated days before the day it was recorded. The '
        'back-dating window allows it, but every such step is listed for review.',
        'تصدیق یا فیصلہ اندراج کے دن سے پہلے کی تاریخ میں درج ہوا۔ اجازت کی مدت کے اندر ہے، '
        'مگر ہر ایسا اندراج جانچ کے لیے درج کیا جاتا ہے۔');

-- What each role may do. The application role: data manipulation, nothing else; the
-- logs are insert-only; the acting-session table is reachable through the functions
-- above only. The reporting role reads everything but credentials.
GRANT USAGE ON SCHEMA public TO landgov_app, landgov_report;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO landgov_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO landgov_app;
REVOKE UPDATE, DELETE ON audit_log, access_log, login_attempt FROM landgov_app;
REVOKE INSERT, UPDATE, DELETE ON schema_migration FROM landgov_app;
REVOKE ALL ON acting_session FROM landgov_app;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO landgov_report;
REVOKE SELECT ON app_user, user_session, acting_session FROM landgov_report;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO landgov_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO landgov_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO landgov_report;
REVOKE ALL ON FUNCTION landgov_act_as(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION landgov_act_as(text) TO landgov_app;
