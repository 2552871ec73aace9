// The newcomer's hint over the maps (explore_dash/layouts/page.py: explore_hint): shown until
// the page first plays something (a hover, mostly) or its close button is pressed, and not on
// later visits. Kept as a mark on <html> that the stylesheet hides the hint by, set before Dash
// draws the page, so a returning user never sees it flash.
(function () {
  "use strict";
  const core = window.exploreDash;
  const KEY = "explore-dash.hint-seen";
  const root = document.documentElement;

  function seen() {
    try {
      return window.localStorage.getItem(KEY) === "1";
    } catch (error) {
      return false; // storage refused (a private window's settings): show it this visit
    }
  }

  function dismiss() {
    root.dataset.hintSeen = "1";
    try {
      window.localStorage.setItem(KEY, "1");
    } catch (error) {
      // gone for this visit only
    }
  }

  if (seen()) {
    root.dataset.hintSeen = "1";
    return;
  }
  // Media events do not bubble: caught on their way down. The player is drawn by Dash later.
  document.addEventListener("play", function (event) {
    if (event.target.id === core.settings.ids.player) {
      dismiss();
    }
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".explore-hint .btn-close")) {
      dismiss();
    }
  });
})();
