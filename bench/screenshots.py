"""Screenshots of every console page at phone (390 px) and desktop (1280 px) width, in headless
Chromium (Debian's /usr/bin/chromium driven by Playwright), on a seeded demo office.

    .venv/bin/python bench/screenshots.py [--out bench/out/screens] [--chromium /usr/bin/chromium]

Prints each file written and how long the page took to load and render.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
PAGES = [
    ("login", "/admin/login"),
    ("progress-month", "/admin/"),
    ("progress-year", "/admin/?view=year"),
    ("progress-cell", "/admin/progress/cell?task=info&village=%E4%B8%9C%E9%A3%8E%E6%9D%91&view=month"),
    ("reports", "/admin/reports"),
    ("reports-filtered", "/admin/reports?village=%E7%BA%A2%E5%B1%B1&status=withdrawn"),
    ("roster", "/admin/roster"),
    ("person", "/admin/roster/person/li"),
    ("tasks", "/admin/tasks"),
    ("task-edit", "/admin/tasks/info"),
    ("knowledge", "/admin/knowledge"),
    ("clauses", "/admin/knowledge/clauses"),
    ("hit-test", "/admin/knowledge/test?q=%E5%AE%97%E6%95%99%E5%9C%BA%E6%89%80%E6%B6%88%E9%98%B2%E5%A4%9A%E4%B9%85%E6%A3%80%E6%9F%A5"),
    ("questions", "/admin/questions"),
    ("audit", "/admin/audit"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "screens"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--max-height", type=int, default=3200, help="cut long pages at this many pixels")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    from starlette.applications import Starlette

    from app.demo import DEMO_PASSWORD, LiveServer, build_demo
    from console.routes import admin_routes

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        services = build_demo(Path(tmp))
        server = LiveServer(Starlette(routes=admin_routes(services))).start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
                for kind, (width, height) in WIDTHS.items():
                    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                                  device_scale_factor=1)
                    page = context.new_page()
                    page.goto(server.url + "/admin/login")
                    page.screenshot(path=str(out / f"login-{kind}.png"), full_page=True)
                    page.fill("#name", "办公室小张")
                    page.fill("#password", DEMO_PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_url("**/admin/")
                    for name, path in PAGES[1:]:
                        started = time.perf_counter()
                        page.goto(server.url + path)
                        target = out / f"{name}-{kind}.png"
                        full = page.evaluate("document.documentElement.scrollHeight")
                        page.screenshot(path=str(target), full_page=True,
                                        clip={"x": 0, "y": 0, "width": width, "height": min(full, args.max_height)})
                        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  "
                              f"{(time.perf_counter() - started) * 1000:.0f} ms")
                    context.close()
                browser.close()
        finally:
            server.stop()
            services.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
