// The KPI dashboard's charts: Apache ECharts (vendored, echarts.min.js) draws the series the
// page carries as JSON (<script type="application/json" id="insights-charts">). No inline
// script or style: tooltips are drawn on the canvas (renderMode "richText"), not as HTML.
(function () {
  "use strict";
  var source = document.getElementById("insights-charts");
  if (!source || typeof echarts === "undefined") return;
  var charts = JSON.parse(source.textContent);
  var drawn = [];

  function option(data, withPercentAxis) {
    var series = data.series.map(function (one) {
      var item = { name: one.name, type: one.type, data: one.data };
      if (one.type === "line") {
        item.yAxisIndex = 1;
        item.connectNulls = true;
        item.smooth = true;
      }
      return item;
    });
    var yAxis = [{ type: "value", minInterval: 1 }];
    if (withPercentAxis) yAxis.push({ type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } });
    return {
      animation: false,
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 48, right: withPercentAxis ? 56 : 24, top: 40, bottom: 56 },
      xAxis: { type: "category", data: data.labels, axisLabel: { hideOverlap: true } },
      yAxis: yAxis,
      dataZoom: data.labels.length > 31 ? [{ type: "inside" }, { type: "slider", height: 16, bottom: 8 }] : [],
      series: series
    };
  }

  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var data = charts[box.dataset.chart];
    if (!data) return;
    var hasLine = data.series.some(function (one) { return one.type === "line"; });
    var chart = echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(option(data, hasLine));
    box.dataset.drawn = "1";
    drawn.push(chart);
  });
  window.addEventListener("resize", function () {
    drawn.forEach(function (chart) { chart.resize(); });
  });
})();
