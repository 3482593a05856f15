// Chart.js, registered with only the pieces the dashboard draws (keeps the bundle small). Each chart is tied to
// a canvas id; drawing again replaces the previous chart on that canvas. Every chart also has a table view
// (rendered by the page from the same rows), so no figure is only in pixels.
import {
  Chart,
  LineController,
  LineElement,
  PointElement,
  BarController,
  BarElement,
  DoughnutController,
  ArcElement,
  ScatterController,
  CategoryScale,
  LinearScale,
  Filler,
  Legend,
  Tooltip,
} from "chart.js";

Chart.register(
  LineController,
  LineElement,
  PointElement,
  BarController,
  BarElement,
  DoughnutController,
  ArcElement,
  ScatterController,
  CategoryScale,
  LinearScale,
  Filler,
  Legend,
  Tooltip,
);
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
Chart.defaults.color = "#475569";
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.animation = false;

const charts = new Map();

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas) return null;
  charts.get(id)?.destroy();
  const chart = new Chart(canvas, config);
  charts.set(id, chart);
  return chart;
}

export function destroyAll() {
  charts.forEach((c) => c.destroy());
  charts.clear();
}

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

/** Lines over dates. series: [{label, color, values}] */
export function lines(id, labels, series, { yTitle } = {}) {
  return draw(id, {
    type: "line",
    data: {
      labels,
      datasets: series.map((s) => ({
        label: s.label,
        data: s.values,
        borderColor: s.color,
        backgroundColor: alpha(s.color, 0.15),
        borderWidth: 2,
        pointRadius: 0,
        tension: 0.25,
      })),
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
}

/** The p10-p90 band filled between two lines, p50 drawn over it. */
export function fan(id, labels, p10, p50, p90, { label = "p50", color = "#2563eb", yTitle } = {}) {
  return draw(id, {
    type: "line",
    data: {
      labels,
      datasets: [
        { label: "p90", data: p90, borderColor: alpha(color, 0.4), borderWidth: 1, pointRadius: 0, fill: false },
        {
          label: "p10–p90",
          data: p10,
          borderColor: alpha(color, 0.4),
          backgroundColor: alpha(color, 0.18),
          borderWidth: 1,
          pointRadius: 0,
          fill: "-1",
        },
        { label, data: p50, borderColor: color, borderWidth: 2.5, pointRadius: 3, fill: false },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
}

export function doughnut(id, labels, values, colors) {
  return draw(id, {
    type: "doughnut",
    data: { labels, datasets: [{ data: values, backgroundColor: colors, borderWidth: 1 }] },
    options: { plugins: { legend: { position: "right" } }, cutout: "55%" },
  });
}

export function bars(id, labels, series, { horizontal = false, xTitle, yTitle } = {}) {
  return draw(id, {
    type: "bar",
    data: {
      labels,
      datasets: series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color })),
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      scales: {
        x: { title: { display: !!xTitle, text: xTitle } },
        y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle } },
      },
      plugins: { legend: { display: series.length > 1, position: "bottom" } },
    },
  });
}

/** Response curves on linear axes. curves: [{label, color, points: [{x, y}], current: {x, y}, proposed: {x, y}}] */
export function curves(id, curveList, { xTitle, yTitle } = {}) {
  const datasets = [];
  for (const c of curveList) {
    datasets.push({
      type: "line",
      label: c.label,
      data: c.points,
      borderColor: c.color,
      borderWidth: 2,
      pointRadius: 0,
      tension: 0.3,
    });
    if (c.current)
      datasets.push({
        type: "scatter",
        label: `${c.label}: current`,
        data: [c.current],
        backgroundColor: "#ffffff",
        borderColor: c.color,
        borderWidth: 2,
        pointRadius: 6,
        pointStyle: "circle",
      });
    if (c.proposed)
      datasets.push({
        type: "scatter",
        label: `${c.label}: proposed`,
        data: [c.proposed],
        backgroundColor: c.color,
        borderColor: "#0f172a",
        borderWidth: 1,
        pointRadius: 7,
        pointStyle: "rectRot",
      });
  }
  return draw(id, {
    type: "line",
    data: { datasets },
    options: {
      parsing: false,
      scales: {
        x: { type: "linear", beginAtZero: true, title: { display: true, text: xTitle } },
        y: { beginAtZero: true, title: { display: true, text: yTitle } },
      },
      plugins: {
        legend: { position: "bottom", labels: { filter: (item) => !/: (current|proposed)$/.test(item.text) } },
      },
    },
  });
}
