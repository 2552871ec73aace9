// Radio, paths and whole-track listening in the browser: plays a chain of moments made by the
// server (explore_dash/callbacks/flow.py), each for the chosen time, the next starting by
// itself; draws the chain as a numbered line over every map; skip, pause and stop; and plays any
// track whole, from its start or from a moment. While something plays here, hovering does not
// take over the player (explore-listening.js asks `active()`).
(function () {
  "use strict";
  const core = window.exploreDash;
  const look = core.settings;
  const ids = look.ids;
  const kinds = look.chainKinds;

  // mode: null (hover plays), "chain" (a radio or path plays), "track" (one track plays whole).
  const flow = {
    chain: null, position: -1, length: look.defaultItemLength, mode: null, paused: false,
    itemEnd: null, asked: 0, waiting: false, title: "", note: "", pausedLabel: false,
    itemNotes: [], // each item's note, kept: a later batch sends the earlier items without
  };
  const drawnIds = {}; // panel -> segment ids drawn on its chain layer (read by tests)

  function setStatus(text) {
    window.dash_clientside.set_props(ids.flowStatus, { children: text });
  }

  // Pause reads "Resume" while paused; the button carries both labels (layouts/listening.py).
  function showPaused(paused) {
    const button = document.getElementById(ids.flowPause);
    if (!button || flow.pausedLabel === paused) {
      return;
    }
    flow.pausedLabel = paused;
    const label = paused ? look.texts.resume : look.texts.pause;
    window.dash_clientside.set_props(ids.flowPause, { children: label });
  }

  // The line under the two buttons of the player: what to do when they have no hovered point.
  function showHint(shown) {
    const hint = document.getElementById(ids.pinHint);
    if (hint && (hint.textContent !== "") !== shown) {
      window.dash_clientside.set_props(ids.pinHint, { children: shown ? look.texts.pinHint : "" });
    }
  }

  // The line under the player names what it plays, whoever started it.
  function setNowPlaying(text) {
    window.dash_clientside.set_props(ids.nowPlaying, { children: text });
  }

  function kindName(chain) {
    return chain.kind === kinds.path ? "Path" : "Radio";
  }

  function statusText() {
    if (flow.mode === "chain" && flow.chain) {
      const item = flow.chain.items[flow.position];
      const state = flow.paused ? "paused" : "playing";
      const note = flow.itemNotes[flow.position] || flow.note; // the item's, else the chain's
      return kindName(flow.chain) + " " + (flow.position + 1) + "/" +
        flow.chain.items.length + ", " + state + ": " + (item ? item.title : "") +
        (note ? ". " + note : "");
    }
    if (flow.mode === "track") {
      return (flow.paused ? "Paused: " : "Whole track: ") + flow.title +
        " (Stop to hover-play again)";
    }
    return flow.chain ? kindName(flow.chain) + " stopped" : "";
  }

  function itemSeconds() {
    const seconds = look.itemSeconds[flow.length];
    return seconds === undefined ? look.itemSeconds[look.defaultItemLength] : seconds;
  }

  function playItem(position) {
    const item = flow.chain.items[position];
    flow.position = position;
    flow.paused = false;
    showPaused(false);
    flow.waiting = false;
    const seconds = itemSeconds();
    flow.itemEnd = seconds === null ? null : item.offset + seconds;
    core.playAt(item.track, item.offset);
    setNowPlaying(item.title);
    const items = flow.chain.items;
    if (flow.chain.kind === kinds.radio && !flow.chain.ended && position >= items.length - 2 &&
        flow.asked < items.length) {
      flow.asked = items.length; // ask once per length: the next moments arrive meanwhile
      window.dash_clientside.set_props(ids.chainMore, { data: items.length });
    }
    drawAll();
    return statusText();
  }

  function finish(text) {
    flow.mode = null;
    flow.itemEnd = null;
    flow.waiting = false;
    flow.paused = false;
    showPaused(false);
    const audio = document.getElementById(ids.player);
    if (audio) {
      audio.pause();
    }
    drawAll();
    return text;
  }

  function advance() {
    if (flow.mode !== "chain" || !flow.chain) {
      return statusText();
    }
    if (flow.position + 1 < flow.chain.items.length) {
      return playItem(flow.position + 1);
    }
    if (flow.chain.kind === kinds.radio && !flow.chain.ended) {
      flow.waiting = true; // the next moments are on their way (playChain continues)
      flow.itemEnd = null;
      return "Radio: finding the next moment…";
    }
    if (flow.chain.kind === kinds.radio) { // a normal end, said as calmly as the rest
      return finish("Radio finished: it has played every track it may (all but those left " +
        "out under Variety).");
    }
    return finish(kindName(flow.chain) + " finished");
  }

  // The player's clock: moves the chain on, and shows what plays and where in the track.
  function watchPlayer() {
    const audio = document.getElementById(ids.player);
    if (!audio || audio.dataset.flowWatched) {
      return;
    }
    audio.dataset.flowWatched = "1";
    audio.addEventListener("timeupdate", () => {
      const position = document.getElementById(ids.playPosition);
      if (position) {
        const total = Number.isFinite(audio.duration) ? " / " + core.formatTime(audio.duration)
          : "";
        position.textContent = core.formatTime(audio.currentTime) + total;
      }
      if (flow.mode === "chain" && !flow.paused && flow.itemEnd !== null &&
          audio.currentTime >= flow.itemEnd) {
        flow.itemEnd = null; // once
        setStatus(advance());
      }
    });
    audio.addEventListener("ended", () => {
      if (flow.mode === "chain") {
        setStatus(advance());
      } else if (flow.mode === "track") {
        setStatus(finish("Finished: " + flow.title));
      }
    });
  }

  // Clientside callback: a new chain (Radio, Path) starts; a longer one (the radio's next
  // moments) plays on.
  function playChain(chain, length) {
    watchPlayer();
    if (length) {
      flow.length = length;
    }
    if (!chain || !chain.items || !chain.items.length) {
      return core.noUpdate();
    }
    const same = flow.chain && flow.chain.id === chain.id;
    flow.chain = chain;
    flow.note = chain.note || "";
    if (!same) {
      flow.itemNotes = [];
    }
    for (let i = flow.itemNotes.length; i < chain.items.length; i++) {
      flow.itemNotes.push(chain.items[i].note || "");
    }
    if (same) {
      if (flow.waiting && flow.mode === "chain") {
        return advance();
      }
      drawAll();
      return statusText();
    }
    flow.mode = "chain";
    flow.asked = 0;
    return playItem(0);
  }

  // Clientside callback (no output): the item length changes for the playing item too.
  function itemLength(value) {
    flow.length = value;
    if (flow.mode === "chain" && flow.chain) {
      const seconds = itemSeconds();
      const item = flow.chain.items[flow.position];
      flow.itemEnd = seconds === null || !item ? null : item.offset + seconds;
    }
  }

  // Clientside callback: Skip, Pause (toggles) and Stop.
  function controlFlow() {
    const event = core.triggered();
    const audio = document.getElementById(ids.player);
    if (!event || !event.value || !audio) {
      return core.noUpdate();
    }
    if (event.id === ids.flowSkip) {
      return flow.mode === "chain" ? advance() : core.noUpdate();
    }
    if (event.id === ids.flowPause) {
      if (!flow.mode) {
        return core.noUpdate();
      }
      flow.paused = !flow.paused;
      showPaused(flow.paused);
      if (flow.paused) {
        audio.pause();
      } else {
        audio.play().catch(() => {});
      }
      return statusText();
    }
    if (!flow.mode) {
      return core.noUpdate();
    }
    return finish(flow.mode === "chain" ? kindName(flow.chain) + " stopped" : "Stopped");
  }

  // Clientside callback: ▶ / ⇤ of a chain row or playlist row, and the two buttons under the
  // player (for the last hovered segment): the track plays whole, hover leaves it alone.
  function playWhole(moments, tracks, playlistPlays, pinMoment, pinStart, last, names) {
    const event = core.triggered();
    if (!event || !event.value) {
      return core.noUpdate(); // a button was created, not clicked
    }
    let track = null;
    let offset = 0;
    const id = event.id;
    if (id && id.type === ids.playMoment) {
      const segment = core.segmentOf(id.segment);
      track = segment.track;
      offset = segment.offset;
    } else if (id && (id.type === ids.playTrack || id.type === ids.playlistPlay)) {
      track = id.track;
    } else if (id === ids.pinMoment || id === ids.pinStart) {
      if (!last) { // nothing hovered or clicked yet: say what to do, right under the buttons
        showHint(true);
        return core.noUpdate();
      }
      const segment = core.segmentOf(last.segment);
      track = segment.track;
      offset = id === ids.pinMoment ? segment.offset : 0;
    }
    if (track === null) {
      return core.noUpdate();
    }
    watchPlayer();
    showHint(false);
    flow.mode = "track";
    flow.paused = false;
    showPaused(false);
    flow.itemEnd = null;
    flow.title = core.trackName(names, track) + " from " + core.formatTime(offset);
    core.playAt(track, offset);
    setNowPlaying(flow.title);
    drawAll();
    return statusText();
  }

  // -- the chain over the maps ----------------------------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";

  function chainLayer(gd, panel) {
    return core.overlay(gd, "chain-layer", "div", () => drawChain(panel));
  }

  function svgElement(name, attributes) {
    const element = document.createElementNS(SVG, name);
    for (const key in attributes) {
      element.setAttribute(key, attributes[key]);
    }
    return element;
  }

  // Pixel of segment `id` in the plot area of `gd`, or null when the panel does not show it.
  function pixelOf(gd, id) {
    const xa = gd._fullLayout.xaxis;
    const ya = gd._fullLayout.yaxis;
    const shown = core.pointOfSegment(id); // in a longer window, where that window is
    for (const trace of gd._fullData) {
      const i = core.indexOf(trace, shown);
      if (i >= 0 && trace.x && trace.y) {
        const px = xa.l2p(trace.x[i]);
        const py = ya.l2p(trace.y[i]);
        if (px >= 0 && px <= xa._length && py >= 0 && py <= ya._length) {
          return [px, py];
        }
        return null;
      }
    }
    return null;
  }

  function drawChain(panel) {
    const gd = core.graphDiv(panel);
    if (!gd || !gd._fullData || !gd._fullLayout) {
      return;
    }
    const layer = chainLayer(gd, panel);
    drawnIds[panel] = [];
    layer.textContent = "";
    if (!flow.chain || !flow.chain.items.length) {
      layer.hidden = true;
      return;
    }
    const xa = gd._fullLayout.xaxis;
    const ya = gd._fullLayout.yaxis;
    layer.style.left = gd.offsetLeft + xa._offset + "px";
    layer.style.top = gd.offsetTop + ya._offset + "px";
    layer.style.width = xa._length + "px";
    layer.style.height = ya._length + "px";
    const svg = svgElement("svg", { width: xa._length, height: ya._length });
    const points = [];
    flow.chain.items.forEach((item, number) => {
      const pixel = pixelOf(gd, item.segment);
      if (pixel) {
        points.push({ pixel: pixel, number: number, segment: item.segment });
      }
    });
    if (points.length > 1) {
      svg.appendChild(svgElement("polyline", {
        points: points.map((p) => p.pixel.join(",")).join(" "),
        fill: "none", stroke: look.colours.chain, "stroke-width": 2, "stroke-opacity": 0.8,
      }));
    }
    for (const point of points) {
      const current = flow.mode === "chain" && point.number === flow.position;
      const group = svgElement("g", { class: current ? "chain-stop current" : "chain-stop" });
      group.appendChild(svgElement("circle", {
        cx: point.pixel[0], cy: point.pixel[1], r: current ? 10 : 8,
        fill: current ? look.colours.chain : "#ffffff", stroke: look.colours.chain,
        "stroke-width": 2,
      }));
      const label = svgElement("text", {
        x: point.pixel[0], y: point.pixel[1] + 4, "text-anchor": "middle", "font-size": 10,
        fill: current ? "#ffffff" : look.colours.chain, "font-weight": 600,
      });
      label.textContent = String(point.number + 1);
      group.appendChild(label);
      svg.appendChild(group);
      drawnIds[panel].push(point.segment);
    }
    layer.appendChild(svg);
    layer.hidden = false;
  }

  function drawAll() {
    for (let panel = 0; ; panel++) {
      if (!core.graphDiv(panel)) {
        break;
      }
      drawChain(panel);
    }
  }

  // Stop whatever this module plays (Listen = Off): its status says so.
  function stop() {
    if (flow.mode) {
      setStatus(finish(flow.mode === "chain" ? kindName(flow.chain) + " stopped" : "Stopped"));
    }
  }

  core.flow = {
    active: () => flow.mode !== null,
    stop: stop,
    hideHint: () => showHint(false),
    shown: (panel) => (drawnIds[panel] || []).slice(),
    state: () => ({ mode: flow.mode, position: flow.position, paused: flow.paused,
                    items: flow.chain ? flow.chain.items.length : 0 }),
  };
  Object.assign(window.dash_clientside.explore, {
    playChain: playChain,
    itemLength: itemLength,
    controlFlow: controlFlow,
    playWhole: playWhole,
  });
})();
