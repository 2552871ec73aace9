// Shared by the explorer's browser code (explore-labels, -listening, -selection, -view): the
// settings the page carries from Python, and helpers for panels, segment ids and times. Dash
// loads assets in alphabetical order, so this file comes first. Clientside callbacks live in
// window.dash_clientside.explore (explore_dash/layouts/client.py: NAMESPACE).
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

  // From explore_dash/layouts/client.py (client_settings), set in the page before the assets run.
  const settings = window.exploreDashSettings;
  if (!settings) {
    throw new Error("explore-dash: window.exploreDashSettings is missing from the page");
  }

  function noUpdate() {
    return window.dash_clientside.no_update;
  }

  // The component and property that fired the running clientside callback.
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
    const key = JSON.stringify({ panel: panel, type: settings.ids.graphType });
    const holder = document.getElementById(key);
    return holder ? holder.querySelector(".js-plotly-plot") : null;
  }

  function segmentOf(id) {
    const track = Math.floor(id / settings.segmentIdStride);
    const index = id - track * settings.segmentIdStride;
    return { track: track, offset: index * settings.segmentSeconds };
  }

  // "m:ss", "h:mm:ss" from an hour on, rounded half up to the second: as
  // explore_dash.formatting.format_time (and whole_seconds), so the player, the playlist and the
  // M3U8 give one track the same length.
  function formatTime(seconds) {
    const total = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds + 0.5)) : 0;
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const secs = String(total % 60).padStart(2, "0");
    return hours ? hours + ":" + String(minutes).padStart(2, "0") + ":" + secs
      : minutes + ":" + secs;
  }

  function trackName(names, track) {
    return (names && names[String(track)]) || "track " + track;
  }

  // The id of the point that shows segment `id` now: itself, or the window (Each point is …)
  // or whole track holding it, named by its first segment (explore_dash/data/windows.py).
  function pointOfSegment(id) {
    const menu = document.getElementById(settings.ids.segmentLength);
    const size = menu ? Number(menu.value) : 1;
    if (size === 1 || !Number.isFinite(size)) {
      return id;
    }
    const track = Math.floor(id / settings.segmentIdStride);
    const index = id - track * settings.segmentIdStride;
    return track * settings.segmentIdStride + (size > 1 ? index - (index % size) : 0);
  }

  function segmentTitle(names, id) {
    const segment = segmentOf(id);
    return trackName(names, segment.track) + " @ " + formatTime(segment.offset);
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
  const indexCache = new WeakMap();
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

  // Where segment `id` is drawn in panel `gd`: {trace, i, px, py} (pixels in the graph), from
  // the segments' trace or the highlighted one; null when not shown or zoomed out of view.
  function pointPlace(gd, id) {
    for (const where of [settings.traces.segments, settings.traces.highlight]) {
      const trace = gd._fullData && gd._fullData[where];
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
      return inside ? { trace: trace, i: i, px: px, py: py } : null;
    }
    return null;
  }

  // An element laid over a panel's plot (made once, hidden at first); `redraw(element)` runs
  // after every Plotly draw (a zoom, resize, new map or new highlight moves points).
  function overlay(gd, className, tagName, redraw) {
    const holder = gd.parentElement;
    let element = holder.querySelector("." + className);
    if (!element) {
      holder.style.position = "relative";
      element = document.createElement(tagName);
      element.className = className;
      element.hidden = true;
      holder.appendChild(element);
      gd.on("plotly_afterplot", () => redraw(element));
    }
    return element;
  }

  // Play `track` from `offset` seconds in the page's player (no server round trip but the audio
  // request). Returns the player, or null before the page has one.
  // Pauses the player at the end of a window that hover started (see playAt's `seconds`).
  function stopAtWindowEnd(event) {
    const audio = event.target;
    const stop = Number(audio.dataset.stopAt);
    if (audio.dataset.stopAt && audio.currentTime >= stop) {
      delete audio.dataset.stopAt;
      audio.pause();
    }
  }

  // Seek to the moment the player was last asked for and play. Always the latest: a seek
  // waiting for a file's metadata must not land after a later hover of the same track.
  function seekToLatest(event) {
    const audio = event.target;
    audio.currentTime = Number(audio.dataset.offset);
    const playing = audio.play();
    if (playing && playing.catch) {
      playing.catch(function () {}); // autoplay blocked until the user clicks once
    }
  }

  // Play `track` from `offset` seconds; with `seconds`, pause that long after (a window of
  // several segments plays once, whole); without, play on.
  function playAt(track, offset, seconds) {
    const audio = document.getElementById(settings.ids.player);
    if (!audio) {
      return null;
    }
    if (!audio.dataset.watchesWindows) {
      audio.dataset.watchesWindows = "1";
      audio.addEventListener("timeupdate", stopAtWindowEnd);
    }
    if (seconds > 0) {
      audio.dataset.stopAt = (offset + seconds).toFixed(3);
    } else {
      delete audio.dataset.stopAt;
    }
    const source = settings.audioPath + track;
    audio.dataset.track = String(track);
    audio.dataset.offset = offset.toFixed(3);
    if (audio.getAttribute("src") !== source) {
      audio.setAttribute("src", source);
      audio.addEventListener("loadedmetadata", seekToLatest, { once: true });
      audio.load();
    } else if (audio.readyState >= HTMLMediaElement.HAVE_METADATA) {
      seekToLatest({ target: audio });
    }
    // Else the file is still loading: its loadedmetadata seeks to this moment, the latest asked.
    return audio;
  }

  // "#8a97a8" and an opacity -> "rgba(138, 151, 168, 0.95)".
  function rgba(hex, alpha) {
    const value = parseInt(hex.slice(1), 16);
    return "rgba(" + (value >> 16) + ", " + ((value >> 8) & 255) + ", " + (value & 255) +
      ", " + alpha + ")";
  }

  window.exploreDash = {
    settings: settings,
    noUpdate: noUpdate,
    triggered: triggered,
    graphDiv: graphDiv,
    segmentOf: segmentOf,
    formatTime: formatTime,
    segmentTitle: segmentTitle,
    pointId: pointId,
    firstPointId: firstPointId,
    indexOf: indexOf,
    pointPlace: pointPlace,
    overlay: overlay,
    rgba: rgba,
    playAt: playAt,
    pointOfSegment: pointOfSegment,
    trackName: trackName,
  };
  // In place: Dash's renderer keeps its own fields (no_update, callback_context) on this object.
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.explore = window.dash_clientside.explore || {};
})();
