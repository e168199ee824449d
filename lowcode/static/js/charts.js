/* Charts of reports and dashboards, drawn with ECharts from the JSON the server embeds beside each chart
   (<div data-chart> holding <script type="application/json" class="chart-data">). The data is the report's
   own result: this file only draws it; a click on a bar, point or slice opens its drill-down address. */
(function () {
  "use strict";

  function number(point) {
    return point === null ? null : parseFloat(point.value);
  }

  function axisOption(data, narrow) {
    var many = data.categories.length > (narrow ? 4 : 10);
    return {
      grid: { left: 8, right: 16, top: 16, bottom: data.series.length > 1 ? 48 : 8, containLabel: true },
      legend: data.series.length > 1 ? { type: "scroll", bottom: 0 } : undefined,
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var point = p.data && p.data.point;
          return p.seriesName + "<br>" + escapeHtml(p.name) + ": " + escapeHtml(point ? point.text : "");
        },
      },
      xAxis: {
        type: "category",
        data: data.categories,
        axisLabel: { rotate: many ? 45 : 0, interval: 0, hideOverlap: true, width: narrow ? 70 : 120, overflow: "truncate" },
      },
      yAxis: { type: "value" },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: data.type,
          data: s.points.map(function (p) {
            return { value: number(p), point: p };
          }),
        };
      }),
    };
  }

  function pieOption(data, narrow) {
    var s = data.series[0] || { name: "", points: [] };
    return {
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          return escapeHtml(p.name) + ": " + escapeHtml(p.data.point.text) + " (" + p.percent + "%)";
        },
      },
      legend: { type: "scroll", bottom: 0 },
      series: [
        {
          name: s.name,
          type: "pie",
          radius: narrow ? ["30%", "60%"] : ["35%", "70%"],
          center: ["50%", "45%"],
          label: { show: !narrow, formatter: "{b}" },
          data: data.categories
            .map(function (name, i) {
              var p = s.points[i];
              return p ? { name: name, value: number(p), point: p } : null;
            })
            .filter(function (d) {
              return d !== null;
            }),
        },
      ],
    };
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function draw(box) {
    if (box.dataset.drawn || typeof echarts === "undefined") return;
    var source = box.querySelector("script.chart-data");
    var target = box.querySelector(".chart-canvas");
    if (!source || !target) return;
    var data = JSON.parse(source.textContent);
    if (!data.categories.length) {
      target.textContent = data.empty;
      target.classList.add("chart-empty");
      return;
    }
    box.dataset.drawn = "1";
    var narrow = target.clientWidth < 520;
    var chart = echarts.init(target, null, { renderer: "canvas" });
    var option = data.type === "pie" ? pieOption(data, narrow) : axisOption(data, narrow);
    option.animation = false; // drawn at once: a click or a screenshot meets the final chart
    chart.setOption(option);
    chart.on("click", function (p) {
      var point = p.data && p.data.point;
      if (point && point.drill) window.location.assign(point.drill);
    });
    window.addEventListener("resize", function () {
      chart.resize();
    });
  }

  function setUp() {
    document.querySelectorAll("[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
