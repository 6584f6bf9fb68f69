"""Time the advisory batch's read and rules on the demo district (after ``make demo``).

Runs :func:`landgov.advisories.run.mouza_advisories` (read-only) for every demo mouza on
four dates across both seasons, best of ``--repeats``, in this process. ``imagery.series``
is imported before the clock starts, so an older tree that does not import it pays the
same. To compare with another tree, run this script with ``PYTHONPATH=<that tree>``; the
line printed includes a digest of every advisory, so both trees can be shown to agree.

    .venv/bin/python bench/advisories_batch.py
    PYTHONPATH=/tmp/wt_before .venv/bin/python bench/advisories_batch.py
"""

from __future__ import annotations

import argparse
import hashlib
import time
from datetime import date

DATES = (date(2026, 3, 5), date(2026, 1, 15), date(2025, 9, 1), date(2026, 4, 30))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mouza", type=int, action="append", help="default: 1, 2 and 3")
    args = ap.parse_args()
    import imagery.series  # noqa: F401  (paid before the clock in every tree)
    import landgov
    from landgov.advisories import run
    from landgov.config import load_settings
    from landgov.storage.engine import get_engine

    eng = get_engine(load_settings())
    mouzas = args.mouza or [1, 2, 3]
    best, digest, n = float("inf"), "", 0
    for _ in range(args.repeats):
        h = hashlib.sha256()
        n = 0
        t = time.perf_counter()
        with eng.connect() as conn:
            for d in DATES:
                for m in mouzas:
                    for row in run.mouza_advisories(conn, m, d):
                        h.update(repr((str(d), m, *row)).encode())
                        n += 1
        best = min(best, time.perf_counter() - t)
        digest = h.hexdigest()[:16]
    print(f"{landgov.__file__}: {n} advisories, {len(mouzas)} mouzas x {len(DATES)} dates;"
          f" best of {args.repeats}: {best:.2f} s; digest {digest}")  # fmt: skip


if __name__ == "__main__":
    main()
