"""The set-based valuation of many sales equals the per-sale one, sale by sale.

:func:`~landgov.valuation.transfer.transfer_taxes_of` (a mouza's sales in a fixed number
of statements, for the Valuation page) and :func:`~landgov.valuation.transfer.transfer_tax`
(one sale, read line by line, for the price check at sanction) read differently but must
give the same figures: compared here on every sale of the demo district, with its own DC
table and a mouza's own row above the district's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from security_support import service_actor
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from landgov.errors import LandgovError
from landgov.valuation.rates import load_dc_rates
from landgov.valuation.transfer import transfer_tax, transfer_taxes_of

# Kot Pindi Das (mouza 1) notifies its own nehri rate for 2020: sales of that year there
# take it (depth 0), the other mouzas keep the district's (the grouping by mouza is tested)
MOUZA_ROW = (
    "mouza,land_class,rs_per_unit,unit,valid_from,valid_to\n"
    "Kot Pindi Das,nehri,7000,marla,2020-01-01,2021-01-01\n"
)


@contextmanager
def statements(conn: Connection) -> Iterator[list[str]]:
    """Every SQL statement ``conn`` runs inside the block."""
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(conn, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", count)


def per_sale(conn: Connection, ids: list[int]) -> tuple[dict[int, dict], dict[int, str]]:
    valued, unvalued = {}, {}
    for mid in ids:
        try:
            valued[mid] = transfer_tax(conn, mid).as_dict()
        except LandgovError as exc:
            unvalued[mid] = str(exc)
    return valued, unvalued


def all_mutations(conn: Connection) -> list[int]:
    """Every sale of the demo, and one gift (refused as not a sale), by id."""
    sales = conn.execute(text("SELECT id FROM mutation WHERE type = 'sale' ORDER BY id"))
    gift = conn.execute(text("SELECT id FROM mutation WHERE type = 'gift' ORDER BY id LIMIT 1"))
    return [int(i) for i in sales.scalars()] + [int(i) for i in gift.scalars()]


def test_every_demo_sale_is_valued_and_taxed_alike(
    demo_copy: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    demo = service_actor(demo_copy, "demo")
    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=demo)
    own = tmp_path / "mouza_rate.csv"
    own.write_text(MOUZA_ROW, encoding="utf-8")
    assert load_dc_rates(demo_copy, own, actor=demo).rows == 1
    with demo_copy.connect() as conn:
        ids = all_mutations(conn)
        missing = max(ids) + 1000
        with statements(conn) as seen:
            valued, unvalued = transfer_taxes_of(conn, [*ids, missing])
        one_by_one, refused = per_sale(conn, [*ids, missing])

    # a fixed number of statements whatever the number of sales: the sales, their lines,
    # their khewats' holdings, the DC rows, and the tax rules once per mouza
    mouzas = {t.mouza for t in valued}
    assert len(mouzas) >= 2
    assert len(seen) <= 4 + len(mouzas), seen
    assert len(ids) > 100
    batch = {t.mutation_id: t.as_dict() for t in valued}
    assert batch.keys() == one_by_one.keys()
    for mid, figures in one_by_one.items():
        # values, taxes (each line's amount, band and rule), parcels and rates used
        assert batch[mid] == figures, mid
    assert [t.mutation_id for t in valued] == [i for i in ids if i in one_by_one]
    assert dict(unvalued) == refused
    assert "not a sale" in refused[ids[-1]] and refused[missing] == f"no mutation with id {missing}"
    # the mouza's own row was used where it applies, the district's elsewhere
    places = {p["rate_place"] for t in valued for p in t.as_dict()["parcels"]}
    assert "mouza Kot Pindi Das" in places and "district Sheikhupura" in places
    assert any(t.taxes for t in valued) and any(t.under_declared for t in valued)


def test_sales_without_a_dc_rate_are_refused_with_the_same_reason(demo_copy: Engine) -> None:
    with demo_copy.connect() as conn:
        ids = all_mutations(conn)[:40]
        valued, unvalued = transfer_taxes_of(conn, ids)
        _, refused = per_sale(conn, ids)
    assert valued == []
    assert dict(unvalued) == refused and len(refused) == len(ids)
    assert all(why.startswith("no DC rate in force") for why in refused.values())


def test_no_sales_no_statements(demo_copy: Engine) -> None:
    with demo_copy.connect() as conn, statements(conn) as seen:
        assert transfer_taxes_of(conn, []) == ([], [])
    assert seen == []


@pytest.mark.parametrize("status", ["late_filer", "inactive"])
def test_taxpayer_status_reaches_the_batch(demo_copy: Engine, demo_dir: Path, status: str) -> None:
    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=service_actor(demo_copy, "demo"))
    with demo_copy.connect() as conn:
        ids = all_mutations(conn)[-30:-1]
        valued, _ = transfer_taxes_of(conn, ids, taxpayer_status=status)
        active, _ = transfer_taxes_of(conn, ids)
        for t in valued:
            assert (
                t.as_dict() == transfer_tax(conn, t.mutation_id, taxpayer_status=status).as_dict()
            )
    # the status chose other rules (the demo's 236K/236C rows are for active taxpayers)
    assert sum(t.total_rs for t in active) > 0
    assert [t.taxes for t in valued] != [t.taxes for t in active]
