// The trace types the command center draws (ui/figures.py), on plotly.js's core (which holds scatter).
var Plotly = require("plotly.js/lib/core");
Plotly.register([
  require("plotly.js/lib/bar"),
  require("plotly.js/lib/pie"),
  require("plotly.js/lib/funnel"),
  require("plotly.js/lib/sankey"),
  require("plotly.js/lib/scatterpolar"),
  require("plotly.js/lib/scattergeo"),
  require("plotly.js/lib/choropleth"),
]);
window.Plotly = Plotly;
