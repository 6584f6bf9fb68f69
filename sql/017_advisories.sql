-- Farmer advisories (issue: advisories): who may be messaged, what each parcel-season's
-- imagery says, and the messages waiting for the SMS gateway.

-- A farmer's phone and consent. No row, or no opt-in, or an opt-out: never messaged.
CREATE TABLE farmer_contact (
    party_id      bigint PRIMARY KEY REFERENCES party (id),
    phone         text NOT NULL CHECK (phone ~ '^\+923[0-9]{9}$'),  -- E.164, mobile
    language      text NOT NULL DEFAULT 'ur' CHECK (language IN ('ur', 'en')),
    opted_in_on   date,
    opted_out_on  date,
    source        text NOT NULL DEFAULT 'import' CHECK (btrim(source) <> ''),
    CHECK (opted_out_on IS NULL OR opted_in_on IS NULL OR opted_out_on >= opted_in_on)
);

CREATE TABLE advisory_run (
    id          bigserial PRIMARY KEY,
    as_of       date NOT NULL,
    season      text NOT NULL CHECK (season IN ('rabi', 'kharif')),
    year        integer NOT NULL,
    summary     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One advisory per parcel, season and kind: a re-run refreshes its evidence and text.
CREATE TABLE advisory (
    id          bigserial PRIMARY KEY,
    run_id      bigint NOT NULL REFERENCES advisory_run (id),
    khasra_id   bigint NOT NULL REFERENCES khasra (id),
    season      text NOT NULL CHECK (season IN ('rabi', 'kharif')),
    year        integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('insufficient_imagery', 'crop_health',
                    'yield_outlook', 'water_stress', 'late_sowing', 'early_senescence')),
    status      text NOT NULL DEFAULT '',
    level       text NOT NULL CHECK (level IN ('info', 'warning')),
    confidence  double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    crop        text,
    as_of       date NOT NULL,
    evidence    jsonb NOT NULL,
    sms_en      text NOT NULL,
    sms_ur      text NOT NULL,
    text_en     text NOT NULL,
    text_ur     text NOT NULL,
    UNIQUE (khasra_id, season, year, kind)
);
CREATE INDEX advisory_season_idx ON advisory (season, year, kind);

-- Messages for the SMS gateway. An advisory goes to a farmer once per parcel, season and
-- kind (the partial unique index), however often the batch runs.
CREATE TABLE sms_outbox (
    id           bigserial PRIMARY KEY,
    party_id     bigint NOT NULL REFERENCES party (id),
    phone        text NOT NULL,
    language     text NOT NULL CHECK (language IN ('ur', 'en')),
    body         text NOT NULL CHECK (body <> ''),
    encoding     text NOT NULL CHECK (encoding IN ('gsm7', 'ucs2')),
    segments     integer NOT NULL CHECK (segments >= 1),
    purpose      text NOT NULL CHECK (purpose IN ('advisory', 'otp')),
    advisory_id  bigint REFERENCES advisory (id) ON DELETE SET NULL,
    khasra_id    bigint REFERENCES khasra (id),
    season       text,
    year         integer,
    kind         text,
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    CHECK (purpose <> 'advisory' OR (khasra_id IS NOT NULL AND season IS NOT NULL
                                     AND year IS NOT NULL AND kind IS NOT NULL))
);
CREATE UNIQUE INDEX sms_outbox_advisory_once
    ON sms_outbox (party_id, khasra_id, season, year, kind) WHERE purpose = 'advisory';
CREATE INDEX sms_outbox_status_idx ON sms_outbox (status, created_at);

-- One-time codes for the farmer view: only a hash is kept; a code works once, for
-- 10 minutes, and five wrong tries spend it.
CREATE TABLE farmer_otp (
    id          bigserial PRIMARY KEY,
    party_id    bigint NOT NULL REFERENCES party (id),
    code_hash   text NOT NULL CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0)
);
CREATE INDEX farmer_otp_party_idx ON farmer_otp (party_id, created_at);
