-- Parcels (khasra), state land and parties.
-- LADM: khasra is an LA_SpatialUnit; party an LA_Party; state_land a spatial unit whose
-- holder is a custodian.

CREATE TABLE khasra (
    id                bigserial PRIMARY KEY,
    mouza_id          bigint NOT NULL REFERENCES mouza (id),
    -- canonical text form, e.g. '45//12/1' (murabba 45, killa 12, tatima 1) or '123/2'
    number            text NOT NULL CHECK (number ~ '^(\d+//)?\d+(/\d+)*$'),
    murabba           integer CHECK (murabba > 0),
    main_number       integer NOT NULL CHECK (main_number > 0),
    tatima            integer[] NOT NULL DEFAULT '{}',
    parent_khasra_id  bigint REFERENCES khasra (id),
    land_class        text NOT NULL CHECK (land_class IN ('nehri', 'chahi', 'barani', 'banjar',
                                            'ghair_mumkin', 'abadi', 'shamlat', 'forest')),
    -- area as the patwari records it: whole sarsai in the named unit system (K-M-S exact)
    record_area_sarsai integer NOT NULL CHECK (record_area_sarsai > 0),
    unit_system       text NOT NULL CHECK (unit_system IN ('standard', 'urban')),
    -- area of the geometry in its UTM zone (42N/43N), computed by landgov.domain.geometry
    geom_area_m2      double precision NOT NULL CHECK (geom_area_m2 > 0),
    geom              geometry(MultiPolygon, 4326) NOT NULL
                      CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    source            text NOT NULL CHECK (btrim(source) <> ''),
    -- a partition (taqseem) retires the parent and creates tatima children; the ids of the
    -- mutations are added as foreign keys in 003 (mutation is defined there)
    created_on        date,
    retired_on        date CONSTRAINT khasra_retired_after_created
                      CHECK (retired_on IS NULL OR created_on IS NULL OR retired_on >= created_on),
    created_by_mutation_id bigint,
    retired_by_mutation_id bigint,
    UNIQUE (mouza_id, number),
    CONSTRAINT khasra_killa_within_murabba CHECK (murabba IS NULL OR main_number <= 25)
);
CREATE INDEX khasra_geom_gix ON khasra USING gist (geom);
CREATE INDEX khasra_parent_idx ON khasra (parent_khasra_id);

CREATE TABLE state_land (
    id            bigserial PRIMARY KEY,
    mouza_id      bigint REFERENCES mouza (id),
    category      text NOT NULL CHECK (category IN ('shamlat', 'forest', 'auqaf', 'evacuee',
                                                    'canal_row', 'road_row')),
    custodian     text NOT NULL CHECK (custodian IN ('board_of_revenue', 'forest', 'auqaf',
                        'evacuee_trust', 'irrigation', 'highways', 'village_proprietary_body')),
    name          text,
    notification  text,
    geom          geometry(MultiPolygon, 4326) NOT NULL
                  CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))
);
CREATE INDEX state_land_geom_gix ON state_land USING gist (geom);

-- A person (identified by CNIC) or a state body (identified by its custodian department).
CREATE TABLE party (
    id                 bigserial PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('person', 'state')),
    cnic               text UNIQUE CHECK (cnic ~ '^\d{5}-\d{7}-\d$'),
    custodian          text UNIQUE CHECK (custodian IN ('board_of_revenue', 'forest', 'auqaf',
                        'evacuee_trust', 'irrigation', 'highways', 'village_proprietary_body')),
    name               text NOT NULL CHECK (btrim(name) <> ''),
    name_ur            text,
    guardian_relation  text CHECK (guardian_relation IN ('son_of', 'daughter_of', 'wife_of')),
    guardian_name      text,
    gender             text CHECK (gender IN ('male', 'female')),
    date_of_birth      date,
    date_of_death      date CONSTRAINT party_death_after_birth CHECK (date_of_death IS NULL OR date_of_birth IS NULL
                                   OR date_of_death >= date_of_birth),
    CONSTRAINT party_identity_by_kind CHECK (CASE kind
             WHEN 'person' THEN cnic IS NOT NULL AND custodian IS NULL AND gender IS NOT NULL
             ELSE custodian IS NOT NULL AND cnic IS NULL AND date_of_death IS NULL
           END),
    CONSTRAINT party_guardian_complete CHECK ((guardian_relation IS NULL) = (guardian_name IS NULL))
);
