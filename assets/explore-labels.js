// The hovered segment's label ("artist – title @ m:ss" and its top tags), in every panel that
// shows it: HTML over the plot, placed at the point, so no Plotly redraw is needed.
(function () {
  "use strict";
  const core = window.exploreDash;

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

  // Put the label back on its segment after a redraw (or hide it).
  function labelElement(gd) {
    return core.overlay(gd, "segment-label", "div", (label) => {
      if (!label.hidden && label.dataset.segment) {
        labelSegment(gd, Number(label.dataset.segment), label.dataset.title);
      }
    });
  }

  // Label the segment `id` in panel `gd`. Returns whether the segment is shown there.
  function labelSegment(gd, id, title) {
    const label = labelElement(gd);
    for (let t = 0; t < 2; t++) {
      const trace = gd._fullData[t];
      const i = core.indexOf(trace, id);
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

  // Clientside callback without outputs: hoverData of the panels -> the same label in each.
  function labelHover(hovers, names) {
    const event = core.triggered();
    const id = event ? core.firstPointId(event.value, event.id.panel) : null;
    if (id === null) {
      return;
    }
    const title = core.segmentTitle(names, id);
    for (let panel = 0; panel < hovers.length; panel++) {
      const gd = core.graphDiv(panel);
      if (gd && gd._fullData) {
        labelSegment(gd, id, title);
      }
    }
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

  core.labels = { warmUp: warmUp };
  window.dash_clientside.explore.labelHover = labelHover;
})();
