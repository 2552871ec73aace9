// Tells the server someone is at the page, so the maps computed ahead stay paused while it is
// used (explore_dash/maps/yielding.py). Much of using it sends no request of its own: a box or lasso
// drag, a zoom or a pan, a panel being drawn, reading the map with the pointer on it.
(function () {
  "use strict";
  const core = window.exploreDash;
  const presence = core.settings.presence;
  let last = -Infinity;

  function say() {
    const now = performance.now();
    if (now - last < presence.everyMs || document.hidden) {
      return;
    }
    last = now;
    // Nothing to do when it fails: the maps merely go on.
    fetch(presence.path, { method: "POST", keepalive: true, cache: "no-store" }).catch(() => {});
  }

  for (const type of ["pointermove", "pointerdown", "wheel", "keydown", "touchstart"]) {
    window.addEventListener(type, say, { capture: true, passive: true });
  }

  // A panel drawn: whoever asked for it is looking at it now.
  core.presence = { watch: (gd) => gd.on("plotly_afterplot", say) };
})();
