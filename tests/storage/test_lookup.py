"""The one mouza resolver (landgov.storage.lookup.resolve_mouza): an id, a hadbast number or
a case-insensitive name; clear refusals when nothing or several mouzas match."""

from __future__ import annotations

import numpy as np
import pytest
from security_support import owner_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.errors import LandgovError
from landgov.storage.lookup import NotFound, resolve_mouza, resolve_mouzas


@pytest.fixture
def mouzas(engine: Engine) -> Engine:
    """Kot Test (id 1, hadbast 17) and Chak Do (id 3, hadbast 18) in tehsil Sheikhupura; a
    second Kot Test (id 2, hadbast 1) in tehsil Muridke: "1" is mouza 1's id and mouza 2's
    hadbast, and "Kot Test" names two mouzas."""
    with owner_engine(engine).begin() as conn:
        conn.execute(text(
            "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
            " (1, 'province', 'Punjab', NULL), (2, 'district', 'Sheikhupura', 1),"
            " (3, 'tehsil', 'Sheikhupura', 2), (4, 'tehsil', 'Muridke', 2);"
            "INSERT INTO mouza (id, tehsil_id, name, hadbast_number) VALUES"
            " (1, 3, 'Kot Test', 17), (2, 4, 'Kot Test', 1), (3, 3, 'Chak Do', 18)"
        ))  # fmt: skip
    return engine


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (3, 3),  # an id
        (np.int64(3), 3),  # an id from numpy or pandas
        ("3", 3),  # an id typed on the command line
        ("18", 3),  # a hadbast number
        (" 17 ", 1),
        ("chak do", 3),  # a name, any case
        ("  CHAK DO ", 3),
        (2, 2),  # an int is an id only: mouza 2, not the mouza with hadbast 2 (none)
        (1, 1),  # ... and not mouza 2, whose hadbast is 1
    ],
)
def test_a_mouza_is_found_by_id_hadbast_or_name(mouzas: Engine, ref: object, expected: int) -> None:
    with mouzas.connect() as conn:
        assert resolve_mouza(conn, ref) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("Nowhere", "no mouza 'Nowhere' (by name or hadbast number). "
                    "Known mouzas: Chak Do, Kot Test, Kot Test."),
        ("999", "no mouza '999' (by id or hadbast number). Known mouzas:"),
        (999, "no mouza 999 (by id). Known mouzas:"),
        ("1", "mouza '1' is ambiguous: Kot Test (id 1, hadbast 17, tehsil Sheikhupura); "
              "Kot Test (id 2, hadbast 1, tehsil Muridke)"),
        ("kot test", "mouza 'kot test' is ambiguous: Kot Test (id 1, hadbast 17, tehsil "
                     "Sheikhupura); Kot Test (id 2, hadbast 1, tehsil Muridke)"),
        (None, "mouza None: give an id, a name or a hadbast number"),
        (True, "mouza True: give an id, a name or a hadbast number"),
    ],
)  # fmt: skip
def test_none_or_several_matches_are_refused_clearly(
    mouzas: Engine, ref: object, message: str
) -> None:
    with mouzas.connect() as conn, pytest.raises(NotFound) as err:
        resolve_mouza(conn, ref)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)
    assert isinstance(err.value, LandgovError)


def test_an_empty_database_says_so(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(NotFound, match=r"no mouza 'Kot' \(by name or hadbast number\)\. "
                                           r"No mouza exists yet\."):  # fmt: skip
            resolve_mouza(conn, "Kot")
        with pytest.raises(NotFound, match="there is no mouza in the database"):
            resolve_mouzas(conn, None)


def test_several_mouzas_resolve_once_each_in_id_order(mouzas: Engine) -> None:
    with mouzas.connect() as conn:
        assert resolve_mouzas(conn, None) == [(1, "Kot Test"), (2, "Kot Test"), (3, "Chak Do")]
        assert resolve_mouzas(conn, ["chak do", 2, "18"]) == [(2, "Kot Test"), (3, "Chak Do")]
        assert resolve_mouzas(conn, "17") == [(1, "Kot Test")]
        with pytest.raises(NotFound, match="is ambiguous"):
            resolve_mouzas(conn, [3, "kot test"])
