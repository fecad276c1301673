"""The wall's cold load, against a running app: `python -m bench.coldload --password P
[--base-url http://127.0.0.1:8050] [--username U] [--runs 20] [--path /]`.

Each run opens the page in a new tab with the browser's cache off (Debian's Chromium,
headless) and reports what crossed the wire (compressed, as sent) and when the KPI tiles held
their figures in the page (performance.now() at the DOM change; the paint follows when the
page's main thread is free) and when the first chart was drawn.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.run import RESULTS
from tests.chromium import ARGS, CHROMIUM

WATCH = """
new MutationObserver((m, obs) => { const e = document.getElementById('overview-tile-received-value');
  if (e && e.textContent && e.textContent !== '—') { window.__tiles = performance.now(); obs.disconnect(); } })
  .observe(document, {subtree: true, childList: true, characterData: true});
new MutationObserver((m, obs) => { if (document.querySelector('#overview-graph-flow .main-svg .bars')) {
  window.__chart = performance.now(); obs.disconnect(); } })
  .observe(document, {subtree: true, childList: true});
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8050")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.goto(args.base_url + "/login")
        page.fill("input[name=username]", args.username)
        page.fill("input[name=password]", args.password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        for _ in range(args.runs):
            tab = context.new_page()
            cdp = context.new_cdp_session(tab)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            sizes: dict[str, int] = {}
            cdp.on(
                "Network.loadingFinished",
                lambda e, sizes=sizes: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
            )
            tab.add_init_script(WATCH)
            tab.goto(args.base_url + args.path)
            tab.wait_for_selector("#overview-graph-flow .main-svg .bars", timeout=60000)
            tab.wait_for_load_state("networkidle")
            tiles, chart = tab.evaluate("[window.__tiles, window.__chart]")
            runs.append(
                {"bytes": sum(sizes.values()), "tiles_s": tiles / 1000, "chart_s": chart / 1000}
            )
            tab.close()
        browser.close()
    summary = {
        "runs": len(runs),
        "bytes_max": max(r["bytes"] for r in runs),
        **{
            f"{key}_{name}": round(fn([r[key] for r in runs]), 2)
            for key in ("tiles_s", "chart_s")
            for name, fn in (
                ("p50", statistics.median),
                ("p95", lambda v: percentile(v, 0.95)),
                ("max", max),
            )
        },
    }
    print(json.dumps(summary, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"coldload-{int(time.time())}.json").write_text(json.dumps({**summary, "all": runs}))


if __name__ == "__main__":
    main()
