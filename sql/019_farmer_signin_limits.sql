-- Farmer sign-in that cannot be brute-forced, and no one-time code left readable
-- (issue 14 §6; landgov.advisories.farmer).
--
-- Before: each new code reset the try limit (1,211 codes and SMS to one farmer in 10 s),
-- the answers told whether a CNIC holds land, and a code stayed readable in the outbox.
-- Now:
--   * at most farmer_codes_per_hour codes in any hour and farmer_codes_per_day in any
--     24 hours, per CNIC (counted for unknown CNICs too) and per phone;
--   * one failure budget per CNIC across codes: farmer_failures_per_day wrong codes in
--     any 24 hours, after which no code is checked (not even the right one) until the
--     oldest failure is 24 hours old;
--   * an OTP message's body is replaced by '[one-time code]' as soon as it leaves the
--     queue (handed to the gateway, failed, expired) or passes its expiry, by a trigger,
--     whoever updates it; sms_outbox_readable shows the same for rows not yet swept.

INSERT INTO security_setting (name, value, description) VALUES
    ('farmer_codes_per_hour', 3,
     'one-time codes sent per CNIC, and per phone, in any hour'),
    ('farmer_codes_per_day', 10,
     'one-time codes sent per CNIC, and per phone, in any 24 hours'),
    ('farmer_failures_per_day', 10,
     'wrong one-time codes checked per CNIC in any 24 hours (over all its codes); then '
     'none is accepted until the oldest failure is 24 hours old');

-- Every code request and every code check, for known and unknown CNICs alike (the CNIC
-- as a SHA-256, so typed numbers of strangers are not kept in clear). The limits count
-- these rows; the application role may add rows, never change or delete them.
CREATE TABLE farmer_signin_attempt (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    cnic_digest  text NOT NULL CHECK (cnic_digest ~ '^[0-9a-f]{64}$'),
    party_id     bigint REFERENCES party (id),
    phone        text,
    action       text NOT NULL CHECK (action IN ('request', 'verify')),
    -- request: sent | unregistered (no such person or no phone: nothing sent, same
    --          answer) | phone_limit (the phone's limit: nothing sent, same answer) |
    --          cnic_limit (refused, and said so: the same for every CNIC)
    -- verify:  ok | wrong (any code not accepted) | budget_spent (not even checked)
    outcome      text NOT NULL,
    CONSTRAINT farmer_signin_attempt_outcome CHECK (CASE action
        WHEN 'request' THEN outcome IN ('sent', 'unregistered', 'phone_limit', 'cnic_limit')
        ELSE outcome IN ('ok', 'wrong', 'budget_spent') END)
);
CREATE INDEX farmer_signin_attempt_cnic_idx ON farmer_signin_attempt (cnic_digest, action, at);
COMMENT ON TABLE farmer_signin_attempt IS
    'farmer one-time code requests and checks (rate limits, failure budget); insert-only';

-- An OTP message expires with its code; 'expired' is the status of one never handed over.
ALTER TABLE sms_outbox ADD COLUMN expires_at timestamptz;
UPDATE sms_outbox SET expires_at = created_at + interval '10 minutes' WHERE purpose = 'otp';
ALTER TABLE sms_outbox DROP CONSTRAINT sms_outbox_status_check;
ALTER TABLE sms_outbox ADD CONSTRAINT sms_outbox_status_check
    CHECK (status IN ('queued', 'sent', 'failed', 'expired'));
ALTER TABLE sms_outbox ADD CONSTRAINT sms_outbox_otp_expires
    CHECK (purpose <> 'otp' OR expires_at IS NOT NULL);
CREATE INDEX sms_outbox_otp_phone_idx ON sms_outbox (phone, created_at) WHERE purpose = 'otp';

-- The redaction, in the database: an OTP body is readable only while queued and live.
CREATE FUNCTION sms_outbox_redact_otp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.purpose IS DISTINCT FROM OLD.purpose THEN
        RAISE EXCEPTION 'otp_redaction: the purpose of outbox message % cannot change', OLD.id;
    END IF;
    IF NEW.purpose = 'otp' THEN
        IF NEW.status <> 'queued' OR NEW.expires_at <= clock_timestamp()
           OR (TG_OP = 'UPDATE' AND OLD.body = '[one-time code]') THEN
            NEW.body := '[one-time code]';  -- and once redacted, never readable again
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER sms_outbox_redact_otp BEFORE INSERT OR UPDATE ON sms_outbox
    FOR EACH ROW EXECUTE FUNCTION sms_outbox_redact_otp();

-- OTP messages already handed over or expired when this migration runs.
UPDATE sms_outbox SET status = 'expired' WHERE purpose = 'otp' AND status = 'queued'
    AND expires_at <= clock_timestamp();
UPDATE sms_outbox SET body = '[one-time code]' WHERE purpose = 'otp' AND status <> 'queued';

-- Queued OTP messages past their expiry: 'expired' (the gateway must not send them) and,
-- by the trigger, redacted. Called on every code request; returns how many.
CREATE FUNCTION landgov_expire_otp_sms() RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = public, pg_temp AS $$
DECLARE n integer;
BEGIN
    UPDATE sms_outbox SET status = 'expired'
     WHERE purpose = 'otp' AND status = 'queued' AND expires_at <= clock_timestamp();
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- How the outbox is read by people (CLI, reports): an OTP row that is not queued, or is
-- past its expiry, shows '[one-time code]' and the status 'expired', swept or not.
CREATE VIEW sms_outbox_readable AS
SELECT o.id, o.party_id, o.phone, o.language,
       CASE WHEN o.purpose = 'otp' AND (o.status <> 'queued' OR o.expires_at <= now())
            THEN '[one-time code]' ELSE o.body END AS body,
       o.encoding, o.segments, o.purpose, o.advisory_id, o.khasra_id, o.season, o.year,
       o.kind,
       CASE WHEN o.purpose = 'otp' AND o.status = 'queued' AND o.expires_at <= now()
            THEN 'expired' ELSE o.status END AS status,
       o.created_at, o.sent_at, o.expires_at
  FROM sms_outbox o;
COMMENT ON VIEW sms_outbox_readable IS
    'the SMS outbox as people may read it: one-time codes only while queued and live';

-- Limits that hold whoever inserts: a code or an OTP message beyond the limits of its
-- person or phone is refused (the application checks first and answers the farmer; these
-- are the second wall). The advisory locks serialise the counts per person and phone.
CREATE FUNCTION farmer_otp_limits() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    per_hour integer := coalesce((SELECT value FROM security_setting
                                  WHERE name = 'farmer_codes_per_hour'), 3);
    per_day integer := coalesce((SELECT value FROM security_setting
                                 WHERE name = 'farmer_codes_per_day'), 10);
    in_hour bigint;
    in_day bigint;
BEGIN
    IF TG_TABLE_NAME = 'sms_outbox' THEN
        IF NEW.purpose <> 'otp' THEN
            RETURN NEW;  -- advisories are limited by their own unique index
        END IF;
    END IF;
    NEW.created_at := now();  -- the limits count by it: no back-dated rows
    IF TG_TABLE_NAME = 'farmer_otp' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('landgov-farmer-party:' || NEW.party_id, 0));
        SELECT count(*) FILTER (WHERE created_at > now() - interval '1 hour'), count(*)
          INTO in_hour, in_day FROM farmer_otp
         WHERE party_id = NEW.party_id AND created_at > now() - interval '24 hours';
    ELSE
        PERFORM pg_advisory_xact_lock(hashtextextended('landgov-farmer-phone:' || NEW.phone, 0));
        SELECT count(*) FILTER (WHERE created_at > now() - interval '1 hour'), count(*)
          INTO in_hour, in_day FROM sms_outbox
         WHERE purpose = 'otp' AND phone = NEW.phone
           AND created_at > now() - interval '24 hours';
    END IF;
    IF in_hour >= per_hour THEN
        RAISE EXCEPTION 'farmer_codes_per_hour: % one-time code(s) in the last hour for this %',
            in_hour, CASE TG_TABLE_NAME WHEN 'farmer_otp' THEN 'person' ELSE 'phone' END
            USING ERRCODE = 'check_violation';
    END IF;
    IF in_day >= per_day THEN
        RAISE EXCEPTION 'farmer_codes_per_day: % one-time code(s) in the last 24 hours for this %',
            in_day, CASE TG_TABLE_NAME WHEN 'farmer_otp' THEN 'person' ELSE 'phone' END
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER farmer_otp_limits BEFORE INSERT ON farmer_otp
    FOR EACH ROW EXECUTE FUNCTION farmer_otp_limits();
CREATE TRIGGER sms_outbox_otp_limits BEFORE INSERT ON sms_outbox
    FOR EACH ROW EXECUTE FUNCTION farmer_otp_limits();

-- Privileges: the attempt log is insert-only for the application; people read the
-- outbox through the view (the reporting role no longer reads queued codes).
GRANT SELECT, INSERT ON farmer_signin_attempt TO landgov_app;
REVOKE UPDATE, DELETE, TRUNCATE ON farmer_signin_attempt FROM landgov_app;
GRANT USAGE, SELECT ON SEQUENCE farmer_signin_attempt_id_seq TO landgov_app;
GRANT SELECT ON farmer_signin_attempt TO landgov_report;
GRANT SELECT ON sms_outbox_readable TO landgov_app, landgov_report;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON sms_outbox_readable FROM landgov_app;
REVOKE SELECT ON sms_outbox, farmer_otp FROM landgov_report;
GRANT EXECUTE ON FUNCTION landgov_expire_otp_sms() TO landgov_app;
