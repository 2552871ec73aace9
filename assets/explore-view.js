// A panel's view: its WebGL settings, the zoom, tool and selection outline kept across redraws,
// and Reset zoom.
(function () {
  "use strict";
  const core = window.exploreDash;

  // Once the panel's graph exists: the listeners of the other files.
  function watchPanel(panel) {
    const gd = core.graphDiv(panel);
    if (!gd || !gd.on) {
      setTimeout(() => watchPanel(panel), 100);
      return;
    }
    core.selection.watch(gd, panel);
    core.presence.watch(gd);
    core.labels.watch(gd);
  }

  // Clientside callback, once per panel at start: Plotly draws WebGL at twice the screen's
  // resolution by default (sharp image export), four times the pixels to shade, which software
  // WebGL pays for at every redraw: match the screen. And start watching the panel.
  function setUpPanel(id, config) {
    watchPanel(id.panel);
    const ratio = Math.min(4, Math.max(1, Math.round(window.devicePixelRatio || 1)));
    return Object.assign({}, config, { plotGlPixelRatio: ratio });
  }

  // Clientside callback: remembers the axis ranges a user zoomed or panned to (and forgets them
  // on a reset), the drag tool and the selection outline, with the map's uirevision so a view
  // is only ever re-applied to the same map (explore_dash/callbacks/panels.py: with_view).
  // Plotly's own uirevision did not keep a zoom across figure replacements here (Dash 4,
  // scattergl): tested in tests/system/test_live_app.py.
  function keepView(relayout, view, figure) {
    if (!relayout || !figure) {
      return core.noUpdate();
    }
    const revision = figure.layout && figure.layout.uirevision;
    const next = Object.assign({}, view && view.revision === revision ? view : {});
    next.revision = revision;
    let changed = false;
    for (const axis of ["xaxis", "yaxis"]) {
      const low = relayout[axis + ".range[0]"];
      const high = relayout[axis + ".range[1]"];
      if (relayout[axis + ".autorange"]) {
        delete next[axis];
        changed = true;
      } else if (low !== undefined && high !== undefined) {
        next[axis] = [low, high];
        changed = true;
      } else if (Array.isArray(relayout[axis + ".range"])) {
        next[axis] = relayout[axis + ".range"];
        changed = true;
      }
    }
    if (relayout.dragmode !== undefined) {
      next.dragmode = relayout.dragmode;
      changed = true;
    }
    if (relayout.selections !== undefined) {
      next.selections = relayout.selections;
      changed = true;
    }
    return changed ? next : core.noUpdate();
  }

  // Clientside callback without outputs: Reset zoom.
  function resetZoom() {
    const event = core.triggered();
    const gd = event && core.graphDiv(event.id.panel);
    if (gd) {
      window.Plotly.relayout(gd, { "xaxis.autorange": true, "yaxis.autorange": true });
    }
  }

  // The x and y range around the points of ``tracks`` in a panel, with a margin; null if none.
  function rangesAround(gd, tracks) {
    const trace = gd && gd._fullData && gd._fullData[core.settings.traces.segments];
    if (!trace || !trace.customdata) {
      return null;
    }
    const wanted = new Set(tracks);
    const box = [Infinity, -Infinity, Infinity, -Infinity];
    const full = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < trace.customdata.length; i += 1) {
      const x = trace.x[i];
      const y = trace.y[i];
      full[0] = Math.min(full[0], x);
      full[1] = Math.max(full[1], x);
      full[2] = Math.min(full[2], y);
      full[3] = Math.max(full[3], y);
      if (wanted.has(core.segmentOf(trace.customdata[i]).track)) {
        box[0] = Math.min(box[0], x);
        box[1] = Math.max(box[1], x);
        box[2] = Math.min(box[2], y);
        box[3] = Math.max(box[3], y);
      }
    }
    if (!Number.isFinite(box[0])) {
      return null;
    }
    // A margin of a fifth of the found points' extent, and at least a twentieth of the map's,
    // so one segment is shown among its neighbours rather than alone.
    const around = (low, high, lowAll, highAll) => {
      const pad = Math.max((high - low) * 0.2, (highAll - lowAll) * 0.05, 1e-6);
      return [low - pad, high + pad];
    };
    return {
      "xaxis.range": around(box[0], box[1], full[0], full[1]),
      "yaxis.range": around(box[2], box[3], full[2], full[3]),
    };
  }

  // Panel -> the view Find flew away from ({revision, ranges}; ranges null: the full view),
  // kept from Find's first zoom until the box is cleared or matches nothing.
  const beforeFind = {};

  function currentRanges(gd) {
    const layout = gd._fullLayout;
    if (layout.xaxis.autorange || layout.yaxis.autorange) {
      return null;
    }
    return { "xaxis.range": layout.xaxis.range.slice(), "yaxis.range": layout.yaxis.range.slice() };
  }

  // Clientside callback without outputs: zoom both maps to what the search box found, and
  // back to where they were once it finds nothing ({tracks: []}).
  function flyTo(found) {
    if (!found || !Array.isArray(found.tracks)) {
      return;
    }
    for (let panel = 0, gd = core.graphDiv(0); gd; panel += 1, gd = core.graphDiv(panel)) {
      if (!gd._fullLayout || !gd._fullLayout.xaxis) {
        continue;
      }
      const revision = gd._fullLayout.uirevision;
      if (!found.tracks.length) {
        const before = beforeFind[panel];
        delete beforeFind[panel];
        if (before) {
          // A map replaced since Find zoomed it starts from its full view.
          const ranges = before.revision === revision && before.ranges;
          window.Plotly.relayout(gd, ranges ||
            { "xaxis.autorange": true, "yaxis.autorange": true });
        }
        continue;
      }
      const ranges = rangesAround(gd, found.tracks);
      if (ranges) {
        if (!beforeFind[panel]) {
          beforeFind[panel] = { revision: revision, ranges: currentRanges(gd) };
        }
        window.Plotly.relayout(gd, ranges);
      }
    }
  }

  // Clientside callback: a panel's figure -> the style of its "Recompute for this selection",
  // shown while the panel places a subset on the whole collection's map.
  function showRecompute(figure) {
    const subset = Boolean(figure && figure.layout && figure.layout.meta &&
      figure.layout.meta.subset);
    return { display: subset ? "inline" : "none" };
  }

  // A panel's "Try again" (shown when its map's job was lost) goes once a new job or map comes.
  function hideRetry() {
    return { display: "none" };
  }

  Object.assign(window.dash_clientside.explore, {
    flyTo: flyTo,
    showRecompute: showRecompute,
    hideRetry: hideRetry,
    setUpPanel: setUpPanel,
    keepView: keepView,
    resetZoom: resetZoom,
  });
})();
