// The operations page's chart: drawn from the JSON the server rendered (json_script) into the
// fragment, and drawn again each time htmx swaps in a fresh fragment. Without JavaScript, or if
// Chart.js is missing, the per-hour table stays the only view of the figures.
(function () {
  "use strict";
  let chart = null;

  function draw() {
    const holder = document.querySelector("[data-ops-chart]");
    const source = document.getElementById("ops-chart-data");
    if (!holder || !source || typeof window.Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    if (chart) chart.destroy();
    holder.hidden = false;
    const table = document.querySelector("[data-ops-hours]");
    if (table) table.open = false;
    chart = new window.Chart(holder.querySelector("canvas"), {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Created", data: data.created, backgroundColor: "#6aa0ff" },
          { label: "Solved", data: data.solved, backgroundColor: "#3aa76d" },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "ops-live") draw();
  });
  // Back to the tab: catch up at once instead of waiting for the next poll.
  document.addEventListener("visibilitychange", function () {
    const live = document.getElementById("ops-live");
    if (document.visibilityState === "visible" && live && window.htmx) window.htmx.trigger(live, "refresh");
  });
})();
