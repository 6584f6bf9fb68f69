-- Model outputs (issue: sovereign models): encroachment cases from imagery, crop type and
-- yield per parcel and season. Each run is one transaction; a re-run with the same inputs
-- and model replaces its own earlier results instead of adding duplicates.

-- How far from each kind of state land a structure still counts as encroaching. Data, not
-- code: the irrigation and highways departments set these per notification.
CREATE TABLE encroachment_zone (
    category        text PRIMARY KEY CHECK (category IN ('shamlat', 'forest', 'auqaf',
                                              'evacuee', 'canal_row', 'road_row')),
    buffer_m        double precision NOT NULL CHECK (buffer_m BETWEEN 0 AND 200),
    min_overlap_m2  double precision NOT NULL DEFAULT 2 CHECK (min_overlap_m2 >= 0),
    note            text NOT NULL DEFAULT ''
);
INSERT INTO encroachment_zone (category, buffer_m, min_overlap_m2, note) VALUES
    ('canal_row', 3, 2, 'canal banks: the right-of-way itself plus a 3 m inspection strip'),
    ('road_row', 3, 2, 'road verges: the right-of-way plus a 3 m building-line margin'),
    ('shamlat', 0, 4, 'village common land: its boundary'),
    ('forest', 0, 4, 'reserved forest: its boundary'),
    ('auqaf', 0, 4, 'auqaf property: its boundary'),
    ('evacuee', 0, 4, 'evacuee trust property: its boundary');

CREATE TABLE detection_run (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('encroachment', 'crops', 'yield')),
    mouza_id        bigint NOT NULL REFERENCES mouza (id),
    run_key         text NOT NULL CHECK (btrim(run_key) <> ''),
    model_name      text NOT NULL,
    model_version   text NOT NULL,
    params          jsonb NOT NULL DEFAULT '{}'::jsonb,
    summary         jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, run_key)
);

CREATE TABLE encroachment_case (
    id              bigserial PRIMARY KEY,
    run_id          bigint NOT NULL REFERENCES detection_run (id) ON DELETE CASCADE,
    mouza_id        bigint NOT NULL REFERENCES mouza (id),
    state_land_id   bigint NOT NULL REFERENCES state_land (id),
    category        text NOT NULL,
    geom            geometry(MultiPolygon, 4326) NOT NULL
                    CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    area_m2         double precision NOT NULL CHECK (area_m2 > 0),
    overlap_m2      double precision NOT NULL CHECK (overlap_m2 > 0),
    confidence      double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    first_seen      date NOT NULL,
    before_scene_id text REFERENCES imagery_scene (id) ON DELETE SET NULL,
    after_scene_id  text REFERENCES imagery_scene (id) ON DELETE SET NULL,
    before_chip     text,
    after_chip      text
);
CREATE INDEX encroachment_case_geom_gix ON encroachment_case USING gist (geom);
CREATE INDEX encroachment_case_mouza_idx ON encroachment_case (mouza_id, first_seen);

CREATE TABLE crop_prediction (
    run_id          bigint NOT NULL REFERENCES detection_run (id) ON DELETE CASCADE,
    khasra_id       bigint NOT NULL REFERENCES khasra (id),
    season          text NOT NULL CHECK (season IN ('rabi', 'kharif')),
    year            integer NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    crop            text,
    probability     double precision CHECK (probability BETWEEN 0 AND 1),
    girdawari_crop  text,
    girdawari_probability double precision CHECK (girdawari_probability BETWEEN 0 AND 1),
    disagrees       boolean NOT NULL,
    clear_observations integer NOT NULL CHECK (clear_observations >= 0),
    reason          text,
    -- no guess without imagery: a parcel-season with too few clear observations has a
    -- reason instead of a crop
    CHECK ((crop IS NULL) = (reason IS NOT NULL)),
    PRIMARY KEY (run_id, khasra_id, season, year)
);
CREATE INDEX crop_prediction_khasra_idx ON crop_prediction (khasra_id, year, season);

CREATE TABLE yield_prediction (
    run_id          bigint NOT NULL REFERENCES detection_run (id) ON DELETE CASCADE,
    khasra_id       bigint NOT NULL REFERENCES khasra (id),
    season          text NOT NULL CHECK (season IN ('rabi', 'kharif')),
    year            integer NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    crop            text,
    yield_t_ha      double precision CHECK (yield_t_ha >= 0),
    lue_t_ha        double precision CHECK (lue_t_ha >= 0),
    clamped         boolean NOT NULL DEFAULT false,
    flag            text,
    PRIMARY KEY (run_id, khasra_id, season, year)
);
CREATE INDEX yield_prediction_khasra_idx ON yield_prediction (khasra_id, year, season);
