// The hub's admin page: after a save, each directory's line says when it
// has fetched the new listing, without a reload. While the page was just
// saved (data-saved) or a directory lacks the latest listing
// (data-behind), it asks /admin/fetches every few seconds, for a few
// minutes at most, and rewrites a line only when what it says changes:
// the list is a polite live region, so a screen reader hears each
// directory catch up once, not a clock ticking. Without this file the
// page says the same on reload.
(function () {
  "use strict";

  var EVERY_MS = 3000;
  var FOR_MS = 3 * 60 * 1000;

  var box = document.getElementById("listing-facts");
  if (!box || !window.fetch) { return; }
  var source = box.getAttribute("data-source");
  if (!source || !(box.hasAttribute("data-saved") || box.hasAttribute("data-behind"))) { return; }
  var until = Date.now() + FOR_MS;

  function setText(el, text) {
    if (el && typeof text === "string" && el.textContent !== text) { el.textContent = text; }
  }

  // The directories' lines by address (text, never markup).
  function lines() {
    var found = {};
    var dds = box.querySelectorAll("dd[data-address]");
    for (var i = 0; i < dds.length; i++) { found[dds[i].getAttribute("data-address")] = dds[i]; }
    return found;
  }

  function show(data) {
    var shown = lines();
    var changed = false;
    var dirs = data.directories || [];
    var keep = {};
    for (var i = 0; i < dirs.length; i++) {
      var d = dirs[i];
      var latest = String(d.latest === true);
      var dd = shown[d.address];
      keep[d.address] = true;
      if (!dd) {
        var dt = document.createElement("dt");
        dt.textContent = "Directory at";
        dd = document.createElement("dd");
        dd.setAttribute("data-address", d.address);
        box.appendChild(dt);
        box.appendChild(dd);
      } else if (dd.getAttribute("data-latest") === latest) {
        continue;
      }
      dd.setAttribute("data-latest", latest);
      setText(dd, d.line);
      changed = true;
    }
    for (var address in shown) {
      if (Object.prototype.hasOwnProperty.call(shown, address) && !keep[address]) {
        var gone = shown[address];
        if (gone.previousElementSibling && gone.previousElementSibling.tagName === "DT") {
          box.removeChild(gone.previousElementSibling);
        }
        box.removeChild(gone);
        changed = true;
      }
    }
    setText(document.getElementById("published"), data.listing);
    if (changed) { setText(document.getElementById("last-fetched"), data.fetched); }
    return dirs.length > 0 && !data.behind;
  }

  function later() {
    if (Date.now() < until) { window.setTimeout(ask, EVERY_MS); }
  }

  function ask() {
    if (document.hidden) { later(); return; }
    fetch(source, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        // Signed out (or the hub is gone): stop; a reload says why.
        if (r.status === 403 || r.status === 404) { return null; }
        if (!r.ok) { throw new Error("fetch lines: " + r.status); }
        return r.json();
      })
      .then(function (data) {
        if (data && !show(data)) { later(); }
      })
      .catch(later);
  }

  later();
})();
