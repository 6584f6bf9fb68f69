-- Crop inspections and the audit log.

-- One crop seen on one khasra in one harvest inspection.
CREATE TABLE girdawari (
    id                   bigserial PRIMARY KEY,
    khasra_id            bigint NOT NULL REFERENCES khasra (id),
    season               text NOT NULL CHECK (season IN ('rabi', 'kharif')),
    year                 integer NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    inspected_on         date NOT NULL,
    crop                 text NOT NULL CHECK (crop IN ('wheat', 'cotton', 'rice', 'sugarcane',
                                                       'fodder', 'orchard', 'fallow')),
    area_sown_sarsai     integer NOT NULL CHECK (area_sown_sarsai >= 0),
    irrigation_source    text NOT NULL CHECK (irrigation_source IN ('canal', 'tubewell',
                              'canal_and_tubewell', 'rain', 'none')),
    cultivator_party_id  bigint REFERENCES party (id),
    damage_pct           numeric(5, 2) NOT NULL DEFAULT 0 CHECK (damage_pct BETWEEN 0 AND 100),
    UNIQUE (khasra_id, year, season, crop)
);
CREATE INDEX girdawari_season_idx ON girdawari (year, season);

-- Append-only record of who did what. The database refuses UPDATE and DELETE.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor      text NOT NULL CHECK (btrim(actor) <> ''),
    action     text NOT NULL CHECK (btrim(action) <> ''),
    entity     text NOT NULL,
    entity_id  text,
    details    jsonb NOT NULL DEFAULT '{}'
);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
