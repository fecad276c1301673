/* The district map is a plotly `choropleth` of the city's own shapes with no base map. plotly.js
 * still asks for its world topology (cdn.plot.ly/un/world_110m.json) before drawing such a
 * trace; an empty topology here means nothing is fetched and the intranet needs no internet. */
(function () {
  "use strict";
  window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
  window.PlotlyGeoAssets.topojson = window.PlotlyGeoAssets.topojson || {};
  window.PlotlyGeoAssets.topojson.world_110m = {type: "Topology", objects: {}, arcs: []};
})();
