// Per-event work of the explorer, run in the browser: playing the hovered segment, labelling it
// in the other panel, collecting selected ids and showing them in the other panel, resetting
// zoom. No server round trip on hover or selection.
(function () {
  "use strict";

  // Plotly asks for a multisampled WebGL context. Its markers are already smoothed by their own
  // shader, and software WebGL (SwiftShader: headless Chromium, machines without a GPU) pays
  // for every sample: without it the first draw of two 100k-point panels is about 2x faster.
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (type, attributes) {
    if (String(type).startsWith("webgl") && this.classList.contains("gl-canvas")) {
      attributes = Object.assign({}, attributes, { antialias: false });
    }
    return getContext.call(this, type, attributes);
  };

  const SEGMENT_ID_STRIDE = 65536; // must match explore_dash.data.SEGMENT_ID_STRIDE
  const SEGMENT_SECONDS = 2.992; // must match explore_dash.data.SEGMENT_SECONDS
  const GRAPH_TYPE = "panel-graph";
  const indexCache = new WeakMap();

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  function triggered() {
    const context = window.dash_clientside.callback_context;
    if (!context.triggered || !context.triggered.length) {
      return null;
    }
    const propId = context.triggered[0].prop_id;
    const dot = propId.lastIndexOf(".");
    let id = propId.slice(0, dot);
    try {
      id = JSON.parse(id);
    } catch (error) {
      // a plain string id
    }
    return { id: id, property: propId.slice(dot + 1), value: context.triggered[0].value };
  }

  function graphDiv(panel) {
    const holder = document.getElementById(JSON.stringify({ panel: panel, type: GRAPH_TYPE }));
    return holder ? holder.querySelector(".js-plotly-plot") : null;
  }

  function segmentOf(id) {
    const track = Math.floor(id / SEGMENT_ID_STRIDE);
    const index = id - track * SEGMENT_ID_STRIDE;
    return { track: track, offset: index * SEGMENT_SECONDS };
  }

  function formatTime(seconds) {
    const total = Math.max(0, Math.floor(seconds));
    const minutes = Math.floor(total / 60);
    const secs = String(total % 60).padStart(2, "0");
    return minutes + ":" + secs;
  }

  function trackName(names, track) {
    return (names && names[String(track)]) || "track " + track;
  }

  // Segment id of an event point. Dash's event data carries no customdata when the figure sends
  // it as a typed array, so it is read from the trace Plotly decoded.
  function pointId(gd, point) {
    const trace = gd && gd._fullData && gd._fullData[point.curveNumber];
    const ids = trace && trace.customdata;
    const id = ids ? ids[point.pointNumber] : undefined;
    return typeof id === "number" ? id : null;
  }

  function firstPointId(data, panel) {
    if (!data || !data.points || !data.points.length) {
      return null;
    }
    return pointId(graphDiv(panel), data.points[0]);
  }

  // Point index of segment `id` in a trace. The server sends ids in ascending order (rows sorted
  // by track and offset), so a binary search finds it without building a 100k-entry map on the
  // first hover (that took ~250 ms and held up playback); any other order falls back to a map.
  function indexOf(trace, id) {
    const ids = trace && trace.customdata;
    if (!ids || !ids.length) {
      return -1;
    }
    let lookup = indexCache.get(ids);
    if (!lookup) {
      let ascending = true;
      for (let i = 1; i < ids.length && ascending; i++) {
        ascending = ids[i - 1] < ids[i];
      }
      if (ascending) {
        lookup = { sorted: true };
      } else {
        lookup = { sorted: false, map: new Map() };
        for (let i = 0; i < ids.length; i++) {
          lookup.map.set(ids[i], i);
        }
      }
      indexCache.set(ids, lookup);
    }
    if (!lookup.sorted) {
      const found = lookup.map.get(id);
      return found === undefined ? -1 : found;
    }
    let low = 0;
    let high = ids.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (ids[middle] < id) {
        low = middle + 1;
      } else if (ids[middle] > id) {
        high = middle - 1;
      } else {
        return middle;
      }
    }
    return -1;
  }

  function play(id, names) {
    const audio = document.getElementById("player");
    if (!audio) {
      return noUpdate();
    }
    const segment = segmentOf(id);
    const source = "audio/" + segment.track;
    const seek = function () {
      audio.currentTime = segment.offset;
      const playing = audio.play();
      if (playing && playing.catch) {
        playing.catch(function () {}); // autoplay blocked until the user clicks once
      }
    };
    audio.dataset.track = String(segment.track);
    audio.dataset.offset = segment.offset.toFixed(3);
    if (audio.getAttribute("src") !== source) {
      audio.setAttribute("src", source);
      audio.addEventListener("loadedmetadata", seek, { once: true });
      audio.load();
    } else {
      seek();
    }
    return trackName(names, segment.track) + " @ " + formatTime(segment.offset);
  }

  function listen(hovers, clicks, mode, names) {
    const event = triggered();
    if (!event || mode === "off") {
      return noUpdate();
    }
    const wanted = mode === "click" ? "clickData" : "hoverData";
    if (event.property !== wanted) {
      return noUpdate();
    }
    const id = firstPointId(event.value, event.id.panel);
    return id === null ? noUpdate() : play(id, names);
  }

  // Top tags of point i of a trace, from the uint8 indices (3 per point) in its meta.
  const tagCache = new WeakMap();
  function tagsOf(trace, i) {
    const meta = trace && trace.meta;
    if (!meta || !meta.tags || !meta.labels) {
      return "";
    }
    let codes = tagCache.get(meta.tags);
    if (!codes) {
      const text = atob(meta.tags.bdata);
      codes = new Uint8Array(text.length);
      for (let k = 0; k < text.length; k++) {
        codes[k] = text.charCodeAt(k);
      }
      tagCache.set(meta.tags, codes);
    }
    const names = [];
    for (let k = i * 3; k < i * 3 + 3; k++) {
      if (codes[k] !== undefined && codes[k] !== 255 && meta.labels[codes[k]]) {
        names.push(meta.labels[codes[k]]);
      }
    }
    return names.join(", ");
  }

  function labelElement(gd) {
    const holder = gd.parentElement;
    let label = holder.querySelector(".segment-label");
    if (!label) {
      holder.style.position = "relative";
      label = document.createElement("div");
      label.className = "segment-label";
      label.hidden = true;
      holder.appendChild(label);
      // A zoom, resize or new map moves points: put the label back on its segment (or hide it).
      gd.on("plotly_afterplot", () => {
        if (!label.hidden && label.dataset.segment) {
          labelSegment(gd, Number(label.dataset.segment), label.dataset.title);
        }
      });
    }
    return label;
  }

  // Label the segment `id` in panel `gd` (HTML over the plot: no Plotly redraw). Returns
  // whether the segment is shown there.
  function labelSegment(gd, id, title) {
    const label = labelElement(gd);
    for (let t = 0; t < 2; t++) {
      const trace = gd._fullData[t];
      const i = indexOf(trace, id);
      if (i < 0) {
        continue;
      }
      const xa = gd._fullLayout.xaxis;
      const ya = gd._fullLayout.yaxis;
      const px = xa._offset + xa.l2p(trace.x[i]);
      const py = ya._offset + ya.l2p(trace.y[i]);
      const inside = px >= xa._offset && px <= xa._offset + xa._length &&
        py >= ya._offset && py <= ya._offset + ya._length;
      if (!inside) {
        break;
      }
      const tags = tagsOf(trace, i);
      label.textContent = "";
      label.appendChild(document.createTextNode(title));
      if (tags) {
        const small = document.createElement("div");
        small.className = "segment-label-tags";
        small.textContent = tags;
        label.appendChild(small);
      }
      label.style.left = gd.offsetLeft + px + "px";
      label.style.top = gd.offsetTop + py + "px";
      label.classList.toggle("flip", px > xa._offset + xa._length * 0.6);
      label.hidden = false;
      label.dataset.segment = String(id);
      label.dataset.title = title;
      gd.dataset.labelledSegment = String(id);
      return true;
    }
    label.hidden = true;
    gd.dataset.labelledSegment = "";
    return false;
  }

  // The hovered segment gets the same label in every panel that shows it.
  function labelHover(hovers, names) {
    const event = triggered();
    const id = event ? firstPointId(event.value, event.id.panel) : null;
    if (id === null) {
      return noUpdate();
    }
    const segment = segmentOf(id);
    const title = trackName(names, segment.track) + " @ " + formatTime(segment.offset);
    for (let panel = 0; panel < hovers.length; panel++) {
      const gd = graphDiv(panel);
      if (gd && gd._fullData) {
        labelSegment(gd, id, title);
      }
    }
    return title;
  }

  // The linked selection is drawn over every panel that Plotly is not showing it in (the panel
  // where it was made shows its own): a 2-D canvas over the plot area veils the other points and
  // draws the selected ones again. Restyling `selectedpoints` instead would make Plotly redraw all
  // of that panel's WebGL points, seconds for 100k points in software WebGL; this takes a few ms.
  const VEIL = "rgba(251, 251, 253, 0.8)"; // plot background: unselected points fade to ~0.15
  const SELECTED_FILL = "rgba(138, 151, 168, 0.95)"; // figures.BASE_COLOR, SELECTED_OPACITY
  const HIGHLIGHT_FILL = "rgba(224, 36, 43, 0.95)"; // figures.HIGHLIGHT_COLOR
  let selection = { ids: [], source: null };
  const drawnIds = {}; // panel -> ids drawn on its selection layer (read by tests)

  function selectionLayer(gd, panel) {
    const holder = gd.parentElement;
    let canvas = holder.querySelector(".selection-layer");
    if (!canvas) {
      holder.style.position = "relative";
      canvas = document.createElement("canvas");
      canvas.className = "selection-layer";
      canvas.hidden = true;
      holder.appendChild(canvas);
      // A zoom, resize, new map or new highlight moves or recolours points: draw again.
      gd.on("plotly_afterplot", () => drawSelection(panel));
    }
    return canvas;
  }

  function nativeSelection(gd) {
    const trace = gd._fullData && gd._fullData[0];
    return Boolean(trace && trace.selectedpoints && trace.selectedpoints.length);
  }

  function drawSelection(panel) {
    const gd = graphDiv(panel);
    if (!gd || !gd._fullData || !gd._fullLayout) {
      return;
    }
    const canvas = selectionLayer(gd, panel);
    const base = gd._fullData[0];
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
    const red = gd._fullData[1];
    const grey = new Path2D();
    const highlighted = new Path2D();
    const drawn = [];
    for (const id of selection.ids) {
      const i = indexOf(base, id);
      if (i < 0) {
        continue;
      }
      const px = xa.l2p(base.x[i]);
      const py = ya.l2p(base.y[i]);
      if (!(px >= 0 && px <= xa._length && py >= 0 && py <= ya._length)) {
        continue;
      }
      const path = indexOf(red, id) >= 0 ? highlighted : grey;
      const radius = path === highlighted ? 3 : 2.5; // figures: marker sizes 6 and 5
      path.moveTo(px + radius, py);
      path.arc(px, py, radius, 0, 2 * Math.PI);
      drawn.push(id);
    }
    context.fillStyle = SELECTED_FILL;
    context.fill(grey);
    context.fillStyle = HIGHLIGHT_FILL;
    context.fill(highlighted);
    canvas.hidden = false;
    drawnIds[panel] = drawn;
  }

  // Show `next` in every panel; a panel still showing an earlier selection of its own loses it
  // (after the layer is drawn, as that costs Plotly a full redraw).
  function mirrorSelection(next) {
    selection = { ids: next.ids || [], source: next.source };
    const stale = [];
    for (let panel = 0; ; panel++) {
      const gd = graphDiv(panel);
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

  function collectSelection(selections, current) {
    const event = triggered();
    if (!event || typeof event.id !== "object") {
      return noUpdate();
    }
    const data = event.value;
    const empty = !data || !data.points || !data.points.length;
    if (empty && current && current.source !== undefined && current.source !== event.id.panel) {
      // Clearing an earlier selection of the other panel fires a deselect there: not the
      // user's doing.
      return noUpdate();
    }
    const ids = data && data.points ? selectedIds(graphDiv(event.id.panel), data.points) : [];
    const next = { ids: ids, source: event.id.panel };
    if (!sameSelection(next, selection)) {
      mirrorSelection(next); // not drawn yet by watchPanel
    }
    return next;
  }

  function selectedIds(gd, points) {
    const ids = [];
    const seen = new Set();
    for (const point of points) {
      const id = pointId(gd, point);
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

  // Per panel, once its graph exists. A new box or lasso selection is mirrored straight from
  // Plotly's event: waiting for Dash to pass the selectedData prop to collectSelection took
  // 1-3 s more at 100k points in headless Chromium (busy in Dash's renderer). The store still
  // gets it there, for the playlist.
  function watchPanel(panel) {
    const gd = graphDiv(panel);
    if (!gd || !gd.on) {
      setTimeout(() => watchPanel(panel), 100);
      return;
    }
    gd.on("plotly_selected", (data) => {
      if (data && data.points && data.points.length) {
        mirrorSelection({ ids: selectedIds(gd, data.points), source: panel });
      }
    });
    // Decode what a hover label needs while the page is idle, not on the first hover.
    gd.on("plotly_afterplot", () => {
      const warm = () => {
        for (const trace of gd._fullData || []) {
          indexOf(trace, -1);
          tagsOf(trace, 0);
        }
      };
      (window.requestIdleCallback || setTimeout)(warm);
    });
  }

  // Once per panel at start: its WebGL settings, and mirroring its selections.
  function setUpPanel(id, config) {
    watchPanel(id.panel);
    const ratio = Math.min(4, Math.max(1, Math.round(window.devicePixelRatio || 1)));
    return Object.assign({}, config, { plotGlPixelRatio: ratio });
  }

  function resetZoom() {
    const event = triggered();
    const gd = event && graphDiv(event.id.panel);
    if (gd) {
      window.Plotly.relayout(gd, { "xaxis.autorange": true, "yaxis.autorange": true });
    }
    return noUpdate();
  }

  window.exploreDash = {
    listen: listen,
    labelHover: labelHover,
    collectSelection: collectSelection,
    shownSelection: (panel) => drawnIds[panel] || [],
    resetZoom: resetZoom,
    setUpPanel: setUpPanel,
  };
})();
