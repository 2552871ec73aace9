// The user's player (MPD, with --mpd) on the maps: a ring on the moment it plays, in every
// panel that shows it, moved as the page learns where MPD is (explore_dash/callbacks/player.py,
// every couple of seconds); and a click on a map asks MPD to play from that point when it is of
// the track MPD plays.
(function () {
  "use strict";
  const core = window.exploreDash;
  let playingSegment = null; // the segment MPD plays, as the server last said

  function markElement(gd) {
    return core.overlay(gd, "player-mark", "div", (mark) => place(gd, mark));
  }

  // Put the ring on the point of `playingSegment` (or of its window), or hide it.
  function place(gd, mark) {
    mark.hidden = true;
    if (playingSegment === null || !gd._fullData) {
      return;
    }
    const id = core.pointOfSegment(playingSegment);
    const spot = core.pointPlace(gd, id);
    if (spot) { // else not shown, or zoomed away from it
      mark.style.left = gd.offsetLeft + spot.px + "px";
      mark.style.top = gd.offsetTop + spot.py + "px";
      mark.dataset.segment = String(id);
      mark.hidden = false;
    }
  }

  // Clientside callback without outputs: the player store -> the ring in each panel.
  function markPlayer(now) {
    playingSegment = now && typeof now.segment === "number" ? now.segment : null;
    for (let panel = 0, gd = core.graphDiv(0); gd; panel += 1, gd = core.graphDiv(panel)) {
      if (gd._fullData) {
        place(gd, markElement(gd));
      }
    }
  }

  // Clientside callback: a click on a map -> the segment MPD is asked to play from (the server
  // does it only when MPD plays that segment's track).
  function clickToSeek(clicks) {
    const event = core.triggered();
    if (!event || typeof event.id !== "object") {
      return core.noUpdate;
    }
    const id = core.firstPointId(event.value, event.id.panel);
    return id === null ? core.noUpdate : { segment: id, at: Date.now() };
  }

  window.dash_clientside.explore.markPlayer = markPlayer;
  window.dash_clientside.explore.clickToSeek = clickToSeek;
})();
