-- The imagery catalog (issue: imagery): every scene is a STAC item, its rasters are
-- Cloud-Optimized GeoTIFFs under $LANDGOV_HOME/imagery (hrefs are relative to it).

CREATE TABLE imagery_scene (
    id              text PRIMARY KEY CHECK (btrim(id) <> ''),
    collection      text NOT NULL CHECK (btrim(collection) <> ''),
    sensor          text NOT NULL
                    CHECK (sensor IN ('sentinel-2', 'landsat-8', 'landsat-9', 'orthophoto', 'other')),
    datetime        timestamptz NOT NULL,
    footprint       geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(footprint)),
    cloud_cover     numeric CHECK (cloud_cover BETWEEN 0 AND 100),
    crs             text NOT NULL,
    item            jsonb NOT NULL,
    content_sha256  text NOT NULL UNIQUE CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
    ingested_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imagery_scene_footprint_idx ON imagery_scene USING gist (footprint);
CREATE INDEX imagery_scene_datetime_idx ON imagery_scene (datetime);
CREATE INDEX imagery_scene_sensor_idx ON imagery_scene (sensor);

CREATE TABLE imagery_asset (
    scene_id      text NOT NULL REFERENCES imagery_scene (id) ON DELETE CASCADE,
    key           text NOT NULL CHECK (btrim(key) <> ''),
    band          text NOT NULL CHECK (btrim(band) <> ''),
    href          text NOT NULL CHECK (href !~ '^/' AND href !~ '\.\.'),
    resolution_m  numeric CHECK (resolution_m > 0),
    dtype         text NOT NULL,
    nodata        double precision,
    PRIMARY KEY (scene_id, key)
);
