/* Wall behaviour from the URL, for screens nobody touches:
 *   ?kiosk=1                hide navigation and the cursor
 *   ?rotate=30              show the next page of the playlist every 30 s
 *   &pages=/,/risk          the playlist (default: the pages declared to rotate)
 *   &by=district            on the overview, step through the districts instead
 *   ?theme=light            the light theme (printing, meeting rooms)
 * Navigation goes through Dash's own router (no reload), so the wall keeps running. */
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  if (params.get("kiosk") === "1") {
    document.body.classList.add("kiosk");
  }
  if (params.get("theme") === "light") {  // for printing and bright meeting rooms
    document.documentElement.setAttribute("data-bs-theme", "light");
  }
  var seconds = parseInt(params.get("rotate") || "0", 10);
  if (!(seconds >= 5)) {
    return;
  }

  function playlist() {
    if (params.get("pages")) {
      return params.get("pages").split(",");
    }
    var el = document.getElementById("shell-playlist");
    var paths = el && el.getAttribute("data-paths");
    return paths ? paths.split(",") : [];
  }

  function districts() {
    var el = document.getElementById("overview-districts");
    var codes = el && el.getAttribute("data-codes");
    return codes ? codes.split(",") : [];
  }

  function go(path, extra) {
    var next = new URLSearchParams(window.location.search);
    next.delete("district");
    Object.keys(extra || {}).forEach(function (k) { next.set(k, extra[k]); });
    window.history.pushState({}, "", path + "?" + next.toString());
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  }

  function step() {
    var here = new URLSearchParams(window.location.search);
    if (params.get("by") === "district") {
      var codes = districts();
      if (codes.length) {
        var i = codes.indexOf(here.get("district"));
        // After the last district comes the whole city, then the first district again.
        if (i === codes.length - 1) { go("/", {}); } else { go("/", {district: codes[i + 1]}); }
      }
      return;
    }
    var list = playlist();
    if (list.length) {
      var j = list.indexOf(window.location.pathname);
      go(list[(j + 1) % list.length], {});
    }
  }

  window.setInterval(step, seconds * 1000);
})();

/* The connection: the page asks the server every 4 s. When it does not answer, the header says
 * so at once ("连接中断"), whatever the age of the data — the badge the server draws cannot
 * change while the server is away. When it answers again, the page loads again so that it
 * runs against the server as it is now (its callbacks, its assets). */
(function () {
  "use strict";
  var down = false;
  var english = new URLSearchParams(window.location.search).get("lang") === "en";
  function lost(yes) {
    document.body.classList.toggle("cc-offline", yes);
    var badge = document.getElementById("cc-lost");
    var anchor = document.getElementById("shell-freshness");
    if (yes && !badge && anchor) {
      badge = document.createElement("span");
      badge.id = "cc-lost";
      badge.className = "freshness freshness-red";
      badge.setAttribute("role", "status");
      badge.textContent = english ? "Connection lost" : "连接中断";
      anchor.insertAdjacentElement("afterend", badge);
    }
  }
  function check() {
    fetch("/_session", {cache: "no-store", credentials: "same-origin"}).then(function (r) {
      // Signed out (a revoked display token, an ended session): reload to the sign-in page.
      if (r.status === 401 || r.status === 403) { window.location.reload(); return; }
      if (r.ok && down) { window.location.reload(); return; }
      down = !r.ok;
      lost(down);
    }).catch(function () { down = true; lost(true); });
  }
  window.setInterval(check, 4000);
})();

/* Dash keeps every change a component makes itself (each dcc.Interval tick) in its undo
 * history and never drops any: on a wall that runs for weeks that list grows without end, and
 * it is copied whole on every tick. Nobody undoes anything on a wall, so the list is emptied
 * once a minute. */
(function () {
  "use strict";
  function trim() {
    (window.dash_stores || []).forEach(function (store) {
      var history = store.getState().history;
      if (history && history.past && history.past.length) {
        history.past = [];
        history.future = [];
      }
    });
  }
  window.ccTrimHistory = trim;  // for the browser test
  window.setInterval(trim, 60000);
})();
