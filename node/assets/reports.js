// The coordinator page's map: one category's gaps (grid squares or the
// operator's areas) and the places it is offered, read as GeoJSON from
// the address in the map's data-source. Without this file, or without map
// tiles, the page still works: every figure is in the tables.
(function () {
  "use strict";

  var box = document.getElementById("coverage-map");
  if (!box || typeof L === "undefined" || !window.signpostMap || !window.fetch) { return; }
  var source = box.getAttribute("data-source");
  if (!source) { return; }

  // Text for a popup, never markup: names come from hubs' listings.
  function popup(lines) {
    var div = document.createElement("div");
    for (var i = 0; i < lines.length; i++) {
      if (!lines[i]) { continue; }
      var p = document.createElement("p");
      p.textContent = lines[i];
      div.appendChild(p);
    }
    return div;
  }

  fetch(source, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
    .then(function (r) {
      if (!r.ok) { throw new Error("the map's data: " + r.status); }
      return r.json();
    })
    .then(function (data) {
      var features = (data && data.features) || [];
      var key = document.getElementById("map-key");
      if (key) { key.hidden = false; }
      var map = window.signpostMap(box);
      var layer = L.geoJSON(features, {
        style: function (f) {
          return f.properties.layer === "gap"
            ? { className: "gap", color: "#b00020", weight: 2, fillColor: "#b00020", fillOpacity: 0.25 }
            : {};
        },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {
            className: "offered", radius: 7, color: "#00703c", weight: 3,
            fillColor: "#ffffff", fillOpacity: 0.9
          });
        },
        onEachFeature: function (f, l) {
          var p = f.properties || {};
          if (p.layer === "gap") {
            var far = typeof p.nearest_km === "number"
              ? "Nearest " + p.term + ": " + p.nearest_km + " km away"
              : "No " + p.term + " anywhere in the directory";
            l.bindPopup(popup([p.name ? p.name : "Gap in " + p.term, far]));
          } else {
            l.bindPopup(popup([p.service, p.hub ? "From " + p.hub : ""]));
          }
        }
      }).addTo(map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
      } else {
        map.setView([54.0, -2.5], 8);
      }
      box.setAttribute("data-drawn", String(features.length));
    })
    .catch(function () {
      box.hidden = true;
    });
})();
