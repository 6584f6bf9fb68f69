-- Which scene sees a mouza clear (imagery.catalog.clear_fractions: the mean clear fraction
-- of the mouza's khasras per scene, read by every map's first draw of a mouza) joined the
-- mouza's khasras to parcel_zonal by khasra and index, reading each row from the table:
-- 60 ms on the demo's mouza of 674 khasras. An index on (khasra_id, index) that carries
-- the two columns the query reads answers it from the index alone (22 ms there).
CREATE INDEX parcel_zonal_khasra_index_idx
    ON parcel_zonal (khasra_id, index) INCLUDE (scene_id, valid_fraction);
