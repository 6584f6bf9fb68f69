"""Benchmark: the API under 200 concurrent clients (issue 20, point 7).

Serves the API (``landgov serve api``, a subprocess on 127.0.0.1) over the demo database
of ``$LANDGOV_HOME`` (run ``make demo`` first) and drives it from one asyncio process
with ``--clients`` virtual clients, each an API client of its own (``bench-NNN``,
registered by the demo service, with a limit high enough never to refuse: this measures
capacity, not the limits) holding its own OAuth 2.0 token and connection. For
``--seconds`` each client loops: a call, then a pause drawn from an exponential
distribution of mean ``--think`` seconds (a bank's or a GIS unit's system between two
calls). Calls, by weight:

- ``fard``: ``GET /v1/fard/{code}`` of a fard in the register (a bank's check; each one
  recomputes the holding and writes an access-log row);
- ``parcel``: ``GET /v1/collections/khasras/items/{id}`` of a random live khasra;
- ``bbox``: ``GET /v1/collections/khasras/items?bbox=<a mouza's bounds>&limit=1000``,
  every khasra of a mouza and its neighbours' edges.

It prints, per kind, the calls, throughput, p50/p95/p99/max latency and non-200 answers,
against the targets (p95 < 50 ms for fard and parcel, < 300 ms for bbox, no errors); then
the peers, measured in the same run on an idle server: the same reads through the
dashboard's and CLI's own functions in-process (``mouza_parcels`` for a mouza's parcels,
with and without making GeoJSON of them; ``verify_fard`` for a fard).

    .venv/bin/python bench/api_load.py [--clients 200] [--seconds 60] [--think 1.0]
        [--workers 2] [--threads 4] [--fards 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"fard": 0.050, "parcel": 0.050, "bbox": 0.300}


@dataclass
class Fixture:
    codes: list[str]
    khasra_ids: list[int]
    bboxes: list[str]
    mouza_ids: list[int]
    today: date
    secrets: dict[str, str] = field(default_factory=dict)


def _prepare(clients: int, fards: int) -> Fixture:
    """Bench clients, fards to verify, khasras and mouza boxes to ask for."""
    from landgov.config import load_settings
    from landgov.records.fard import issue_fard
    from landgov.security import login, service_login
    from landgov.security.accounts import service_key_path
    from landgov.security.clients import ClientError, add_client, rotate_secret
    from landgov.storage import get_engine
    from landgov.storage.read import database_today, mouza_parcels

    settings = load_settings()
    engine = get_engine(settings)
    key = service_key_path(settings.secrets_dir, "demo").read_text(encoding="utf-8")
    demo = service_login(engine, "demo", key)
    secrets: dict[str, str] = {}
    for i in range(clients):
        name = f"bench-{i:03d}"
        try:
            _, secrets[name] = add_client(
                engine, demo, name=name, agency="bench/api_load.py",
                scopes="fard:read,parcels:read", rate_per_minute=1_000_000,
            )  # fmt: skip
        except ClientError:
            _, secrets[name] = rotate_secret(engine, demo, name)
    with engine.connect() as conn:
        today = database_today(conn)
        codes = [str(c) for c in conn.execute(
            text("SELECT code FROM fard_issue ORDER BY issued_at DESC LIMIT :n"), {"n": fards}
        ).scalars()]  # fmt: skip
        mouza_ids = [
            int(m) for m in conn.execute(text("SELECT id FROM mouza ORDER BY id")).scalars()
        ]
        khewats = conn.execute(
            text("SELECT m.name, w.number FROM khewat w JOIN mouza m ON m.id = w.mouza_id"
                 " WHERE w.mouza_id = :m ORDER BY w.number LIMIT :n"),
            {"m": mouza_ids[0], "n": fards},
        ).all()  # fmt: skip
        parcels = {m: mouza_parcels(conn, m, today) for m in mouza_ids}
    if len(codes) < fards:  # issue the rest as the demo's patwari (his password: demo file)
        accounts = json.loads((settings.home / "demo" / "accounts.json").read_text())
        patwari = next(a for a in accounts["accounts"] if a["username"] == "patwari.9")
        actor = login(engine, "patwari.9", patwari["password"], channel="cli")
        out = settings.home / "bench" / "fards"
        out.mkdir(parents=True, exist_ok=True)
        for name, number in khewats[: fards - len(codes)]:
            pdf = out / f"{number}.pdf"
            issued = issue_fard(engine, khewat=(name, int(number)), as_of=today, out=pdf,
                                actor=actor, purpose="bench")  # fmt: skip
            codes.append(issued.code)
    ids = [int(k) for df in parcels.values() for k in df.khasra_id]
    boxes = [",".join(f"{v:.6f}" for v in df.total_bounds) for df in parcels.values()]
    return Fixture(codes, ids, boxes, mouza_ids, today, secrets)


def _serve(port: int, workers: int, threads: int, log: Any) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("landgov")
    proc = subprocess.Popen(
        [str(exe), "serve", "api", "--port", str(port), "--workers", str(workers),
         "--threads", str(threads)],
        stdout=log, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/conformance", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the API did not start")


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a client can be.

    Why not httpx: its asyncio client spends about 4 ms of CPU a call, so on this
    two-core machine the load generator would take a core from the server it measures.
    The API answers with ``Content-Length`` (never chunked), which is all this reads.
    """

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        """GET ``path``; a kept-alive connection the server has closed meanwhile (uvicorn
        closes one idle for 5 s) is opened again once, as any HTTP client does."""
        fresh = self.writer is None
        if fresh:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            return await self._exchange(path)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
            if fresh:
                raise
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            return await self._exchange(path)

    async def _exchange(self, path: str) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n"
        self.writer.write(request.encode("latin-1"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(v) for k, _, v in (ln.partition(":") for ln in lines[1:])
                      if k.lower() == "content-length")  # fmt: skip
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _token(base: str, name: str, secret: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        r = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(name, secret))  # fmt: skip
        r.raise_for_status()
        return str(r.json()["access_token"])


async def _client(
    base: str, token: str, fx: Fixture, until: float, think: float,
    weights: dict[str, float], out: list[tuple[str, float, int]], rng: random.Random,
) -> None:  # fmt: skip
    url = httpx.URL(base)
    auth = {"Authorization": f"Bearer {token}"}
    conn = Connection(url.host, url.port or 80, auth)
    prefix = url.path.rstrip("/")
    await asyncio.sleep(rng.uniform(0, think))  # clients do not start in step
    kinds, w = list(weights), list(weights.values())
    try:
        while time.perf_counter() < until:
            kind = rng.choices(kinds, w)[0]
            if kind == "fard":
                path = f"/fard/{rng.choice(fx.codes)}"
            elif kind == "parcel":
                path = f"/collections/khasras/items/{rng.choice(fx.khasra_ids)}"
            else:
                path = f"/collections/khasras/items?bbox={rng.choice(fx.bboxes)}&limit=1000"
            start = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(conn.get(prefix + path), timeout=30)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                status = 0
                await conn.close()
            out.append((kind, time.perf_counter() - start, status))
            await asyncio.sleep(rng.expovariate(1 / think))
    finally:
        await conn.close()


async def _load(base: str, fx: Fixture, seconds: float, think: float,
                weights: dict[str, float]) -> list[tuple[str, float, int]]:  # fmt: skip
    """Tokens first (outside the clock), then every client for ``seconds``."""
    tokens = await asyncio.gather(*(_token(base, n, s) for n, s in fx.secrets.items()))
    out: list[tuple[str, float, int]] = []
    until = time.perf_counter() + seconds
    rng = random.Random(20)
    await asyncio.gather(*(
        _client(base, token, fx, until, think, weights, out, random.Random(rng.random()))
        for token in tokens
    ))  # fmt: skip
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _peers(fx: Fixture, repeats: int) -> dict[str, float]:
    """Medians (s) of the same reads through the dashboard's and CLI's functions."""
    from landgov.records.fard import verify_fard
    from landgov.storage import get_engine
    from landgov.storage.read import mouza_parcels

    engine = get_engine()
    times: dict[str, list[float]] = {"mouza_parcels": [], "mouza_parcels+geojson": [],
                                     "verify_fard": []}  # fmt: skip
    for i in range(repeats):
        m = fx.mouza_ids[i % len(fx.mouza_ids)]
        with engine.connect() as conn:
            t = time.perf_counter()
            df = mouza_parcels(conn, m, fx.today)
            times["mouza_parcels"].append(time.perf_counter() - t)
            df.to_json()
            times["mouza_parcels+geojson"].append(time.perf_counter() - t)
        t = time.perf_counter()
        verify_fard(engine, fx.codes[i % len(fx.codes)])
        times["verify_fard"].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--think", type=float, default=1.0, help="mean pause between calls (s)")
    p.add_argument("--workers", type=int, default=2, help="API worker processes")
    p.add_argument("--threads", type=int, default=4, help="calls a worker takes at once")
    p.add_argument("--fards", type=int, default=40)
    p.add_argument("--port", type=int, default=0, help="the API's port (0: a free one)")
    p.add_argument("--mix", default="fard=0.45,parcel=0.45,bbox=0.10")
    args = p.parse_args()
    weights = {k: float(v) for k, v in (kv.split("=") for kv in args.mix.split(","))}
    print(f"preparing {args.clients} clients and {args.fards} fards ...", flush=True)
    fx = _prepare(args.clients, args.fards)
    if not args.port:  # a free port: a previous run's server may still be going away
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = sock.getsockname()[1]
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / "landgov-api-load.log"
    log = log_path.open("w")
    server = _serve(args.port, args.workers, args.threads, log)
    try:
        base = f"http://127.0.0.1:{args.port}/v1"
        print(f"load: {args.clients} clients, {args.seconds:.0f} s, mean pause {args.think} s,"
              f" {args.workers} worker(s) x {args.threads or 40} threads, mix {args.mix}",
              flush=True)  # fmt: skip
        calls = asyncio.run(_load(base, fx, args.seconds, args.think, weights))
        took = args.seconds
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{'kind':8} {'calls':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
          f" {'max ms':>8} {'non-200':>8}  target p95")  # fmt: skip
    ok = True
    for kind in weights:
        mine = [c for c in calls if c[0] == kind]
        lat = [c[1] for c in mine]
        bad = sum(c[2] != 200 for c in mine)
        p95 = _pct(lat, 0.95)
        met = p95 < TARGETS[kind] and bad == 0
        ok &= met
        print(f"{kind:8} {len(mine):7d} {len(mine) / took:7.1f} {_pct(lat, 0.5) * 1e3:8.1f}"
              f" {p95 * 1e3:8.1f} {_pct(lat, 0.99) * 1e3:8.1f} {max(lat) * 1e3:8.1f} {bad:8d}"
              f"  < {TARGETS[kind] * 1e3:.0f} ms: {'met' if met else 'MISSED'}")  # fmt: skip
    print(f"all: {len(calls)} calls in {took:.0f} s = {len(calls) / took:.1f} per s"
          f" (offered at most {args.clients / args.think:.0f} per s)")  # fmt: skip
    failed = Counter((kind, status) for kind, _, status in calls if status != 200)
    if failed:
        shown = ", ".join(f"{k} {s or 'no answer'}: {n}" for (k, s), n in sorted(failed.items()))
        print(f"non-200 answers: {shown} (server log: {log_path})")
    peers = _peers(fx, 20)
    print("\npeers, in-process, idle (median of 20):")
    for name, s in peers.items():
        print(f"  {name:24} {s * 1e3:8.1f} ms")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
