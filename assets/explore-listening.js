// Hover-to-play (or click-to-play): the hovered segment plays from its start, no server round trip.
// While a radio, a path or a whole track plays (assets/explore-flow.js), hovering only
// remembers the segment (the radio's next seed) and leaves the player alone. Listen = Off stops
// whatever plays, and hovering plays nothing until another choice.
(function () {
  "use strict";
  const core = window.exploreDash;
  const modes = core.settings.listenModes;
  let hinted = true; // the hint under the player's buttons may show until a point is hovered

  // Stop the page's player: a radio, a path or a whole track (explore-flow.js), a hovered
  // moment, and a hovered file still loading (whose arrival would start it).
  function stopPlayer() {
    if (core.flow) {
      core.flow.stop();
    }
    const audio = document.getElementById(core.settings.ids.player);
    if (!audio) {
      return;
    }
    delete audio.dataset.stopAt;
    audio.pause();
    if (audio.getAttribute("src") && audio.readyState < HTMLMediaElement.HAVE_METADATA) {
      audio.removeAttribute("src"); // drops the load, and the play its metadata would start
      audio.load();
    }
  }

  // Choosing Listen = Off stops whatever plays. A change event, not a callback: it acts at once.
  document.addEventListener("change", (event) => {
    const target = event.target;
    const mode = core.settings.ids.listenMode;
    const group = target && target.closest ? target.closest("#" + mode) : null;
    if (group && target.checked && target.value === modes.off) {
      stopPlayer();
    }
  });

  // Clientside callback: hoverData/clickData of the panels -> what plays now, and the last
  // hovered or clicked segment ({segment, panel}).
  function listen(hovers, clicks, mode, names, segmentsPerPoint) {
    const none = [core.noUpdate(), core.noUpdate()];
    const event = core.triggered();
    if (!event || mode === modes.off) {
      return none;
    }
    const wanted = mode === modes.click ? "clickData" : "hoverData";
    if (event.property !== wanted) {
      return none;
    }
    const id = core.firstPointId(event.value, event.id.panel);
    if (id === null) {
      return none;
    }
    const last = { segment: id, panel: event.id.panel };
    if (hinted && core.flow) { // a point is hovered now: the buttons' hint no longer applies
      hinted = false;
      core.flow.hideHint();
    }
    if (core.flow && core.flow.active()) {
      return [core.noUpdate(), last];
    }
    const segment = core.segmentOf(id);
    // A window of several segments plays once, whole; a single segment (1) or a whole track
    // (0) plays on, as it always has.
    const size = Number(segmentsPerPoint) || 0;
    const seconds = size > 1 ? size * core.settings.segmentSeconds : 0;
    if (!core.playAt(segment.track, segment.offset, seconds)) {
      return none;
    }
    return [core.segmentTitle(names, id), last];
  }

  window.dash_clientside.explore.listen = listen;
})();
