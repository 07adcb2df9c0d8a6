"""Real Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by Playwright.

Skipped on a developer machine without it; under CI=true a missing browser fails the run (as a
missing PostgreSQL or Redis does), so a green CI always means the pages ran in a real browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if IN_CI:
        pytest.fail(f"Chromium is required under CI but {CHROMIUM} is missing (scripts/ensure_browser.sh)")
    pytest.skip(f"{CHROMIUM} not installed (scripts/ensure_browser.sh installs it)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per browser-test module. Not per session: Playwright's sync API keeps an
    event loop running in the main thread while it is started, and later tests' asyncio.run() refuse
    to run inside it."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()
