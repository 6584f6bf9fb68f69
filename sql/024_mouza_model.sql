-- Which model serves which mouza (issue 17). By default `landgov models predict` uses the
-- crop model whose card covers the mouza (its `coverage` bounding box holds the mouza's
-- parcels, where its imagery is read); a row here overrides that for one mouza and task,
-- e.g. a pilot mouza whose stored series are real Landsat NDVI rather than the demo's
-- synthetic Sentinel-2. model_version NULL = the newest registered version at predict
-- time. Set and cleared only through `landgov models assign` / `unassign`, which check
-- the actor's capability and write an audit row in the same transaction.

CREATE TABLE mouza_model (
    mouza_id       bigint NOT NULL REFERENCES mouza (id),
    task           text NOT NULL CHECK (task IN ('crops')),
    model_name     text NOT NULL CHECK (model_name ~ '^[a-z0-9][a-z0-9_-]*$'),
    model_version  text CHECK (model_version ~ '^v[0-9]+$'),
    note           text NOT NULL DEFAULT '',
    set_by         text NOT NULL CHECK (btrim(set_by) <> ''),
    set_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mouza_id, task)
);

COMMENT ON TABLE mouza_model IS
    'per-mouza model choice overriding the coverage default of landgov models predict';

-- A year model (a field's whole calendar year, e.g. wheat-rice) reports a season crop; its
-- own class is kept beside it so an officer sees what the model saw.
ALTER TABLE crop_prediction ADD COLUMN model_class text;

COMMENT ON COLUMN crop_prediction.model_class IS
    'the model''s own class when it is not a season crop (a year model''s wheat-rice, '
    'cotton ...); NULL for season models';
