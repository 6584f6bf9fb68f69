-- Extensions, the revenue hierarchy and officers.
-- LADM: admin_unit and mouza are LA_SpatialUnitGroup levels; officer is an LA_Party role.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE admin_unit (
    id          bigserial PRIMARY KEY,
    level       text NOT NULL CHECK (level IN ('province', 'division', 'district', 'tehsil',
                                               'qanungo_halqa', 'patwar_circle')),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    name_ur     text,
    parent_id   bigint REFERENCES admin_unit (id),
    -- a province has no parent; every other level has one
    CONSTRAINT admin_unit_parent_by_level CHECK ((level = 'province') = (parent_id IS NULL)),
    UNIQUE NULLS NOT DISTINCT (parent_id, level, name)
);

-- The revenue village. Sindh calls it deh. hadbast is its boundary number in the tehsil.
CREATE TABLE mouza (
    id                bigserial PRIMARY KEY,
    tehsil_id         bigint NOT NULL REFERENCES admin_unit (id),
    patwar_circle_id  bigint REFERENCES admin_unit (id),
    name              text NOT NULL CHECK (btrim(name) <> ''),
    name_ur           text,
    hadbast_number    integer NOT NULL CHECK (hadbast_number > 0),
    unit_system       text NOT NULL DEFAULT 'standard' CHECK (unit_system IN ('standard', 'urban')),
    boundary          geometry(MultiPolygon, 4326) CHECK (boundary IS NULL OR ST_IsValid(boundary)),
    UNIQUE (tehsil_id, hadbast_number),
    UNIQUE (tehsil_id, name)
);
CREATE INDEX mouza_boundary_gix ON mouza USING gist (boundary);

-- Revenue officers (patwari, girdawar, tehsildar, naib tehsildar, assistant commissioner).
CREATE TABLE officer (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (btrim(name) <> ''),
    designation  text NOT NULL CHECK (designation IN ('patwari', 'girdawar', 'naib_tehsildar',
                                                      'tehsildar', 'assistant_commissioner')),
    cnic         text UNIQUE CHECK (cnic ~ '^\d{5}-\d{7}-\d$')
);

-- Which admin units (any level) an officer may act in; issue 3 enforces it on sanction.
CREATE TABLE officer_jurisdiction (
    officer_id     bigint NOT NULL REFERENCES officer (id),
    admin_unit_id  bigint NOT NULL REFERENCES admin_unit (id),
    valid_from     date NOT NULL,
    valid_to       date CHECK (valid_to IS NULL OR valid_to > valid_from),
    PRIMARY KEY (officer_id, admin_unit_id, valid_from)
);
