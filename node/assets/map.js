// The map the directory and the coordinator page share: Leaflet on `box`
// with the operator's tiles (data-tiles) and credit (data-attribution,
// shown as text), without scroll-wheel zoom so the page scrolls past it.
(function () {
  "use strict";
  window.signpostMap = function (box) {
    box.hidden = false;
    var map = L.map(box, { scrollWheelZoom: false });
    map.attributionControl.setPrefix(false);
    var credit = document.createElement("span");
    credit.textContent = box.getAttribute("data-attribution") || "";
    L.tileLayer(box.getAttribute("data-tiles"), {
      maxZoom: 19,
      attribution: credit.innerHTML
    }).addTo(map);
    return map;
  };
})();
