-- Per-parcel zonal statistics of a spectral index per scene (issue: imagery time series).
-- Kept in PostGIS next to the records: results join directly with khasra/mouza, each
-- scene is written in one transaction, and re-runs skip (scene, index) pairs already here.

CREATE TABLE parcel_zonal (
    khasra_id       bigint NOT NULL REFERENCES khasra (id),
    scene_id        text NOT NULL REFERENCES imagery_scene (id) ON DELETE CASCADE,
    index           text NOT NULL CHECK (btrim(index) <> ''),
    mean            double precision,
    median          double precision,
    std             double precision,
    count           double precision NOT NULL CHECK (count >= 0),
    valid_fraction  double precision CHECK (valid_fraction BETWEEN 0 AND 1),
    computed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (khasra_id, scene_id, index)
);
CREATE INDEX parcel_zonal_scene_idx ON parcel_zonal (scene_id, index);
