"""Regenerate the README screenshots from a running explorer.

    python -m explore_dash --library LIB --data DATA --no-extract --port 8060 &
    python docs/screenshots.py --url http://127.0.0.1:8060/ --highlight-artist "Warzone 2100"
    python docs/screenshots.py --colour-by artist --captions --select-fraction 0 --no-hint \
        --out docs/screenshot-map.png
    python docs/screenshots.py --radio --select-fraction 0 --no-hint --out docs/screenshot-radio.png
    (with --mpd HOST:PORT given to the explorer, MPD's music folder holding the library)
    python docs/screenshots.py --radio --to-mpd --select-fraction 0 --no-hint \
        --out docs/screenshot-mpd.png

Uses headless Chromium through selenium (the test extra), like the browser tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GRAPH = "document.getElementById('{{\"panel\":{0},\"type\":\"panel-graph\"}}')"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8060/")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot-explorer.png")
    parser.add_argument("--highlight-artist", default=None)
    parser.add_argument("--select-fraction", type=float, default=0.3)
    parser.add_argument("--colour-by", default=None, help="a value of the Colour by menu")
    parser.add_argument("--search", default=None, help="text for the search box")
    parser.add_argument("--trajectories", action="store_true", help="tick Trajectories")
    parser.add_argument("--captions", action="store_true", help="tick Captions")
    parser.add_argument("--no-hint", action="store_true", help="close the newcomer's hint")
    parser.add_argument("--radio", action="store_true",
                        help="hover a point of the left map, start a radio from it")  # fmt: skip
    parser.add_argument("--to-mpd", action="store_true",
                        help="send the radio to MPD and wait for the maps' ring")  # fmt: skip
    args = parser.parse_args(argv)

    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.support.browser_options import chrome_options
    from tests.support.pointer import drag, move_to

    driver = webdriver.Chrome(options=chrome_options())
    # The page's own size, not the window's (which includes the browser's frame).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1600, "height": 1000, "deviceScaleFactor": 1,
                            "mobile": False})  # fmt: skip
    try:
        driver.get(args.url)
        graph = GRAPH.format(0) + "?.querySelector('.js-plotly-plot')"
        for _ in range(300):
            if driver.execute_script(f"const g = {graph}; return g && g._fullData && true"):
                break
            time.sleep(0.1)
        time.sleep(1)
        if args.no_hint:
            driver.execute_script(
                "document.documentElement.dataset.hintSeen = '1';"
                "localStorage.setItem('explore-dash.hint-seen', '1');"
            )
        if args.colour_by:
            Select(driver.find_element(By.ID, "colour-by")).select_by_value(args.colour_by)
            time.sleep(2)
        if args.captions:
            driver.execute_script("document.getElementById('captions').click()")
            for _ in range(300):  # k-means and the tags of every region: seconds on a busy machine
                if driver.execute_script(f"return ({graph}.layout.annotations || []).length"):
                    break
                time.sleep(0.1)
            time.sleep(1)
        if args.trajectories:
            driver.execute_script("document.getElementById('trajectories').click()")
        if args.search:
            driver.find_element(By.ID, "search").send_keys(args.search)
            time.sleep(3)
        if args.highlight_artist:
            driver.find_element(By.ID, "highlight-artists").click()
            for option in driver.find_elements(By.CSS_SELECTOR, "[role=option]"):
                if option.text == args.highlight_artist:
                    option.click()
                    break
            driver.find_element(By.TAG_NAME, "body").click()
            time.sleep(2)
        if args.select_fraction:
            driver.execute_script(f"Plotly.relayout({graph}, {{dragmode: 'select'}})")
            time.sleep(0.5)
            left, top, width, height = driver.execute_script(
                f"const gd = {graph}; const r = gd.getBoundingClientRect();"
                "const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
                "return [r.left + xa._offset, r.top + ya._offset, xa._length, ya._length];"
            )
            x1 = left + width * (0.55 + args.select_fraction)
            drag(driver, (left + width * 0.55, top + 5), (x1, top + height * 0.6))
            time.sleep(3)
        if args.radio:
            x, y = driver.execute_script(
                f"const gd = {graph}; const r = gd.getBoundingClientRect();"
                "const t = gd._fullData[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;"
                "const i = Math.floor(t.x.length / 3);"
                "return [r.left + xa._offset + xa.l2p(t.x[i]),"
                " r.top + ya._offset + ya.l2p(t.y[i])];"
            )
            move_to(driver, x, y)
            time.sleep(1)
            driver.find_element(By.ID, "radio-start").click()
            time.sleep(8)
        if args.to_mpd:
            driver.execute_script("document.getElementById('chain-to-mpd').click()")
            for _ in range(200):
                if driver.execute_script(
                    "const m = document.querySelector('.player-mark'); return m && !m.hidden"
                ):
                    break
                time.sleep(0.1)
            time.sleep(3)
        driver.save_screenshot(str(args.out))
        print(args.out)
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
