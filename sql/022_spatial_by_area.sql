-- Spatial rules by measured area (issue 16, item 2).
--
-- One tolerance for every spatial rule, in metres and square metres: a piece of land (an
-- overlap, an encroachment, a gap, a record-vs-map difference spread along the boundary)
-- counts only when its part wider than tolerance_m covers more than min_area_m2
-- (landgov.disputes.spatial.wide_part_sql). The figures were measured on a real cadastre
-- (bench/spatial_tolerances.py, Épinay-sur-Orge, 4,241 parcels: overlaps between
-- neighbours at most 2.8 mm wide and 0.13 m², coordinates 1.1 cm apart): 0.1 m and 1 m²
-- are the 1-2-5 values at least five times those, and flag none of its neighbour pairs.
--
-- Overlaps and encroachments on state land are decided by that measured area whatever
-- share of either parcel it is (overlap_fraction is gone), and a khasra lying mostly in
-- state land is no longer exempt for it: only the state's own khasra is (owned by state
-- parties alone, or unowned and the same ground as the state land polygon).

UPDATE dispute_rule SET
    thresholds = (thresholds - 'overlap_fraction')
        || '{"tolerance_m": 0.1, "min_area_m2": 1,
             "grade_m2": [[1, 0.25], [101, 1]], "grade_pct": [[1, 0.25], [10, 1]]}',
    grade = '{"source": "Computed by the detector (landgov.disputes.spatial.overlap_grade), not by factors: the larger of two monotone ramps, over the intersection in m² (thresholds.grade_m2: 0.25 at 1 m², the least area beyond tolerance, to 1 at 101 m², one karam of 5.5 ft along a killa''s 198 ft side) and over the larger share it takes of either khasra in % (thresholds.grade_pct: 0.25 at 1 %, where the old rule began, to 1 at 10 %). More land, or a larger part of either parcel, never weighs less."}',
    explain_en = 'Two live khasras overlap beyond the mapping tolerance (by default, a part of the overlap wider than 10 cm covering more than 1 m²), however small a share of either it is: the same ground is recorded twice. The evidence gives the overlap in m² and as a share of each khasra.',
    explain_ur = 'دو موجودہ خسرے نقشے کی حدِ برداشت سے زیادہ ایک دوسرے پر چڑھے ہوئے ہیں (بطورِ طے شدہ: مشترک حصے کا 10 سینٹی میٹر سے زیادہ چوڑا حصہ جو 1 مربع میٹر سے بڑا ہو)، خواہ یہ کسی بھی خسرے کا کتنا ہی چھوٹا حصہ ہو: ایک ہی زمین دو بار درج ہے۔ ثبوت میں مشترک رقبہ مربع میٹر میں اور ہر خسرے کے فیصد کے طور پر دیا گیا ہے۔'
WHERE id = 'overlap';

UPDATE dispute_rule SET
    thresholds = thresholds || '{"tolerance_m": 0.1, "min_area_m2": 1,
             "grade_m2": [[1, 0.25], [101, 1]], "grade_pct": [[1, 0.25], [10, 1]]}',
    grade = '{"source": "Computed by the detector (landgov.disputes.spatial.overlap_grade), not by factors: the larger of two monotone ramps, over the encroached area in m² (thresholds.grade_m2: 0.25 at 1 m² to 1 at 101 m², one karam of 5.5 ft along a killa''s 198 ft side) and over the larger of the shares it takes of the khasra and of the state land polygon, in % (thresholds.grade_pct: 0.25 at 1 % to 1 at 10 %). A khasra 65 % on shamlat weighs fully, a corner of 5 m² about 0.28."}',
    explain_en = 'A khasra that is not the state''s own overlaps state land (shamlat, forest, or a canal or road right-of-way) beyond the mapping tolerance, however much of the khasra lies inside: part of it, or all of it, is state land recorded in private hands, or a boundary drawn into the state''s land. The evidence gives the overlap in m² and as a share of the khasra and of the state land.',
    explain_ur = 'ایک خسرہ جو سرکار کی اپنی ملکیت نہیں، سرکاری زمین (شاملات، جنگل، یا نہر یا سڑک کی حد) میں نقشے کی حدِ برداشت سے زیادہ داخل ہے، خواہ خسرے کا کتنا ہی حصہ اندر ہو: اس کا کچھ یا سارا حصہ سرکاری زمین ہے جو نجی ملکیت میں درج ہے، یا اس کی حد سرکاری زمین میں کھینچی گئی ہے۔ ثبوت میں مشترک رقبہ مربع میٹر میں اور خسرے اور سرکاری زمین کے فیصد کے طور پر دیا گیا ہے۔'
WHERE id = 'private_on_state_land';

-- gaps and slivers run as one detector with the union of both rows' thresholds: the same
-- keys in both. A sliver's limit becomes a mean width (2 × area / perimeter) in metres,
-- twice the old area/perimeter ratio; the old least sliver area is the shared minimum.
UPDATE dispute_rule SET
    thresholds = (thresholds - 'sliver_ratio' - 'min_sliver_m2')
        || jsonb_build_object('sliver_width_m',
               2 * coalesce((SELECT (r.thresholds ->> 'sliver_ratio')::double precision
                             FROM dispute_rule r WHERE r.id = 'sliver'), 0.5))
        || '{"tolerance_m": 0.1, "min_area_m2": 1}'
        || jsonb_build_object('min_gap_m2',
               coalesce((SELECT (r.thresholds ->> 'min_gap_m2')::double precision
                         FROM dispute_rule r WHERE r.id = 'gap'), 50))
WHERE id IN ('gap', 'sliver');

UPDATE dispute_rule SET
    explain_en = 'A thin strip (under 1 m wide on average) between neighbouring khasras belongs to none of them: usually a digitising error. Cracks thinner than the mapping tolerance (10 cm by default) are ignored.',
    explain_ur = 'ہمسایہ خسرہ جات کے درمیان ایک باریک پٹی (اوسطاً 1 میٹر سے کم چوڑی) کسی میں شامل نہیں: عموماً نقشہ سازی کی غلطی۔ نقشے کی حدِ برداشت (بطورِ طے شدہ 10 سینٹی میٹر) سے باریک دراڑیں نظر انداز کی جاتی ہیں۔'
WHERE id = 'sliver';

UPDATE dispute_rule SET
    thresholds = thresholds || '{"tolerance_m": 0.1, "min_area_m2": 1}',
    explain_en = 'The khasra''s area in the record differs from its area on the map by more than the tolerance (looser for digitised village maps), and by more than moving its whole boundary by the mapping tolerance would explain.',
    explain_ur = 'ریکارڈ میں خسرے کا رقبہ نقشے پر رقبے سے مقررہ حد سے زیادہ مختلف ہے (ڈیجیٹائز شدہ نقشوں کے لیے حد زیادہ ہے)، اور اتنا زیادہ کہ پوری حد کو نقشے کی حدِ برداشت کے برابر کھسکانے سے بھی اس کی وضاحت نہیں ہوتی۔'
WHERE id = 'area_mismatch';
