// The performance page's charts, drawn from the JSON the server rendered (json_script). Every
// bar and point links to the drill-down list of its tickets: a click opens it. Without
// JavaScript, or without Chart.js, the tables below carry every figure and link.
(function () {
  "use strict";

  const COLORS = {
    created: "#6aa0ff",
    solved: "#3aa76d",
    backlog: "#d08b2c",
    first_reply_median: "#6aa0ff",
    first_reply_p90: "#a9c6ff",
    resolution_median: "#3aa76d",
    resolution_p90: "#9fd6b6",
    sla_achievement: "#3aa76d",
    reopen_rate: "#d9534f",
    one_touch_rate: "#6aa0ff",
    escalation_rate: "#d08b2c",
    csat: "#8a6ad8",
  };

  // Opens the tickets behind the element clicked (the dataset's urls, by point index).
  function opener(urlsOf) {
    return function (event, elements, chart) {
      if (!elements.length) return;
      const element = elements[0];
      const dataset = chart.data.datasets[element.datasetIndex];
      const urls = urlsOf(dataset);
      if (urls && urls[element.index]) window.location.assign(urls[element.index]);
    };
  }

  function make(holder, config) {
    if (!holder) return null;
    holder.hidden = false;
    const canvas = holder.querySelector("canvas");
    const chart = new window.Chart(canvas, config);
    canvas.style.cursor = "pointer";
    // Tests and scripts find the chart through its holder.
    holder.chart = chart;
    return chart;
  }

  function base(onClick, yTitle) {
    return {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "nearest", intersect: true },
      onClick: onClick,
      scales: { y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle } }, x: { ticks: { maxTicksLimit: 12 } } },
    };
  }

  function draw() {
    const source = document.getElementById("perf-chart-data");
    if (!source || typeof window.Chart === "undefined") return;
    const data = JSON.parse(source.textContent);

    const volume = data.volume;
    make(document.querySelector('[data-chart="volume"]'), {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: "Created", key: "created", data: volume.created, backgroundColor: COLORS.created },
          { type: "bar", label: "Solved", key: "solved", data: volume.solved, backgroundColor: COLORS.solved },
          { type: "line", label: "Backlog at end of day", key: "backlog", data: volume.backlog, borderColor: COLORS.backlog, backgroundColor: COLORS.backlog, pointRadius: 3 },
        ],
      },
      options: base(opener(function (d) { return volume.urls[d.key]; }), "tickets"),
    });

    const times = data.times;
    const timeSets = [
      ["first_reply_median", "First reply, median", "first_reply"],
      ["first_reply_p90", "First reply, p90", "first_reply"],
      ["resolution_median", "Resolution, median", "resolution"],
      ["resolution_p90", "Resolution, p90", "resolution"],
    ].map(function (s) {
      return { type: "line", label: s[1], key: s[2], data: times[s[0]], borderColor: COLORS[s[0]], backgroundColor: COLORS[s[0]], spanGaps: true, pointRadius: 3 };
    });
    make(document.querySelector('[data-chart="times"]'), {
      data: { labels: data.labels, datasets: timeSets },
      options: base(opener(function (d) { return times.urls[d.key]; }), "hours"),
    });

    const rates = data.rates;
    const rateSets = [
      ["sla_achievement", "SLA achievement"],
      ["reopen_rate", "Reopen rate"],
      ["one_touch_rate", "One-touch rate"],
      ["escalation_rate", "Escalation rate"],
      ["csat", "CSAT"],
    ].map(function (s) {
      return { type: "line", label: s[1], key: s[0], data: rates[s[0]], borderColor: COLORS[s[0]], backgroundColor: COLORS[s[0]], spanGaps: true, pointRadius: 3 };
    });
    const rateOptions = base(opener(function (d) { return rates.urls[d.key]; }), "%");
    rateOptions.scales.y.max = 100;
    make(document.querySelector('[data-chart="rates"]'), { data: { labels: data.labels, datasets: rateSets }, options: rateOptions });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
