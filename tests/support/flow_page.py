"""The Radio card and the player in a real browser: hovering a track, starting a radio, and
reading what plays (shared by tests/browser's flow and player tests)."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from extraction.contract import SEGMENT_ID_STRIDE
from tests.support.browser import point_pixel, trace_ids
from tests.support.pointer import move_to
from tests.support.waiting import wait_until

PLAYER = "document.getElementById('player')"


def click(duo, selector: str) -> None:
    duo.driver.execute_script("arguments[0].click()", duo.find_element(selector))


def playing(duo) -> tuple[str | None, float]:
    return duo.driver.execute_script(f"return [{PLAYER}.getAttribute('src'), {PLAYER}.currentTime]")


def hover_segment_of(duo, track: int) -> int:
    """Move the pointer onto the first segment of ``track`` in the left map; its id."""
    duo.driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'})")  # maps in view
    ids = trace_ids(duo, 0)
    index = next(i for i, s in enumerate(ids) if s // SEGMENT_ID_STRIDE == track)
    move_to(duo.driver, *point_pixel(duo, 0, index))
    wait_until(lambda: playing(duo)[0] == f"audio/{track}", message="hover to play")
    return ids[index]


def chain_rows(duo) -> list[str]:
    return [e.text for e in duo.driver.find_elements(By.CSS_SELECTOR, "#chain-list .chain-item")]


def status(duo) -> str:
    return duo.find_element("#flow-status").text


def start_radio_from(duo, track: int) -> None:
    """Hover ``track`` in the left map, leave the maps and start a radio; waits for its chain."""
    hover_segment_of(duo, track)
    move_to(duo.driver, 5, 5)  # off the maps: no more hovers
    click(duo, "#radio-start")
    wait_until(lambda: len(chain_rows(duo)) >= 2 and "Radio 1/" in status(duo),
               message="the radio to play")  # fmt: skip
