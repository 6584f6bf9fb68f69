"""The read side the Disputes page needs beyond the queue: every rule's words, an
encroachment's image chips with its flag, and the one safe way to open an evidence file."""

from __future__ import annotations

from pathlib import Path

import pytest
from evidence_support import SEEN_ON, planted_encroachment
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.disputes.cases import case_detail, evidence_file, rule_texts
from landgov.disputes.rules import DETECTORS
from landgov.disputes.scan import scan


def test_every_rule_has_its_words(engine: Engine) -> None:
    with engine.connect() as conn:
        texts = rule_texts(conn)
        ids = set(conn.execute(text("SELECT id FROM dispute_rule")).scalars())
    assert set(texts) == ids and set(DETECTORS) <= ids
    for words in texts.values():
        assert {"title_en", "title_ur", "explain_en", "explain_ur", "severity", "family"} <= set(
            words
        )
        assert words["title_en"].strip() and words["explain_ur"].strip()
    assert texts["share_total_not_one"]["title_en"] == "Khewat shares do not add up to one"


def test_a_structure_flag_carries_its_before_and_after_chips(
    demo_copy: Engine, tmp_path: Path
) -> None:
    with planted_encroachment(demo_copy, tmp_path) as planted:
        scan(demo_copy, mouza=1, actor=service_actor(demo_copy, "disputes"))
        with demo_copy.connect() as conn:
            case_id = conn.execute(
                text(
                    "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                    " ON f.id = cf.flag_id WHERE f.rule_id = 'structure_on_state_land'"
                )
            ).scalar_one()
            detail = case_detail(conn, case_id)
        (flag,) = detail["flags"]
        images = flag["images"]
        assert images["before"]["chip"] == planted.before_chip
        assert images["after"]["chip"] == planted.after_chip
        assert images["first_seen"] == SEEN_ON
        assert images["before"]["on"] is None  # the planted run names no scene
        assert (
            evidence_file(images["after"]["chip"], tmp_path)
            == (tmp_path / planted.after_chip).resolve()
        )
        # flags of other rules carry no images
        with demo_copy.connect() as conn:
            other = conn.execute(
                text(
                    "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                    " ON f.id = cf.flag_id WHERE f.rule_id = 'overlap' LIMIT 1"
                )
            ).scalar_one()
            assert all(f["images"] is None for f in case_detail(conn, other)["flags"])


@pytest.mark.parametrize(
    "relative", [None, "", "  ", "../outside.png", "/etc/passwd", "missing.png", "chips"]
)
def test_evidence_file_opens_only_files_inside_the_home(
    tmp_path: Path, relative: str | None
) -> None:
    home = tmp_path / "home"
    (home / "chips").mkdir(parents=True)
    (home / "chips" / "a.png").write_bytes(b"png")
    (tmp_path / "outside.png").write_bytes(b"secret")
    assert evidence_file(relative, home) is None
    assert evidence_file("chips/a.png", home) == (home / "chips" / "a.png").resolve()
    assert evidence_file("chips/../chips/a.png", home) == (home / "chips" / "a.png").resolve()
