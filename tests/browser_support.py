"""The dashboard served by ``streamlit run`` and driven by headless Chromium: the one copy
shared by the browser tests (``tests/app``) and the browser benchmarks (``bench/``).

Why here, in ``tests/`` beside the other ``*_support`` modules, and not in ``app/`` or
``landgov/``: none of it is product code (the dashboard never starts a browser, nor
itself), and keeping Playwright out of the shipped packages keeps it out of their layer
rule and their strict mypy. pytest puts ``tests/`` on ``sys.path`` (the rootdir conftest
is there), and the bench scripts, run as ``python bench/x.py`` from a fresh clone, put it
there themselves, as they already do for other test helpers.

What it holds is what every browser run repeated: Chromium's path and flags (offline,
headless, software rendering), the server on a free port with its wait on Streamlit's
health URL, the officer's sign-in through the form, a fresh TOTP code for it, and the
wait for a run to finish. Nothing imports Playwright at module level: the bench's
``--help`` and a test collection without browsers stay cheap.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Playwright

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "app" / "dashboard.py"
CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium (``make test`` installs it): no Playwright browser download."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    # no request leaves the machine on the browser's own account (updates, sync)
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SIGN_IN_TITLE = "Sign in to landgov"


class ServerFailed(RuntimeError):
    """The dashboard's server exited or did not become healthy; the message holds its log."""


@dataclass(frozen=True)
class Server:
    """A running dashboard."""

    url: str
    started: float
    """time.perf_counter() when the process was started."""
    healthy_s: float
    """From the process start to the first healthy answer."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_dashboard(
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    root: Path = ROOT,
    script: Path | None = None,
    timeout_s: float = 60.0,
) -> Iterator[Server]:
    """``streamlit run`` of ``root``'s dashboard (or ``script``) on a free local port,
    output in ``log``; yields once ``/_stcore/health`` answers; always stops it.

    ``env`` is laid over this process's environment (the database URL, a scratch home).
    Streamlit watches no files: other people's edits in the same checkout would put up
    its "source changed" notice, and a served test page must not change under the test.

    Raises:
        ServerFailed: the process exited, or was not healthy after ``timeout_s``.
    """
    port = free_port()
    cmd = [
        str(Path(sys.executable).with_name("streamlit")), "run",
        str(script or root / "app" / "dashboard.py"),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=root, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            base = f"http://127.0.0.1:{port}"
            while not _healthy(base):
                if proc.poll() is not None:
                    raise ServerFailed(f"streamlit exited ({proc.returncode}):\n{log.read_text()}")
                if time.perf_counter() - started > timeout_s:
                    raise ServerFailed(
                        f"streamlit not healthy after {timeout_s:.0f} s:\n{log.read_text()}"
                    )
                time.sleep(0.05)  # fine-grained: the bench reports the start time
            yield Server(base, started, time.perf_counter() - started)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:  # not listening yet
        return False


@contextmanager
def streamlit_server(db_url: str, log: Path) -> Iterator[str]:
    """The dashboard on the database ``db_url`` (the tests' form); yields its URL."""
    with serve_dashboard(log, env={"LANDGOV_DATABASE_URL": db_url}) as server:
        yield server.url


def launch(pw: Playwright, args: Sequence[str] = CHROMIUM_ARGS) -> Browser:
    """Debian's Chromium, headless, with :data:`CHROMIUM_ARGS`."""
    return pw.chromium.launch(executable_path=CHROMIUM, args=list(args))


@contextmanager
def dashboard_page(
    db_url: str, folder: Path, *, viewport: tuple[int, int] = (1400, 1300), **options: Any
) -> Iterator[tuple[str, Page, list[str]]]:
    """The dashboard on the database ``db_url`` (its log: ``folder/streamlit.log``) and a
    new Chromium page of ``viewport`` (``options``: Playwright's ``new_page`` ones, e.g. a
    phone's ``is_mobile``).

    Yields:
        (the dashboard's URL, the page, the page's uncaught JavaScript errors as they
        come); the browser and the server are stopped after the block.
    """
    from playwright.sync_api import sync_playwright

    with streamlit_server(db_url, folder / "streamlit.log") as base, sync_playwright() as pw:
        browser = launch(pw)
        try:
            size = {"width": viewport[0], "height": viewport[1]}
            page = browser.new_page(viewport=size, **options)  # type: ignore[arg-type]
            yield base, page, page_errors(page)
        finally:
            browser.close()


def fresh_totp_code(engine: Engine, username: str, secret: str) -> str:
    """A TOTP code of ``username`` that the server accepts now and that was not used.

    The first step after the last one used (``app_user.totp_last_step``, read through
    ``engine``: a role that may read it, the owner or the superuser) that lies in the
    server's window (now ± 1 step), waiting for the clock when every such step is spent:
    a code works once, and sign-ins in quick succession would otherwise be refused.
    """
    from landgov.domain import totp

    with engine.connect() as conn:
        last = conn.execute(
            text("SELECT totp_last_step FROM app_user WHERE username = :u"), {"u": username}
        ).scalar_one()
    step = max(int(last or 0) + 1, totp.step_at(time.time()))
    wait = (step - 1) * totp.STEP_SECONDS - time.time()
    if wait > 0:  # the step is beyond now + 1: wait until it is the next one
        time.sleep(wait + 0.5)
    return totp.totp(secret, step * totp.STEP_SECONDS)


def fill_sign_in(
    page: Page, username: str, password: str, code: str, *, timeout_ms: float = 60_000
) -> None:
    """Waits for the officers' sign-in form and types into it as a person does (not
    submitted: the bench starts its clock at the click)."""
    page.get_by_text(SIGN_IN_TITLE).first.wait_for(timeout=timeout_ms)
    for label, value in (("Username", username), ("Password", password),
                         ("Authenticator code", code)):  # fmt: skip
        page.get_by_role("textbox", name=label, exact=True).fill(value)


def sign_in(
    page: Page, username: str, password: str, code: str, *, timeout_ms: float = 60_000
) -> None:
    """Fills and submits the sign-in form; waits for the signed-in sidebar."""
    fill_sign_in(page, username, password, code, timeout_ms=timeout_ms)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in:").first.wait_for(timeout=timeout_ms)


def wait_until_idle(page: Page, settle_s: float = 1.5, *, timeout_ms: float = 60_000) -> None:
    """Waits until Streamlit has finished its run, then ``settle_s`` for the map to draw."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )
    page.wait_for_timeout(int(settle_s * 1000))


def open_dispute_case(
    page: Page, case_id: int, *, interactive: bool = False, timeout_ms: float = 60_000
) -> Locator:
    """From a signed-in officer's page: Disputes, then case No. ``case_id`` picked as a
    person types it; waits until its evidence map is shown and returns it: the picture
    the page shows first, or (``interactive``) the WebGL map once its switch is turned on
    (and its canvas is up)."""
    import re

    page.get_by_role("link", name="Disputes").first.click()
    page.get_by_text("Dispute cases").first.wait_for(timeout=timeout_ms)
    wait_until_idle(page, timeout_ms=timeout_ms)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Case").last.click()
    page.keyboard.type(f"No. {case_id} ")
    page.get_by_role("option", name=re.compile(rf"^No\. {case_id} ")).first.click()
    page.get_by_text("Why this case is risky").first.wait_for(timeout=timeout_ms)
    return map_shown(page, interactive=interactive, timeout_ms=timeout_ms)


def map_shown(page: Page, *, interactive: bool, timeout_ms: float = 60_000) -> Locator:
    """The page's map drawn as a picture (``interactive`` False), or its interactive map
    after turning the "Interactive map" switch on, once drawn."""
    switch = page.locator('[data-testid="stCheckbox"]').filter(has_text="Interactive map")
    switch.first.wait_for(timeout=timeout_ms)
    if not interactive:
        # the picture in the switch's own box (the innermost block holding it)
        frame = page.locator('[data-testid="stVerticalBlock"]').filter(has=switch)
        picture = frame.last.locator('[data-testid="stImage"] img')
        picture.first.wait_for(state="visible", timeout=timeout_ms)
        page.wait_for_function(
            "el => el.complete && el.naturalWidth > 0", arg=picture.first.element_handle()
        )
        return picture
    switch.first.get_by_text("Interactive map").click()
    chart = page.locator('[data-testid="stDeckGlJsonChart"]')
    chart.locator("canvas").first.wait_for(state="visible", timeout=timeout_ms)
    return chart


def gpu_busy_s(trace: bytes) -> float:
    """Seconds the GPU process's main thread spent executing WebGL command buffers
    (``CommandBufferService:PutChanged``) in a Chromium trace."""
    events = json.loads(trace)["traceEvents"]
    gpu_threads = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrGpuMain"
    }  # fmt: skip
    return sum(
        e["dur"]
        for e in events
        if e.get("ph") == "X" and e.get("name") == "CommandBufferService:PutChanged"
        and (e["pid"], e["tid"]) in gpu_threads
    ) / 1e6  # fmt: skip


def artifacts() -> Path:
    """``$LANDGOV_HOME/test-artifacts``, made if missing: where screenshots are saved."""
    from landgov.config import load_settings

    folder = load_settings().home / "test-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def page_errors(page: Page) -> list[str]:
    """The list that collects the page's uncaught JavaScript errors from now on."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DASHBOARD",
    "LOCAL_HOSTS",
    "ROOT",
    "Server",
    "ServerFailed",
    "artifacts",
    "dashboard_page",
    "fill_sign_in",
    "free_port",
    "fresh_totp_code",
    "gpu_busy_s",
    "launch",
    "map_shown",
    "open_dispute_case",
    "page_errors",
    "serve_dashboard",
    "sign_in",
    "streamlit_server",
    "wait_until_idle",
]
