// Linked selection: a box or lasso in one panel selects the same segments in the other.
//
// The selection is drawn over every panel that Plotly is not showing it in (the panel where it
// was made shows its own): a 2-D canvas over the plot area veils the other points and draws the
// selected ones again. Restyling `selectedpoints` instead would make Plotly redraw all of that
// panel's WebGL points, seconds for 100k points in software WebGL; this takes a few ms.
(function () {
  "use strict";
  const core = window.exploreDash;
  const look = core.settings;
  const traces = look.traces;
  // The plot's background veils the unselected points down to about their unselected opacity.
  const VEIL = core.rgba(look.colours.background, 1 - look.opacity.unselected);
  const HIGHLIGHT_FILL = core.rgba(look.colours.highlight, look.opacity.selected);
  let selection = { ids: [], source: null };
  const drawnIds = {}; // panel -> ids drawn on its selection layer (read by tests)

  function selectionLayer(gd, panel) {
    return core.overlay(gd, "selection-layer", "canvas", () => drawSelection(panel));
  }

  // The colour Plotly gives point i of `trace`: one colour, or its value on the colour scale
  // (coloured maps: explore_dash/data/colouring.py sends stepped category scales and a position
  // scale). The step below the value is close enough for points drawn over a veil.
  function colourOf(trace) {
    const marker = trace.marker || {};
    const values = marker.color;
    if (!values || typeof values === "string" || !marker.colorscale) {
      return () => look.colours.base;
    }
    const scale = marker.colorscale;
    const low = marker.cmin;
    const span = (marker.cmax - low) || 1;
    return (i) => {
      const where = (values[i] - low) / span;
      let colour = scale[0][1];
      for (const [stop, stopColour] of scale) {
        if (stop <= where + 1e-9) {
          colour = stopColour;
        }
      }
      return colour;
    };
  }

  function nativeSelection(gd) {
    const trace = gd._fullData && gd._fullData[traces.segments];
    return Boolean(trace && trace.selectedpoints && trace.selectedpoints.length);
  }

  function drawSelection(panel) {
    const gd = core.graphDiv(panel);
    if (!gd || !gd._fullData || !gd._fullLayout) {
      return;
    }
    const canvas = selectionLayer(gd, panel);
    const base = gd._fullData[traces.segments];
    const show = selection.ids.length > 0 && base &&
      (panel !== selection.source || !nativeSelection(gd));
    drawnIds[panel] = [];
    if (!show) {
      canvas.hidden = true;
      return;
    }
    const xa = gd._fullLayout.xaxis;
    const ya = gd._fullLayout.yaxis;
    const ratio = window.devicePixelRatio || 1;
    canvas.style.left = gd.offsetLeft + xa._offset + "px";
    canvas.style.top = gd.offsetTop + ya._offset + "px";
    canvas.style.width = xa._length + "px";
    canvas.style.height = ya._length + "px";
    canvas.width = Math.round(xa._length * ratio);
    canvas.height = Math.round(ya._length * ratio);
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = VEIL;
    context.fillRect(0, 0, xa._length, ya._length);
    const red = gd._fullData[traces.highlight];
    const colour = colourOf(base);
    const byColour = new Map(); // colour -> Path2D of the selected points drawn in it
    const highlighted = new Path2D();
    const drawn = [];
    for (const id of selection.ids) {
      const i = core.indexOf(base, id);
      if (i < 0) {
        continue;
      }
      const px = xa.l2p(base.x[i]);
      const py = ya.l2p(base.y[i]);
      if (!(px >= 0 && px <= xa._length && py >= 0 && py <= ya._length)) {
        continue;
      }
      let path = highlighted;
      if (core.indexOf(red, id) < 0) {
        const fill = colour(i);
        path = byColour.get(fill) || new Path2D();
        byColour.set(fill, path);
      }
      const size = path === highlighted ? look.markerSize.highlight : look.markerSize.base;
      path.moveTo(px + size / 2, py);
      path.arc(px, py, size / 2, 0, 2 * Math.PI);
      drawn.push(id);
    }
    context.globalAlpha = look.opacity.selected;
    for (const [fill, path] of byColour) {
      context.fillStyle = fill;
      context.fill(path);
    }
    context.globalAlpha = 1;
    context.fillStyle = HIGHLIGHT_FILL;
    context.fill(highlighted);
    context.strokeStyle = look.colours.highlightRim;
    context.lineWidth = 1;
    context.stroke(highlighted);
    canvas.hidden = false;
    drawnIds[panel] = drawn;
  }

  // Show `next` in every panel; a panel still showing an earlier selection of its own loses it
  // (after the layer is drawn, as that costs Plotly a full redraw).
  function mirrorSelection(next) {
    selection = { ids: next.ids || [], source: next.source };
    const stale = [];
    for (let panel = 0; ; panel++) {
      const gd = core.graphDiv(panel);
      if (!gd) {
        break;
      }
      drawSelection(panel);
      if (panel !== selection.source && gd._fullData && nativeSelection(gd)) {
        stale.push(gd);
      }
    }
    if (stale.length) {
      setTimeout(() => {
        for (const gd of stale) {
          const none = gd._fullData.map(() => null);
          window.Plotly.update(gd, { selectedpoints: none }, { selections: [] });
        }
      }, 0);
    }
  }

  function selectedIds(gd, points) {
    const ids = [];
    const seen = new Set();
    for (const point of points) {
      const id = core.pointId(gd, point);
      if (id !== null && !seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    }
    return ids;
  }

  function sameSelection(a, b) {
    if (a.source !== b.source || a.ids.length !== b.ids.length) {
      return false;
    }
    return a.ids.every((id, i) => id === b.ids[i]);
  }

  // Clientside callback: selectedData of the panels -> the selection store (for the playlist).
  function collectSelection(selections, current) {
    const event = core.triggered();
    if (!event || typeof event.id !== "object") {
      return core.noUpdate();
    }
    const data = event.value;
    const empty = !data || !data.points || !data.points.length;
    if (empty && current && current.source !== undefined && current.source !== event.id.panel) {
      // Clearing an earlier selection of the other panel fires a deselect there: not the
      // user's doing.
      return core.noUpdate();
    }
    const ids = data && data.points ? selectedIds(core.graphDiv(event.id.panel), data.points) : [];
    const next = { ids: ids, source: event.id.panel };
    if (!sameSelection(next, selection)) {
      mirrorSelection(next); // not drawn yet by the plotly_selected listener
    }
    return next;
  }

  // Once a panel's graph exists. A new box or lasso selection is mirrored straight from Plotly's
  // event: waiting for Dash to pass the selectedData prop to collectSelection took 1-3 s more
  // at 100k points in headless Chromium (busy in Dash's renderer). The store still gets it
  // there, for the playlist.
  function watch(gd, panel) {
    gd.on("plotly_selected", (data) => {
      if (data && data.points && data.points.length) {
        mirrorSelection({ ids: selectedIds(gd, data.points), source: panel });
      }
    });
  }

  core.selection = { watch: watch, shown: (panel) => drawnIds[panel] || [] };
  window.dash_clientside.explore.collectSelection = collectSelection;
})();
