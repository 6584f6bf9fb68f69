"""Scoring flags against planted truth (pure: no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import shapely

from landgov.disputes import scoring


def test_scoring_counts_misses_and_false_flags() -> None:
    truth = [
        scoring.Planted("a-1", "sale_after_death", "M", "", frozenset(), "7", ""),
        scoring.Planted("b-1", "orphan_khasra", "M", "", frozenset({"1//2"}), "", ""),
    ]
    flags = [
        scoring.Flagged(1, "sale_after_death", "M", "3", frozenset(), "7", ""),
        scoring.Flagged(2, "sale_after_death", "M", "3", frozenset(), "8", ""),
        scoring.Flagged(3, "orphan_khasra", "Other", "", frozenset({"1//2"}), "", ""),
        scoring.Flagged(4, "sanction_volume_spike", "M", "3", frozenset(), "9", ""),
    ]
    s = scoring.score(truth, flags)
    by_rule = {r.rule: r for r in s.rules}
    assert (by_rule["sale_after_death"].recall, by_rule["sale_after_death"].precision) == (1, 0.5)
    assert by_rule["sale_after_death"].false_flags == (2,)
    assert by_rule["orphan_khasra"].recall == 0 and by_rule["orphan_khasra"].missed == ("b-1",)
    assert "girdawari_vs_satellite" in s.not_scored  # no imagery truth given
    assert s.not_scored["sanction_volume_spike"] == 1  # nothing of its kind planted
    assert s.recall == 0.5 and s.precision == 1 / 3


def test_a_retired_parent_is_matched_by_its_tatima_children_only() -> None:
    planted = scoring.Planted("t-1", "tatima_area_mismatch", "M", "", frozenset({"13//2"}), "", "")
    child = scoring.Flagged(1, "tatima_area_mismatch", "M", "", frozenset({"13//2/1"}), "", "")
    other = scoring.Flagged(2, "tatima_area_mismatch", "M", "", frozenset({"13//21"}), "", "")
    assert scoring.matches(child, planted) and not scoring.matches(other, planted)


def test_imagery_truth_seasons_and_structures(tmp_path: Path) -> None:
    s2 = tmp_path / "sentinel-2"
    s2.mkdir()
    (s2 / "ground_truth.csv").write_text(
        "mouza_id,mouza,khasra_id,khasra_no,season,crop,girdawari_crop,yield_t_ha\n"
        "1,M,5,5,rabi 2025-26,fodder,wheat,3\n1,M,6,6,rabi 2025-26,wheat,wheat,3\n",
        encoding="utf-8",
    )
    (tmp_path / "structures.csv").write_text(
        "id,date_built,on_state_land,state_land_category,area_m2,centroid_x,centroid_y\n"
        "1,2025-06-29,true,canal_row,21.8,402175.12,3508258.41\n"
        "2,2020-01-01,true,canal_row,21.8,402000.00,3508000.00\n"
        "3,2025-06-29,false,,21.8,402100.00,3508100.00\n",
        encoding="utf-8",
    )
    truth = scoring.read_imagery_truth(s2, tmp_path, (date(2024, 3, 1), date(2026, 3, 1)))
    assert [p.kind for p in truth] == ["girdawari_misreport", "new_structure_on_state_land"]
    lon, lat = truth[1].lonlat or (0.0, 0.0)
    near = shapely.Point(lon + 2e-5, lat).buffer(1e-5)  # ~1 m from the centroid
    far = shapely.Point(lon + 2e-4, lat).buffer(1e-5)  # ~18 m away
    flag = scoring.Flagged(1, "girdawari_vs_satellite", "M", "", frozenset({"5"}), "", "",
                           "rabi 2025-26")  # fmt: skip
    s = scoring.score(truth, [
        flag,
        scoring.Flagged(2, "structure_on_state_land", "M", "", frozenset(), "", "", "", near),
        scoring.Flagged(3, "structure_on_state_land", "M", "", frozenset(), "", "", "", far),
    ], imagery=True)  # fmt: skip
    by_rule = {r.rule: r for r in s.rules}
    assert by_rule["girdawari_vs_satellite"].recall == 1.0
    assert by_rule["structure_on_state_land"].false_flags == (3,)
