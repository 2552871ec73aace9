// Hover-to-play (or click-to-play): the hovered segment plays from its start, no server round trip.
// While a radio, a path or a whole track plays (assets/explore-flow.js), hovering only
// remembers the segment (the radio's next seed) and leaves the player alone.
(function () {
  "use strict";
  const core = window.exploreDash;

  // Clientside callback: hoverData/clickData of the panels -> what plays now, and the last
  // hovered or clicked segment ({segment, panel}).
  function listen(hovers, clicks, mode, names, segmentsPerPoint) {
    const none = [core.noUpdate(), core.noUpdate()];
    const event = core.triggered();
    if (!event || mode === "off") {
      return none;
    }
    const wanted = mode === "click" ? "clickData" : "hoverData";
    if (event.property !== wanted) {
      return none;
    }
    const id = core.firstPointId(event.value, event.id.panel);
    if (id === null) {
      return none;
    }
    const last = { segment: id, panel: event.id.panel };
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
