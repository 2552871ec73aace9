// The hovered segment's label ("artist – title @ m:ss" and its top tags), in every panel that
// shows it: HTML over the plot, placed at the point, so no Plotly redraw is needed. A label
// goes when the pointer leaves the maps, or when its panel gets another map; while a radio, a
// path or a whole track plays (assets/explore-flow.js), the labels name what plays.
(function () {
  "use strict";
  const core = window.exploreDash;
  const traces = core.settings.traces;
  // Each point's top tags: segmentTags.count label indices, segmentTags.none for no tag.
  const segmentTags = core.settings.segmentTags;
  // The pointer may cross from one panel to the other (over the gap between them) without the
  // linked labels blinking out: they go this long after it left a map, unless it came back.
  const LEAVE_GRACE_MS = 400;
  let leaveTimer = null;
  let trackNames = null; // track -> name, as labelHover last got them

  // Top tags of point i of a trace, from the uint8 label indices in its meta.
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
    for (let k = i * segmentTags.count; k < (i + 1) * segmentTags.count; k++) {
      if (codes[k] !== undefined && codes[k] !== segmentTags.none && meta.labels[codes[k]]) {
        names.push(meta.labels[codes[k]]);
      }
    }
    return names.join(", ");
  }

  // What tells one map from another: its points' ids and places, and its revision. A zoom,
  // a highlight, colours or captions keep it; another space, projection, window length or
  // filter changes it.
  function mapOf(gd) {
    const trace = gd._fullData && gd._fullData[traces.segments];
    const ids = trace && trace.customdata;
    if (!ids || !ids.length || !trace.x || !trace.y) {
      return "";
    }
    const last = ids.length - 1;
    return [gd._fullLayout.uirevision, ids.length, ids[0], ids[last], trace.x[0], trace.y[0],
      trace.x[last], trace.y[last]].join(" ");
  }

  function hideLabel(gd) {
    const label = gd.parentElement && gd.parentElement.querySelector(".segment-label");
    if (label) {
      label.hidden = true;
      delete label.dataset.segment;
    }
    gd.dataset.labelledSegment = "";
  }

  function hideAll() {
    for (let panel = 0, gd = core.graphDiv(0); gd; panel += 1, gd = core.graphDiv(panel)) {
      hideLabel(gd);
    }
  }

  // Put the label back on its segment after a redraw; hide it when the panel shows another map.
  function labelElement(gd) {
    return core.overlay(gd, "segment-label", "div", (label) => {
      if (!label.hidden && label.dataset.segment) {
        if (label.dataset.map !== mapOf(gd)) {
          hideLabel(gd);
        } else {
          labelSegment(gd, Number(label.dataset.segment), label.dataset.title);
        }
      }
    });
  }

  // Label the segment `id` in panel `gd`. Returns whether the segment is shown there.
  function labelSegment(gd, id, title) {
    const label = labelElement(gd);
    const place = core.pointPlace(gd, id);
    if (place) {
      const xa = gd._fullLayout.xaxis;
      const tags = tagsOf(place.trace, place.i);
      label.textContent = "";
      label.appendChild(document.createTextNode(title));
      if (tags) {
        const small = document.createElement("div");
        small.className = "segment-label-tags";
        small.textContent = tags;
        label.appendChild(small);
      }
      label.style.left = gd.offsetLeft + place.px + "px";
      label.style.top = gd.offsetTop + place.py + "px";
      label.classList.toggle("flip", place.px > xa._offset + xa._length * 0.6);
      label.hidden = false;
      label.dataset.segment = String(id);
      label.dataset.title = title;
      label.dataset.map = mapOf(gd);
      gd.dataset.labelledSegment = String(id);
      return true;
    }
    hideLabel(gd);
    return false;
  }

  function labelEverywhere(id, title) {
    for (let panel = 0, gd = core.graphDiv(0); gd; panel += 1, gd = core.graphDiv(panel)) {
      if (gd._fullData) {
        labelSegment(gd, id, title);
      }
    }
  }

  function playing() {
    return Boolean(core.flow && core.flow.active());
  }

  // While a radio, path or whole track plays, the labels follow the player: each moment it
  // starts, wherever the pointer is.
  function labelWhatPlays(event) {
    const audio = event.target;
    if (!playing() || !audio.dataset.track || audio.dataset.offset === undefined) {
      return;
    }
    const stride = core.settings.segmentIdStride;
    // Where the player is, not the moment the item started from: after a seek (the player's
    // own scrubber too) it plays on from where it went ("playing" follows "seeked" there).
    // A hair past a segment's start counts as in it.
    const index = Math.floor((audio.currentTime + 0.01) / core.settings.segmentSeconds);
    const segment = Number(audio.dataset.track) * stride + index;
    labelEverywhere(core.pointOfSegment(segment), core.segmentTitle(trackNames, segment));
  }

  function watchPlayer() {
    const audio = document.getElementById(core.settings.ids.player);
    if (audio && !audio.dataset.labelsWatch) {
      audio.dataset.labelsWatch = "1";
      audio.addEventListener("playing", labelWhatPlays);
      audio.addEventListener("seeked", labelWhatPlays);
    }
  }

  // Clientside callback without outputs: hoverData of the panels -> the same label in each.
  function labelHover(hovers, names) {
    trackNames = names;
    watchPlayer();
    const event = core.triggered();
    if (!event || typeof event.id !== "object") {
      return; // the page's first call, or the track names changed: kept for what plays
    }
    const id = core.firstPointId(event.value, event.id.panel);
    if (id === null || playing()) {
      return; // while something plays, the labels name it, not the next seed
    }
    clearTimeout(leaveTimer);
    labelEverywhere(id, core.segmentTitle(names, id));
  }

  // Once per panel: the labels go a moment after the pointer leaves the map (not if it
  // comes back onto a map first), and what a radio plays is labelled.
  function watch(gd) {
    gd.addEventListener("mouseleave", () => {
      clearTimeout(leaveTimer);
      // What a radio plays stays named wherever the pointer goes.
      leaveTimer = setTimeout(() => playing() || hideAll(), LEAVE_GRACE_MS);
    });
    gd.addEventListener("mouseenter", () => clearTimeout(leaveTimer));
    watchPlayer();
    warmUp(gd);
  }

  // Decode what a hover label needs while the page is idle, not on the first hover.
  function warmUp(gd) {
    gd.on("plotly_afterplot", () => {
      const warm = () => {
        for (const trace of gd._fullData || []) {
          core.indexOf(trace, -1);
          tagsOf(trace, 0);
        }
      };
      (window.requestIdleCallback || setTimeout)(warm);
    });
  }

  core.labels = { watch: watch };
  window.dash_clientside.explore.labelHover = labelHover;
})();
