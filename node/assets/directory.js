// Progressive enhancement of the directory page: "use my location" and a
// map of the results. Without this file, or without map tiles, the page
// still works: the search form and the list of results are plain HTML.
(function () {
  "use strict";

  var button = document.getElementById("use-location");
  var near = document.getElementById("near");
  var status = document.getElementById("location-status");
  function say(text) { if (status) { status.textContent = text; } }
  if (button && near && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      say("Finding where you are\u2026");
      navigator.geolocation.getCurrentPosition(function (pos) {
        near.value = pos.coords.latitude.toFixed(4) + "," + pos.coords.longitude.toFixed(4);
        button.disabled = false;
        say("Your location is filled in. Press Search.");
      }, function () {
        button.disabled = false;
        say("Your location could not be found. Type a postcode or town instead.");
      }, { timeout: 10000, maximumAge: 600000 });
    });
  }

  var box = document.getElementById("map");
  if (!box || typeof L === "undefined" || !window.signpostMap) { return; }
  var items = document.querySelectorAll(".result[data-lat][data-lon]");
  var points = [];
  var map = null;
  for (var i = 0; i < items.length; i++) {
    var item = items[i];
    var lat = parseFloat(item.getAttribute("data-lat"));
    var lon = parseFloat(item.getAttribute("data-lon"));
    if (!isFinite(lat) || !isFinite(lon)) { continue; }
    if (map === null) { map = window.signpostMap(box); }
    var name = item.getAttribute("data-name") || "";
    var link = document.createElement("a");
    link.href = item.getAttribute("data-href");
    link.textContent = name;
    L.marker([lat, lon], { title: name, alt: name }).bindPopup(link).addTo(map);
    points.push([lat, lon]);
  }
  if (map === null) { return; }
  if (points.length === 1) {
    map.setView(points[0], 14);
  } else {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 15 });
  }
})();
