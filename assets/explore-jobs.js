// A panel's lines about its map (explore_dash/layouts/panel.py): the count line is cut to one
// line beside its links and Reset zoom, so its whole text goes in its title.
(function () {
  "use strict";

  // Clientside callback: the count line's text, for its title.
  function wholeText(children) {
    return typeof children === "string" ? children : "";
  }

  Object.assign(window.dash_clientside.explore, { wholeText: wholeText });
})();
