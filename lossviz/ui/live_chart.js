// The browser half of lossviz.ui.live_chart (the module's docstring has the flow and the data shape).
// Moving a control redraws the chart here, with no message to the server; releasing it commits the value
// once, with setStateValue. A player (data.player) adds buttons and a timer that move the same range input
// through the same drawing path, and never commits. Labels and values come from the component's data (a
// page may put user text in them) and are set with textContent or attributes, never parsed as HTML.

// Streamlit calls the default export again, on the same parentElement, whenever the data changes.
const instances = new WeakMap();
// One <script> per document, shared by every live chart of the page.
let plotlyLoad = null;

// Sized by a ResizeObserver on the component rather than by `responsive` (window resizes only): a chart
// drawn inside a hidden tab or a collapsed expander gets its width when it is shown.
const CONFIG = { displaylogo: false };
// Trace types whose frames Plotly.animate moves without redrawing the plot (its modules marked animatable);
// a frame naming any other type (heatmap, contour …) redraws.
const ANIMATABLE = new Set(["scatter", "bar", "carpet"]);
const SVG = "http://www.w3.org/2000/svg";
// Below this width a figure's `narrow` relayout applies (lossviz.figures.live.NARROW_WIDTH): side-by-side
// panels stacked for a phone.
const NARROW_WIDTH = 600;
// Material Symbols' shapes (24 × 24), drawn as SVG: no icon font, no emoji font needed.
const ICONS = {
  play: "M8 5v14l11-7z",
  pause: "M6 5h4v14H6zM14 5h4v14h-4z",
  back: "M15.41 7.41 14 6l-6 6 6 6 1.41-1.41L10.83 12z",
  forward: "M10 6 8.59 7.41 13.17 12l-4.58 4.59L10 18l6-6z",
  start: "M6 6h2v12H6zm3.5 6 8.5 6V6z",
  end: "M6 18l8.5-6L6 6v12zM16 6v12h2V6z",
};

function loadPlotly(url) {
  if (plotlyLoad === null) {
    plotlyLoad = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.addEventListener("load", () =>
        window.Plotly ? resolve(window.Plotly) : reject(new Error(`${url} did not define Plotly`)),
      );
      script.addEventListener("error", () => reject(new Error(`plotly.js could not be loaded from ${url}`)));
      document.head.appendChild(script);
    });
    plotlyLoad.catch(() => {
      plotlyLoad = null; // the next render tries again
    });
  }
  return plotlyLoad;
}

function el(tag, className, attributes = {}) {
  const node = document.createElement(tag);
  node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

const clamp = (x, lo, hi) => Math.min(Math.max(x, lo), hi);
const same = (a, b) => a.length === b.length && a.every((x, n) => x === b[n]);
const isObject = (x) => x !== null && typeof x === "object" && !Array.isArray(x);

// A frame's partial traces merged into the base traces, as Plotly.animate applies them (typed arrays
// {dtype, bdata} are values, not objects to merge into).
function mergeTrace(base, part) {
  const out = { ...base };
  for (const [name, value] of Object.entries(part)) {
    const nested = isObject(value) && isObject(base[name]) && !("bdata" in value);
    out[name] = nested ? mergeTrace(base[name], value) : value;
  }
  return out;
}

function withFrame(traces, frame) {
  const data = traces.slice();
  const targets = frame.traces || frame.data.map((_, n) => n);
  targets.forEach((t, n) => {
    data[t] = mergeTrace(data[t] || {}, frame.data[n]);
  });
  return data;
}

// Frame k shows values[k] of a slider; the pad's frames are indexed i * ny + j (i along x, j along y).
function frameIndex(inst) {
  const [i, j] = inst.index;
  return inst.index.length === 1 ? i : i * inst.data.params[1].values.length + j;
}

const interacting = (inst) => inst.keys.size > 0 || inst.dragging || inst.padPointer !== null;
const lastIndex = (inst) => inst.data.params[0].values.length - 1;

function create(parentElement, key) {
  const root = parentElement.querySelector(".lossviz-live");
  const chart = el("div", "lossviz-live__chart");
  const status = el("div", "lossviz-live__status", { role: "alert" });
  const controls = el("div", "lossviz-live__controls");
  root.append(chart, status, controls);
  const inst = {
    root, chart, status, controls, id: key, data: null, Plotly: null, frames: [],
    figureId: null, plotted: false, busy: false, drawing: false, drawn: -1, since: null,
    index: [], committed: [], seq: 0, keys: new Set(), dragging: false, padPointer: null,
    rows: [], pad: null, setStateValue: null, chain: Promise.resolve(), listeners: [],
    layouts: [], player: null, playing: false, playFigure: null, raf: null, lastStep: 0, speed: 1,
    narrow: null, wide: null, narrowTraces: {}, wideTraces: {},
  };
  // A drag on a range input may end outside it; only `change` commits, this only ends "interacting".
  const release = () => {
    inst.dragging = false;
  };
  for (const type of ["pointerup", "pointercancel"]) {
    window.addEventListener(type, release);
    inst.listeners.push([type, release]);
  }
  let width = 0;
  inst.resizer = new ResizeObserver(([entry]) => {
    const now = Math.round(entry.contentRect.width);
    if (now !== width && inst.plotted && now > 0) {
      inst.chain = inst.chain
        .then(() => fitWidth(inst))
        .then(() => inst.Plotly.Plots.resize(inst.chart))
        .catch((error) => showError(inst, error));
    }
    width = now;
  });
  inst.resizer.observe(root);
  return inst;
}

function commit(inst) {
  if (inst.data.player || same(inst.index, inst.committed)) return; // a player commits nothing
  inst.committed = inst.index.slice();
  inst.seq += 1;
  const values = inst.index.map((k, p) => inst.data.params[p].values[k]);
  inst.setStateValue("committed", { values, seq: inst.seq });
}

function moved(inst, event) {
  showIndex(inst);
  if (inst.since === null) inst.since = event.timeStamp;
  draw(inst);
}

function buildRow(inst, p) {
  const id = `${inst.id}-param-${p}`;
  const row = el("div", "lossviz-live__row");
  const label = el("label", "lossviz-live__label", { for: id });
  const input = el("input", "lossviz-live__range", { id, type: "range", min: "0", step: "1" });
  const output = el("output", "lossviz-live__value", { for: id, "aria-hidden": "true" });
  row.append(label, input, output);
  input.addEventListener("input", (event) => {
    pause(inst); // scrubbing takes over from playing
    inst.index[p] = Number(input.value);
    moved(inst, event);
  });
  // `change` ends a pointer drag (and an assistive technology's step); a key commits on its release, so
  // holding an arrow key sends one value, not one per step.
  input.addEventListener("change", () => {
    if (inst.keys.size === 0) commit(inst);
  });
  input.addEventListener("keydown", (event) => inst.keys.add(event.key));
  input.addEventListener("keyup", (event) => {
    inst.keys.delete(event.key);
    if (inst.keys.size === 0) commit(inst);
  });
  input.addEventListener("blur", () => {
    inst.keys.clear();
    commit(inst);
  });
  input.addEventListener("pointerdown", () => {
    inst.dragging = true;
  });
  return { row, label, input, output };
}

// The pad is a pointer surface only (aria-hidden): the two labelled range inputs beside it are the
// accessible, keyboard-operable control of the same two values.
function buildPad(inst) {
  const pad = el("div", "lossviz-live__pad", { "aria-hidden": "true" });
  const knob = el("div", "lossviz-live__knob");
  const xLabel = el("span", "lossviz-live__pad-x");
  const yLabel = el("span", "lossviz-live__pad-y");
  pad.append(knob, xLabel, yLabel);
  const at = (event) => {
    const box = pad.getBoundingClientRect();
    const [nx, ny] = inst.data.params.map((q) => q.values.length);
    const i = Math.round(clamp((event.clientX - box.left) / box.width, 0, 1) * (nx - 1));
    const j = Math.round(clamp((box.bottom - event.clientY) / box.height, 0, 1) * (ny - 1));
    if (i !== inst.index[0] || j !== inst.index[1]) {
      inst.index = [i, j];
      moved(inst, event);
    }
  };
  pad.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || inst.data.params.some((q) => q.locked)) return;
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    inst.padPointer = event.pointerId;
    at(event);
  });
  pad.addEventListener("pointermove", (event) => {
    if (inst.padPointer === event.pointerId) at(event);
  });
  const end = (event) => {
    if (inst.padPointer !== event.pointerId) return;
    inst.padPointer = null;
    commit(inst);
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  return { pad, knob, xLabel, yLabel };
}

function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

function button(label, name, onClick) {
  const node = el("button", "lossviz-live__button", { type: "button", "aria-label": label, title: label });
  node.append(icon(name));
  node.addEventListener("click", onClick);
  return node;
}

// The player: a timer that steps the range input's position and draws each frame through drawLoop, never
// skipping one (a slow frame slows the play down); the frame rate is data.player.fps × the chosen speed.
function jump(inst, k) {
  pause(inst);
  inst.index[0] = clamp(k, 0, lastIndex(inst));
  showIndex(inst);
  draw(inst);
}

function setPlaying(inst, playing) {
  inst.playing = playing;
  inst.root.dataset.playing = String(playing);
  const toggle = inst.player.toggle;
  const label = playing ? "Pause" : "Play";
  toggle.setAttribute("aria-label", label);
  toggle.title = label;
  toggle.replaceChildren(icon(playing ? "pause" : "play"));
}

function pause(inst) {
  if (!inst.playing) return;
  cancelAnimationFrame(inst.raf);
  setPlaying(inst, false);
}

function play(inst) {
  if (inst.playing) return;
  if (inst.index[0] >= lastIndex(inst)) inst.index[0] = 0; // from the end, play again from the start
  showIndex(inst);
  draw(inst);
  setPlaying(inst, true);
  inst.lastStep = performance.now();
  inst.raf = requestAnimationFrame((now) => tick(inst, now));
}

function tick(inst, now) {
  if (!inst.playing) return;
  const interval = 1000 / (inst.data.player.fps * inst.speed);
  const shown = !inst.drawing && inst.drawn === frameIndex(inst);
  if (shown && inst.index[0] >= lastIndex(inst)) {
    setPlaying(inst, false);
    return;
  }
  if (shown && now - inst.lastStep >= interval) {
    // Keep the average rate when animation frames do not fall on the interval, without running ahead.
    inst.lastStep = Math.max(inst.lastStep + interval, now - interval);
    inst.index[0] += 1;
    if (inst.since === null) inst.since = now;
    showIndex(inst);
    draw(inst);
  }
  inst.raf = requestAnimationFrame((next) => tick(inst, next));
}

function buildPlayer(inst) {
  const bar = el("div", "lossviz-live__player");
  const toggle = button("Play", "play", () => (inst.playing ? pause(inst) : play(inst)));
  const speed = el("select", "lossviz-live__speed", { "aria-label": "Speed" });
  inst.data.player.speeds.forEach((value) => {
    const option = el("option", "", { value: String(value) });
    option.textContent = `${value}×`;
    option.selected = value === 1;
    speed.append(option);
  });
  speed.addEventListener("change", () => {
    inst.speed = Number(speed.value);
  });
  bar.append(
    button("Jump to start", "start", () => jump(inst, 0)),
    button("Step back", "back", () => jump(inst, inst.index[0] - 1)),
    toggle,
    button("Step forward", "forward", () => jump(inst, inst.index[0] + 1)),
    button("Jump to end", "end", () => jump(inst, lastIndex(inst))),
  );
  return { bar, toggle, speed };
}

function ensureControls(inst, params) {
  const player = Boolean(inst.data.player);
  if (inst.rows.length === params.length && (inst.player !== null) === player) return;
  inst.controls.replaceChildren();
  inst.pad = params.length === 2 ? buildPad(inst) : null;
  if (inst.pad) inst.controls.append(inst.pad.pad);
  inst.player = player ? buildPlayer(inst) : null;
  if (inst.player) inst.controls.append(inst.player.bar);
  const sliders = el("div", "lossviz-live__sliders");
  inst.rows = params.map((_, p) => buildRow(inst, p));
  sliders.append(...inst.rows.map((r) => r.row));
  inst.controls.append(sliders);
  if (inst.player) {
    sliders.append(inst.player.speed);
    sliders.classList.add("lossviz-live__sliders--player");
    setPlaying(inst, false);
  }
}

function showIndex(inst) {
  const { params } = inst.data;
  inst.rows.forEach((r, p) => {
    const { label, texts } = params[p];
    const k = inst.index[p];
    r.label.textContent = label;
    r.input.max = String(texts.length - 1);
    r.input.value = String(k);
    r.input.setAttribute("aria-valuetext", texts[k]);
    r.output.textContent = texts[k];
    // A classroom link may lock a control (shown, not movable) or hide it (the chart stays).
    r.input.disabled = Boolean(params[p].locked);
    r.row.hidden = Boolean(params[p].hidden);
  });
  if (inst.pad) {
    const [x, y] = inst.index.map((k, p) => (100 * k) / (params[p].texts.length - 1));
    inst.pad.pad.style.setProperty("--x", `${x}%`);
    inst.pad.pad.style.setProperty("--y", `${100 - y}%`);
    inst.pad.xLabel.textContent = params[0].symbol;
    inst.pad.yLabel.textContent = params[1].symbol;
    inst.pad.pad.hidden = params.some((q) => q.hidden);
    inst.pad.pad.classList.toggle("lossviz-live__pad--locked", params.some((q) => q.locked));
  }
}

function showError(inst, error) {
  inst.status.textContent = String(error && error.message ? error.message : error);
}

// Draws the frame of the controls' position; when that moved again meanwhile, draws the newest one next
// (frames are skipped, never queued). data-frame-ms: time from the oldest undrawn input event (or player
// step) to the finished redraw, read by the browser tests and the bench.
async function drawLoop(inst) {
  if (inst.drawing || inst.busy || !inst.plotted) return;
  inst.drawing = true;
  try {
    for (let k = frameIndex(inst); k !== inst.drawn; k = frameIndex(inst)) {
      const since = inst.since;
      inst.since = null;
      const frame = inst.frames[k];
      // A frame of layout only (shapes, images) skips Plotly.animate, which re-derives every trace even when
      // none changes: Plotly.relayout redraws just what the layout names.
      if (frame.data.length > 0) {
        await inst.Plotly.animate(inst.chart, [frame.name], {
          mode: "immediate",
          frame: { duration: 0, redraw: frame.redraw },
          transition: { duration: 0 },
        });
      }
      if (inst.layouts[k]) await inst.Plotly.relayout(inst.chart, inst.layouts[k]);
      inst.drawn = k;
      inst.root.dataset.frame = String(k);
      if (since !== null) inst.root.dataset.frameMs = (performance.now() - since).toFixed(1);
    }
  } finally {
    inst.drawing = false;
  }
}

// The value at a Plotly.relayout path ("xaxis2.domain", "annotations[1].y"), null where the layout sets none
// (relayout with null restores Plotly's default).
function valueAt(layout, path) {
  let value = layout;
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g)) {
    const key = part.startsWith("[") ? Number(part.slice(1, -1)) : part;
    if (value === null || typeof value !== "object" || !(key in value)) return null;
    value = value[key];
  }
  return value === undefined ? null : value;
}

// The figure's narrow layout where the chart is narrower than NARROW_WIDTH, its own layout elsewhere.
async function fitWidth(inst) {
  if (!inst.narrow) return;
  const mode = inst.root.clientWidth < NARROW_WIDTH ? "narrow" : "wide";
  if (mode === inst.root.dataset.layout) return;
  await inst.Plotly.relayout(inst.chart, mode === "narrow" ? inst.narrow : inst.wide);
  for (const [index, styles] of Object.entries(mode === "narrow" ? inst.narrowTraces : inst.wideTraces)) {
    await inst.Plotly.restyle(inst.chart, styles, [Number(index)]);
  }
  inst.root.dataset.layout = mode;
  inst.chart.style.minHeight = `${inst.chart.layout.height || 450}px`;
}

function draw(inst) {
  drawLoop(inst).catch((error) => showError(inst, error));
}

async function render(inst) {
  const { data } = inst;
  if (!inst.Plotly) inst.Plotly = await loadPlotly(data.plotly_url);
  if (inst.figureId !== data.figure_id) {
    const fig = data.figure;
    // Plotly gets each frame's data; its layout is applied apart, with Plotly.relayout (see drawLoop).
    const frames = fig.frames.map((frame, k) => {
      const traces = frame.traces || frame.data.map((_, n) => n);
      const redraw = traces.some((t) => !ANIMATABLE.has((fig.data[t] && fig.data[t].type) || "scatter"));
      return { data: frame.data, traces, name: String(k), redraw };
    });
    const layouts = fig.frames.map((frame) => frame.layout || null);
    const k = frameIndex(inst);
    const layout = { ...(fig.layout || {}), ...(layouts[k] || {}) };
    const figure = { data: withFrame(fig.data, frames[k]), layout, frames, config: CONFIG };
    inst.busy = true;
    try {
      await (inst.plotted ? inst.Plotly.react(inst.chart, figure) : inst.Plotly.newPlot(inst.chart, figure));
    } finally {
      inst.busy = false;
    }
    Object.assign(inst, { plotted: true, figureId: data.figure_id, frames, layouts, drawn: k });
    inst.root.dataset.frame = String(k);
    // A new figure is drawn with its own (wide) layout; its narrow one, if any, is applied by width.
    inst.narrow = fig.narrow || null;
    inst.wide = inst.narrow
      ? Object.fromEntries(Object.keys(inst.narrow).map((path) => [path, valueAt(fig.layout, path)]))
      : null;
    inst.narrowTraces = fig.narrow_traces || {};
    inst.wideTraces = Object.fromEntries(
      Object.entries(inst.narrowTraces).map(([index, styles]) => [
        index,
        Object.fromEntries(Object.keys(styles).map((path) => [path, valueAt(fig.data[Number(index)], path)])),
      ]),
    );
    inst.root.dataset.layout = "wide";
    await fitWidth(inst);
  }
  inst.status.textContent = "";
  await drawLoop(inst);
}

function destroy(inst, parentElement) {
  cancelAnimationFrame(inst.raf);
  inst.playing = false;
  for (const [type, listener] of inst.listeners) window.removeEventListener(type, listener);
  inst.resizer.disconnect();
  if (inst.plotted) inst.Plotly.purge(inst.chart);
  instances.delete(parentElement);
}

// The script sends its data as UTF-8 JSON bytes (lossviz.ui.live_chart.encoded_payload), which Streamlit
// forwards untouched; a dict would reach here already parsed.
function decoded(data) {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return JSON.parse(new TextDecoder().decode(data));
  return typeof data === "string" ? JSON.parse(data) : data;
}

export default function (component) {
  const { parentElement, setStateValue, key } = component;
  const data = decoded(component.data);
  let inst = instances.get(parentElement);
  if (inst && !inst.root.isConnected) {
    destroy(inst, parentElement); // Streamlit rebuilt the component's HTML (its CSS changed): start again
    inst = undefined;
  }
  if (!inst) {
    inst = create(parentElement, key);
    instances.set(parentElement, inst);
    inst.chart.style.minHeight = `${(data.figure.layout && data.figure.layout.height) || 450}px`;
  }
  inst.setStateValue = setStateValue;
  inst.data = data;
  ensureControls(inst, data.params);
  const served = data.params.map((p) => p.index);
  if (data.player) {
    // A rerun with the same figure leaves the player where it is (playing or not); a new figure (another
    // run) starts at the served position, the end of the run.
    if (inst.playFigure !== data.figure_id) {
      inst.playFigure = data.figure_id;
      pause(inst);
      inst.index = served.slice();
    }
  } else if (data.seq >= inst.seq) {
    // data.seq echoes the last commit the script has seen: an older one is a rerun that started before this
    // browser's latest commit, and must not move the controls back.
    const moved = data.seq > inst.seq && !same(served, inst.committed);
    inst.seq = data.seq;
    inst.committed = served;
    if (!interacting(inst)) inst.index = served.slice();
    // A newer one that this browser did not send is the script's own commit (commit_value): keep it as this
    // component's state too, or the next rerun would send the browser's older values back.
    if (moved) {
      const values = served.map((k, p) => data.params[p].values[k]);
      inst.setStateValue("committed", { values, seq: data.seq });
    }
  }
  inst.index = inst.index.map((k, p) => clamp(k, 0, data.params[p].values.length - 1));
  showIndex(inst);
  inst.chain = inst.chain.then(() => render(inst)).catch((error) => showError(inst, error));
  return () => destroy(inst, parentElement);
}
