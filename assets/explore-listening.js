// Hover-to-play (or click-to-play): the hovered segment plays from its start, no server round trip.
(function () {
  "use strict";
  const core = window.exploreDash;

  function play(id, names) {
    const audio = document.getElementById(core.settings.ids.player);
    if (!audio) {
      return core.noUpdate();
    }
    const segment = core.segmentOf(id);
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
    return core.segmentTitle(names, id);
  }

  // Clientside callback: hoverData/clickData of the panels -> what plays now.
  function listen(hovers, clicks, mode, names) {
    const event = core.triggered();
    if (!event || mode === "off") {
      return core.noUpdate();
    }
    const wanted = mode === "click" ? "clickData" : "hoverData";
    if (event.property !== wanted) {
      return core.noUpdate();
    }
    const id = core.firstPointId(event.value, event.id.panel);
    return id === null ? core.noUpdate() : play(id, names);
  }

  window.dash_clientside.explore.listen = listen;
})();
