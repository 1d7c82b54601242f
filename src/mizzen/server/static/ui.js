// Mizzen's web UI behaviour: theme toggle, live logs, metric charts (uPlot). No framework.
"use strict";

const DONE = new Set(["succeeded", "failed", "stopped", "skipped", "upstream_failed"]);
const MAX_LOG_LINES = 50000; // older lines leave the page (Download has them all)

function runIsDone() {
  const header = document.getElementById("run-header");
  return !header || DONE.has(header.dataset.status);
}

// -- theme -------------------------------------------------------------------------------------
function setupTheme() {
  const button = document.getElementById("theme-toggle");
  if (!button) return;
  button.addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("mizzen-theme", next);
    document.dispatchEvent(new Event("mizzen:theme"));
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", (event) => {
    if (localStorage.getItem("mizzen-theme")) return; // the user's choice wins
    document.documentElement.dataset.theme = event.matches ? "dark" : "light";
    document.dispatchEvent(new Event("mizzen:theme"));
  });
}

// -- logs ----------------------------------------------------------------------------------------
function setupLogs() {
  const pre = document.getElementById("logs");
  if (!pre) return;
  const follow = document.getElementById("logs-follow");
  const state = document.getElementById("logs-state");
  const uuid = pre.dataset.run;
  let offset = 0;
  let pending = [];
  let shown = 0;

  function flush() {
    if (!pending.length) return;
    const text = pending.join("");
    pending = [];
    pre.appendChild(document.createTextNode(text));
    while (shown > MAX_LOG_LINES && pre.firstChild) { // drop the oldest text nodes
      shown -= (pre.firstChild.textContent.match(/\n/g) || []).length;
      pre.removeChild(pre.firstChild);
    }
    if (follow.checked) pre.scrollTop = pre.scrollHeight;
  }

  pre.addEventListener("scroll", () => { // scrolling up pauses following; back at the bottom resumes
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
    follow.checked = atBottom;
  });
  follow.addEventListener("change", () => { if (follow.checked) pre.scrollTop = pre.scrollHeight; });

  function addLine(raw) {
    if (!raw) return;
    const item = JSON.parse(raw);
    const where = item.container === "main" && !item.replica ? "" : `[${item.replica || item.container}] `;
    pending.push(where + item.line + "\n");
    shown += 1;
    offset += 1;
  }

  async function stream() {
    state.textContent = "streaming…";
    try {
      const answer = await fetch(`/ui/runs/${uuid}/logs/stream?offset=${offset}`);
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      const reader = answer.body.getReader();
      const decoder = new TextDecoder();
      let rest = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += decoder.decode(value, { stream: true });
        const lines = rest.split("\n");
        rest = lines.pop();
        lines.forEach(addLine);
        requestAnimationFrame(flush);
      }
      addLine(rest);
      flush();
    } catch (error) {
      state.textContent = `interrupted (${error.message}); retrying…`;
    }
    if (runIsDone()) {
      state.textContent = `${offset} line${offset === 1 ? "" : "s"} · run finished`;
      pre.dataset.complete = "1";
    } else {
      setTimeout(stream, 2000); // the stream closed early (a proxy's timeout): go on from offset
    }
  }
  stream();
}

// -- charts ------------------------------------------------------------------------------------
function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function setupCharts() {
  const holder = document.getElementById("charts");
  if (!holder || typeof uPlot === "undefined") return;
  const uuid = holder.dataset.run;
  const charts = new Map(); // name -> {box, plot, data}

  function chartOptions(name, width) {
    const text = cssVar("--muted");
    const grid = cssVar("--line");
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    return {
      width,
      height: 220,
      scales: { x: { time: false } },
      cursor: { drag: { x: true, y: false } },
      legend: { show: false },
      hooks: { setCursor: [(u) => showReadout(name, u)] },
      axes: [{ ...axis, label: "step" }, { ...axis, size: 60 }],
      series: [{ label: "step" }, { label: name, stroke: cssVar("--accent"), width: 1.5, points: { show: false } }],
    };
  }

  function showReadout(name, plot) {
    const chart = charts.get(name);
    const index = plot.cursor.idx;
    chart.readout.textContent = index == null ? "" : `step ${plot.data[0][index]}: ${plot.data[1][index].toPrecision(5)}`;
  }

  function draw(name) {
    const chart = charts.get(name);
    if (chart.plot) chart.plot.destroy();
    const width = Math.max(200, chart.canvas.clientWidth);
    chart.plot = new uPlot(chartOptions(name, width), chart.data, chart.canvas);
  }

  function ensureBox(name) {
    if (charts.has(name)) return;
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.metric = name;
    box.innerHTML = "<h3><span class='name'></span><span class='readout'></span></h3><div class='canvas'></div><div class='note'></div>";
    box.querySelector(".name").textContent = name;
    holder.appendChild(box);
    const readout = box.querySelector(".readout");
    charts.set(name, { box, canvas: box.querySelector(".canvas"), readout, plot: null, data: null });
    document.getElementById("no-metrics")?.remove();
  }

  // Every box first, then the widths: a chart measured alone in its row would ask for too much.
  function loadAll(names) {
    names.forEach(ensureBox);
    return Promise.all(names.map(load));
  }

  async function load(name) {
    const chart = charts.get(name);
    // Two points (a bucket's min and max) per pixel: full detail at this width, no more.
    const points = Math.min(20000, Math.max(200, 2 * Math.round(chart.canvas.clientWidth * devicePixelRatio)));
    const answer = await fetch(`/ui/runs/${uuid}/metrics/${encodeURIComponent(name)}?points=${points}`);
    if (!answer.ok) return;
    const history = await answer.json();
    const steps = history.steps.every((s) => s !== null) ? history.steps : history.values.map((_, i) => i);
    chart.data = [steps, history.values];
    if (chart.plot) chart.plot.setData(chart.data); // a live run's new points, on the same chart
    else draw(name);
    chart.box.dataset.points = String(history.values.length);
    chart.box.querySelector(".note").textContent = history.downsampled
      ? `downsampled to ${history.values.length} points for this width` : "";
  }

  async function refresh() {
    const answer = await fetch(`/ui/runs/${uuid}/metrics`);
    const names = answer.ok ? await answer.json() : [];
    await loadAll(names);
    if (!runIsDone()) setTimeout(refresh, 5000);
  }

  loadAll(JSON.parse(holder.dataset.metrics || "[]"));
  if (holder.dataset.live === "1") setTimeout(refresh, 3000);
  document.addEventListener("mizzen:theme", () => charts.forEach((c, name) => c.data && draw(name)));
  // Charts follow their box's width (the grid settles after the first layout, and on resize).
  const resized = new ResizeObserver(() => charts.forEach((c) => {
    const width = Math.max(200, c.canvas.clientWidth);
    if (c.plot && Math.abs(c.plot.width - width) > 1) c.plot.setSize({ width, height: 220 });
  }));
  resized.observe(holder);
}

document.addEventListener("DOMContentLoaded", () => {
  setupTheme();
  setupLogs();
  setupCharts();
});
