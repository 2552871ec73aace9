"""Real pointer input for headless Chromium, shared by the browser tests, benchmarks and the
screenshot script: Plotly only hovers, drags and selects on real input events."""

from __future__ import annotations


def _actions(driver):
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    return ActionBuilder(driver)


def move_to(driver, x: float, y: float) -> None:
    """Move the pointer to viewport pixel (x, y)."""
    actions = _actions(driver)
    actions.pointer_action.move_to_location(int(round(x)), int(round(y)))
    actions.perform()


def press(driver, down: bool) -> None:
    """Press (``down``) or release the left button where the pointer is."""
    actions = _actions(driver)
    if down:
        actions.pointer_action.pointer_down()
    else:
        actions.pointer_action.pointer_up()
    actions.perform()


def drag(driver, start, end, steps: int = 8) -> None:
    """Press at ``start``, move to ``end`` in ``steps`` moves and release."""
    move_to(driver, *start)
    press(driver, True)
    for step in range(1, steps + 1):
        move_to(
            driver,
            start[0] + (end[0] - start[0]) * step / steps,
            start[1] + (end[1] - start[1]) * step / steps,
        )
    press(driver, False)


def double_click(driver, x: float, y: float) -> None:
    move_to(driver, x, y)
    actions = _actions(driver)
    for _ in range(2):
        actions.pointer_action.pointer_down()
        actions.pointer_action.pointer_up()
    actions.perform()
