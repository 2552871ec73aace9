// Per-event work of the explorer, run in the browser: playing the hovered segment, labelling it
// in the other panel, collecting selected ids, resetting zoom. No server round trip on hover.
(function () {
  "use strict";

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

  // Map segment id -> point index of a trace, built once per data array.
  function indexOf(trace, id) {
    const ids = trace && trace.customdata;
    if (!ids || !ids.length) {
      return -1;
    }
    let map = indexCache.get(ids);
    if (!map) {
      map = new Map();
      for (let i = 0; i < ids.length; i++) {
        map.set(ids[i], i);
      }
      indexCache.set(ids, map);
    }
    const found = map.get(id);
    return found === undefined ? -1 : found;
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
      codes = Uint8Array.from(atob(meta.tags.bdata), (c) => c.charCodeAt(0));
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

  function collectSelection(selections, current) {
    const event = triggered();
    if (!event || typeof event.id !== "object") {
      return noUpdate();
    }
    const data = event.value;
    const empty = !data || !data.points || !data.points.length;
    if (empty && current && current.source !== undefined && current.source !== event.id.panel) {
      // Clearing the mirrored panel's outline fires a deselect there: not the user's doing.
      return noUpdate();
    }
    const ids = [];
    if (data && data.points) {
      const gd = graphDiv(event.id.panel);
      const seen = new Set();
      for (const point of data.points) {
        const id = pointId(gd, point);
        if (id !== null && !seen.has(id)) {
          seen.add(id);
          ids.push(id);
        }
      }
    }
    if (current && current.ids && current.source !== event.id.panel && sameIds(ids, current.ids)) {
      // Plotly re-emits the selection we mirrored into this panel: not a new selection.
      return noUpdate();
    }
    return { ids: ids, source: event.id.panel };
  }

  function sameIds(a, b) {
    if (a.length !== b.length) {
      return false;
    }
    const set = new Set(b);
    return a.every((id) => set.has(id));
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
    resetZoom: resetZoom,
  };
})();
