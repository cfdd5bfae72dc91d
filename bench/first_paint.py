"""First paint of the agent's pages in a real browser, on the benchmark database.

gunicorn serves the benchmark database (as in the throughput phase); Debian's chromium, driven by
Playwright, signs in on /signin as the benchmark agent and loads the inbox and ticket pages again
and again in one tab, reading the browser's own Paint Timing entry (``first-contentful-paint``)
and the navigation timing of each load. Static files come from the server like in production (no
browser cache between loads: each load is a fresh navigation with the cache disabled), so the
figure is what a person sees on a cold page, minus the network.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import BenchDatabase, summarize_ms
from bench.throughput import HOST, Server

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
# The browser's view of one navigation: first contentful paint, DOM ready and load, in ms after
# the navigation started.
_TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {
    fcp: fcp ? fcp.startTime : null,
    dom_content_loaded: nav ? nav.domContentLoadedEventEnd : null,
    load: nav ? nav.loadEventEnd : null,
    response_end: nav ? nav.responseEnd : null,
  };
}"""


def page_paths(fixtures: dict[str, Any]) -> dict[str, list[str]]:
    inbox = ["/inbox", "/inbox/all-open", "/inbox/unassigned", "/inbox/my-teams", "/inbox/pending"]
    tickets = [f"/tickets/{pk}" for pk in fixtures["detail_ids"]]
    return {"inbox": inbox, "ticket": tickets}


def run(db: BenchDatabase, fixtures: dict[str, Any], *, loads: int, log: Path) -> dict[str, Any]:
    """``loads`` navigations per page kind; returns p50/p95/max of each timing."""
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} is missing (make browser-deps installs it)"}
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {"loads": loads, "browser": "chromium (Debian), headless", "viewport": VIEWPORT}
    with Server(db, log) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=VIEWPORT, base_url=f"http://{HOST}:{server.port}")
            page = context.new_page()
            page.set_default_timeout(60_000)
            session = context.new_cdp_session(page)
            session.send("Network.setCacheDisabled", {"cacheDisabled": True})
            page.goto("/signin")
            page.fill("#id_email", fixtures["page_user"])
            page.fill("#id_password", fixtures["page_password"])
            with page.expect_navigation():
                page.click("form[action='/signin'] button[type=submit]")
            if "/signin" in page.url:
                raise RuntimeError("the benchmark agent could not sign in")
            for kind, paths in page_paths(fixtures).items():
                samples: dict[str, list[float]] = {"fcp": [], "dom_content_loaded": [], "load": []}
                print(f"  first paint: {kind} ({loads} loads)", flush=True)
                for i in range(loads + 3):
                    response = page.goto(paths[i % len(paths)], wait_until="load")
                    if response is None or response.status != 200:
                        status = None if response is None else response.status
                        raise RuntimeError(f"{paths[i % len(paths)]} answered {status}")
                    timings = page.evaluate(_TIMINGS)
                    if i < 3:  # warm-up: the server's first requests compile templates
                        continue
                    for name in samples:
                        if timings.get(name) is not None:
                            samples[name].append(float(timings[name]))
                results[kind] = {name: summarize_ms(values) for name, values in samples.items() if values}
                fcp = results[kind].get("fcp", {})
                print(
                    f"    first contentful paint p50 {fcp.get('p50', 0):.0f} ms, p95 {fcp.get('p95', 0):.0f} ms",
                    flush=True,
                )
        finally:
            browser.close()
    results["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    return results
