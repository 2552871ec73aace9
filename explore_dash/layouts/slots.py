"""Room kept for Dash's lazily loaded controls, so the page does not move when they arrive.

Dash 4 loads the code of dcc.Dropdown and dcc.Slider after the first render. Until it arrives
they take no height; the map panels were drawn, then pushed down 34 px under the pointer of a
user about to drag (a box selection started on the card instead of the plot).
"""

from __future__ import annotations

from dash import dcc, html

#: Slot kinds with a minimum height in assets/style.css (``.slot-<kind>``).
SLOT_KINDS = ("dropdown", "slider")


def slot(component, kind: str) -> html.Div:
    """``component`` in a box at least as tall as the control will be once its code has loaded."""
    if kind not in SLOT_KINDS:
        raise ValueError(f"unknown slot kind {kind!r}; expected one of {SLOT_KINDS}")
    return html.Div(component, className=f"slot-{kind}")


def multi_dropdown(component_id: str, options: list, placeholder: str) -> html.Div:
    """A multi-value dropdown, empty to start with, in its slot."""
    dropdown = dcc.Dropdown(
        id=component_id, options=options, value=[], multi=True, placeholder=placeholder
    )
    return slot(dropdown, "dropdown")
