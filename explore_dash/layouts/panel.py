"""One map panel: its four dropdowns, the graph, and a point count."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from explore_dash import ids
from explore_dash.layouts.slots import slot
from explore_dash.maps.settings import PanelSettings

GRAPH_CONFIG = {
    "displaylogo": False,
    "scrollZoom": True,
    # Nothing on the page may send a private library (or an --anonymize study) off the machine:
    # no "Share chart…" to Plotly Cloud, no "Edit in Chart Studio", no link to either.
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": [
        "toImage", "autoScale2d", "sendChartToCloud", "sendDataToCloud", "editInChartStudio",
    ],
    "doubleClick": "reset",
}


#: Twelfths of the panel's width each setting takes when the four share one row (from 1400 px
#: wide): the dataset's codes are short, the layer's names long. Below that they sit two by two,
#: so that no option is cut short on a laptop's screen (checked in tests/browser/test_browser.py).
ONE_ROW_WIDTHS = {
    ids.PANEL_ARCHITECTURE: 3,
    ids.PANEL_DATASET: 2,
    ids.PANEL_LAYER: 4,
    ids.PANEL_PROJECTION: 3,
}


def _dropdown(kind: str, index: int, options: list[dict], value: str, label: str) -> dbc.Col:
    return dbc.Col(
        [
            dbc.Label(label, className="small text-muted mb-0"),
            slot(
                dcc.Dropdown(
                    id=ids.panel(kind, index),
                    options=options,
                    value=value,
                    clearable=False,
                    searchable=False,
                ),
                "dropdown",
            ),
        ],
        xs=6,
        xxl=ONE_ROW_WIDTHS[kind],
    )


def _hidden_link(text: str, component_id: dict, **extra) -> dbc.Button:
    """A link-styled button after the panel's count, hidden until a callback shows it."""
    return dbc.Button(
        text,
        id=component_id,
        size="sm",
        color="link",
        className="p-0 ms-2 align-baseline text-nowrap flex-shrink-0",
        style={"display": "none"},
        **extra,
    )


def panel_layout(index: int, options: dict[str, list[dict]], settings: PanelSettings) -> dbc.Card:
    """The card of panel ``index`` with ``settings`` preselected."""
    header = dbc.Row(
        [
            _dropdown(
                ids.PANEL_ARCHITECTURE,
                index,
                options["architecture"],
                settings.architecture,
                "Architecture",
            ),
            _dropdown(ids.PANEL_DATASET, index, options["dataset"], settings.dataset, "Dataset"),
            _dropdown(ids.PANEL_LAYER, index, options["layer"], settings.layer, "Layer"),
            _dropdown(
                ids.PANEL_PROJECTION,
                index,
                options["projection"],
                settings.projection,
                "Projection",
            ),
        ],
        className="g-2",
    )
    progress = html.Div(
        [
            # What runs, on how many points, and its stage: set by the job from its start
            # (explore_dash/callbacks/map_jobs.py: JobProgress), outside the bar so that it shows
            # at 0 %.
            html.Span(id=ids.panel(ids.PANEL_PROGRESS_TEXT, index),
                      className="panel-progress-text small me-2"),  # fmt: skip
            dbc.Progress(
                id=ids.panel(ids.PANEL_PROGRESS, index),
                value=0,
                striped=True,
                animated=True,
                className="flex-grow-1 me-2",
                style={"height": "1.2rem"},
            ),
            dbc.Button("Cancel", id=ids.cancel_button(index), size="sm", color="secondary"),
        ],
        id=ids.panel(ids.PANEL_PROGRESS_BOX, index),
        # Over the map's title line (assets/style.css): the map keeps its place meanwhile.
        className="panel-progress align-items-center",
        style={"display": "none"},
    )
    # One line: the count ellipsizes (its whole text in its title) before the links and Reset
    # zoom are pushed off it.
    footer = html.Div(
        [
            html.Span(id=ids.panel(ids.PANEL_COUNT, index),
                      className="small text-muted panel-note"),  # fmt: skip
            # Shown when the map's job was lost with its worker (explore_dash/server/jobs.py).
            _hidden_link("Try again", ids.panel(ids.PANEL_RETRY, index)),
            # Shown while the panel shows a subset placed on the whole collection's map.
            _hidden_link(
                "Recompute for this selection",
                ids.panel(ids.PANEL_RECOMPUTE, index),
                title="A t-SNE or UMAP map of these points alone (in the background)",
            ),
            dbc.Button(
                "Reset zoom",
                id=ids.panel(ids.PANEL_RESET, index),
                size="sm",
                color="link",
                className="ms-auto ps-2 p-0 text-nowrap flex-shrink-0",
            ),
        ],
        className="d-flex align-items-baseline panel-footer",
    )
    graph = dcc.Graph(
        id=ids.panel(ids.PANEL_GRAPH, index),
        config=GRAPH_CONFIG,
        # Set inline (dcc.Graph would put its own height there); the value is in style.css.
        style={"height": "var(--panel-graph-height)"},
        responsive=True,
        clear_on_unhover=False,
    )
    # Over the map's lower left corner (assets/style.css), so colouring does not resize the map.
    legend = html.Div(id=ids.panel(ids.PANEL_LEGEND, index), className="panel-legend small")
    job = dcc.Store(id=ids.panel(ids.PANEL_JOB, index))
    # The user's zoom of this map (kept client side), re-applied when new tracks redraw it.
    view = dcc.Store(id=ids.panel(ids.PANEL_VIEW, index))
    return dbc.Card(
        [
            dbc.CardHeader(header),
            dbc.CardBody([progress, graph, legend, job, view], className="p-1 panel-body"),
            dbc.CardFooter(footer),
        ],
        className="h-100",
    )
