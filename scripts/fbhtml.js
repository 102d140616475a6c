/* The interactive view of one fetchbench run (inlined by fbhtml.py into a
 * self-contained page; reads the JSON in #fbdata).  One canvas: the task
 * rows (or, above ROWS_MAX tasks, a density view of binned rows and a lane
 * of tasks by state), the thread lane, the server lane and the time axis.
 * Nothing is loaded from elsewhere.  window.fbview is a small hook for the
 * headless-browser test (where the rows are, the time range, the selection,
 * the time of the first paint). */
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("fbdata").textContent);
  const T = D.tasks, N = T.start.length, ST = D.states;
  if (!T.id) T.id = Int32Array.from({length: N}, (_, i) => i);
  if (!T.key) T.key = new Int32Array(N);
  // step functions come as [t0, n0, dt1, n1, ...]: times back to absolute
  const undelta = f => { const o = Float64Array.from(f); for (let i = 2; i < o.length; i += 2) o[i] += o[i - 2]; return o; };
  D.threads.samples = undelta(D.threads.samples);
  if (D.server) {
    D.server.in_service = undelta(D.server.in_service);
    if (D.server.queued) D.server.queued = undelta(D.server.queued);
  }
  const ROW_MAX_PX = 18, TASK_MAX_PX = 640, ROW_MIN_PX = 2;
  const ROWS_MAX = TASK_MAX_PX / ROW_MIN_PX;            // above this: density view
  const DENSE = N > ROWS_MAX;
  const LANE_H = 86, GAP = 10, AXIS_H = 34, LEFT = 74;
  const LINK_COLOURS = {handoff: "#a07800", result: "#6a3d9a", value: "#1b9e77"};
  const OTHER_LINK = "#525252";
  const LIFETIME = "#fdd0a2", LIFETIME_EDGE = "#d9822b", CREATE = "#e6550d";
  const SEL_BAND = "#ffe680", REL_BAND = "#bcd6ff", CHAIN_BAND = "#e6efff", SEL_LINE = "#d62728";

  // ---- the data as typed arrays: spans grouped by row, absolute times
  const NS = D.spans.state.length;
  const first = new Int32Array(N + 1);
  for (let r = 0; r < N; r++) first[r + 1] = first[r] + T.nspans[r];
  const tStart = Float64Array.from(T.start);
  const tEnd = new Float64Array(N);
  for (let r = 0; r < N; r++) tEnd[r] = tStart[r] + T.dur[r];
  const sState = Int16Array.from(D.spans.state);
  const sStart = new Float64Array(NS), sEnd = new Float64Array(NS);
  for (let r = 0; r < N; r++) {
    for (let j = first[r]; j < first[r + 1]; j++) {
      sStart[j] = (j > first[r] ? sStart[j - 1] : tStart[r]) + D.spans.start[j];
      sEnd[j] = sStart[j] + D.spans.dur[j];
    }
  }
  const rgb = ST.map(s => hexRgb(s.colour));
  const present = new Uint8Array(ST.length);
  for (let j = 0; j < NS; j++) present[sState[j]] = 1;

  // waited_on: each row's predecessor, and the rows that waited on each row
  const pred = new Int32Array(N).fill(-1), predKind = new Int32Array(N), predAt = new Float64Array(N);
  const succFirst = new Int32Array(N + 1);
  let succList = new Int32Array(0);
  if (D.waited_on) {
    const L = D.waited_on;
    for (let i = 0; i < L.row.length; i++) {
      pred[L.row[i]] = L.from[i]; predKind[L.row[i]] = L.kind[i]; predAt[L.row[i]] = L.at[i];
      succFirst[L.from[i] + 1]++;
    }
    for (let r = 0; r < N; r++) succFirst[r + 1] += succFirst[r];
    succList = new Int32Array(L.row.length);
    const fill = succFirst.slice(0, N);
    for (let r = 0; r < N; r++) if (pred[r] >= 0) succList[fill[pred[r]]++] = r;
  }
  // where an arrow lands: the first span of the task at or after the
  // predecessor's release that is not a wait (the grant, the resume)
  function landing(r) {
    const at = predAt[r];
    for (let j = first[r]; j < first[r + 1]; j++) {
      if (sStart[j] >= at && !ST[sState[j]].wait) return sStart[j];
    }
    return at;
  }
  const errRow = new Map();
  if (D.errors) D.errors.row.forEach((r, i) => errRow.set(r, i));
  const outcomeMarked = D.outcomes.map(o => !o.ok);

  // threads: lifetimes packed into slots, like the PNG
  const TH = D.threads, NT = TH.start.length;
  const thStart = Float64Array.from(TH.start), thEnd = new Float64Array(NT);
  for (let i = 0; i < NT; i++) thEnd[i] = thStart[i] + TH.dur[i];
  const slot = new Int32Array(NT);
  let nslots = 0;
  const thOrder = Array.from({length: NT}, (_, i) => i)
    .sort((a, b) => thStart[a] - thStart[b] || thEnd[a] - thEnd[b]);
  {
    const slotEnd = [];
    for (const i of thOrder) {
      let k = slotEnd.findIndex(e => e <= thStart[i]);
      if (k < 0 || nslots > 64) k = slotEnd.length < 64 ? slotEnd.length : -1;
      if (k < 0) { slot[i] = -1; continue; }
      slot[i] = k; slotEnd[k] = thEnd[i]; nslots = Math.max(nslots, k + 1);
    }
  }
  const threadsOf = new Map();
  if (TH.task) TH.task.forEach((r, i) => { if (r >= 0) (threadsOf.get(r) || threadsOf.set(r, []).get(r)).push(i); });
  const stepMax = flat => { let m = 0; for (let i = 1; i < flat.length; i += 2) m = Math.max(m, flat[i]); return m; };
  const threadTop = Math.max(stepMax(TH.samples), TH.baseline + Math.min(nslots, 64), 1);
  const SV = D.server;
  const serverTop = SV ? Math.max(1, SV.capacity || 0, stepMax(SV.in_service), SV.queued ? stepMax(SV.queued) : 0) : 1;

  // ---- layout (CSS pixels)
  const canvas = document.getElementById("view"), ctx = canvas.getContext("2d");
  const tip = document.getElementById("tip"), wrap = document.getElementById("wrap");
  const FULL = Math.max(1, D.end_us * 1.02);
  let t0 = 0, t1 = FULL, W = 800, RIGHT = 16;
  const showRight = !DENSE && N <= 80 && (T.wait || N <= 80);
  const rowH = DENSE ? TASK_MAX_PX / N : Math.min(ROW_MAX_PX, TASK_MAX_PX / N);
  const L = {};
  {
    let y = 8;
    L.tasks = [y, DENSE ? TASK_MAX_PX : Math.max(N * rowH, 24)]; y += L.tasks[1] + GAP;
    if (DENSE) { L.counts = [y, LANE_H]; y += LANE_H + GAP; }
    L.threads = [y, LANE_H]; y += LANE_H + GAP;
    if (SV) { L.server = [y, LANE_H]; y += LANE_H + GAP; }
    L.axis = [y - GAP + 2, AXIS_H]; y += AXIS_H - GAP + 2;
    L.height = y;
  }
  const plotL = LEFT;
  const plotR = () => W - RIGHT;
  const plotW = () => Math.max(10, plotR() - plotL);
  const X = t => plotL + (t - t0) * plotW() / (t1 - t0);
  const Tx = x => t0 + (x - plotL) * (t1 - t0) / plotW();
  const rowYc = r => L.tasks[0] + (r + 0.5) * rowH;

  // ---- selection
  let sel = -1, related = new Set(), chain = new Set();
  function select(r) {
    sel = r; related = new Set(); chain = new Set();
    if (r >= 0) {
      if (pred[r] >= 0) related.add(pred[r]);
      for (let j = succFirst[r]; j < succFirst[r + 1]; j++) related.add(succList[j]);
      // the chains it is part of: its predecessors back, its successors on
      for (let p = pred[r]; p >= 0 && !chain.has(p) && p !== r; p = pred[p]) chain.add(p);
      const unvisited = [r];
      while (unvisited.length) {
        const q = unvisited.pop();
        for (let j = succFirst[q]; j < succFirst[q + 1]; j++) {
          const s = succList[j];
          if (s !== r && !chain.has(s)) { chain.add(s); unvisited.push(s); }
        }
      }
    }
    describeSelection();
    draw();
  }

  // ---- drawing
  let densityCache = null, draws = 0, firstPaintMs = null, lastDrawMs = 0;
  const hatchPattern = (() => {
    const c = document.createElement("canvas"); c.width = c.height = 6;
    const g = c.getContext("2d"); g.strokeStyle = "rgba(0,0,0,0.45)"; g.lineWidth = 1;
    g.beginPath(); g.moveTo(0, 6); g.lineTo(6, 0); g.moveTo(-1, 1); g.lineTo(1, -1); g.moveTo(5, 7); g.lineTo(7, 5); g.stroke();
    return ctx.createPattern(c, "repeat");
  })();

  function resize() {
    W = Math.max(320, wrap.clientWidth);
    RIGHT = showRight && W > 700 ? 150 : 16;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(L.height * dpr);
    canvas.style.height = L.height + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    densityCache = null;
  }

  function draw() {
    const began = performance.now();
    ctx.clearRect(0, 0, W, L.height);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, L.height);
    const ticks = axisTicks();
    for (const name of ["tasks", "counts", "threads", "server"]) {
      if (!L[name]) continue;
      const [y, h] = L[name];
      ctx.strokeStyle = "#e4e4e4"; ctx.lineWidth = 1; ctx.beginPath();
      for (const t of ticks.at) { const x = Math.round(X(t)) + 0.5; ctx.moveTo(x, y); ctx.lineTo(x, y + h); }
      ctx.stroke();
    }
    clipTo(L.tasks, () => (DENSE ? drawDensity() : drawRows()));
    clipTo(L.tasks, drawLinks);
    if (L.counts) clipTo(L.counts, drawCounts);
    clipTo(L.threads, drawThreads);
    if (L.server) clipTo(L.server, drawServer);
    for (const name of ["tasks", "counts", "threads", "server"]) {
      if (!L[name]) continue;
      const [y, h] = L[name];
      ctx.strokeStyle = "#888"; ctx.lineWidth = 1; ctx.strokeRect(plotL + 0.5, y + 0.5, plotW() - 1, h - 1);
      if (D.wall_us >= t0 && D.wall_us <= t1) {
        ctx.save(); ctx.setLineDash([4, 3]); ctx.strokeStyle = "#555"; ctx.beginPath();
        const x = Math.round(X(D.wall_us)) + 0.5; ctx.moveTo(x, y); ctx.lineTo(x, y + h); ctx.stroke(); ctx.restore();
      }
    }
    drawLabels();
    drawAxis(ticks);
    document.getElementById("range").textContent =
      `showing ${fmtT(Math.max(0, t0))} – ${fmtT(t1)} (${fmtD(t1 - t0)} of ${fmtD(FULL)})`;
    draws++;
    lastDrawMs = performance.now() - began;
    if (firstPaintMs === null) firstPaintMs = performance.now();
  }

  function clipTo(lane, fn) {
    ctx.save(); ctx.beginPath(); ctx.rect(plotL, lane[0], plotW(), lane[1]); ctx.clip(); fn(); ctx.restore();
  }

  function band(r, colour) {
    ctx.fillStyle = colour; ctx.fillRect(plotL, L.tasks[0] + r * rowH, plotW(), Math.max(rowH, 1));
  }

  function drawRows() {
    if (sel >= 0) {
      chain.forEach(r => band(r, CHAIN_BAND));
      related.forEach(r => band(r, REL_BAND));
      band(sel, SEL_BAND);
    }
    const lo = t0, hi = t1;
    ctx.strokeStyle = "#9a9a9a"; ctx.lineWidth = 1; ctx.beginPath();
    for (let r = 0; r < N; r++) {
      if (tEnd[r] < lo || tStart[r] > hi) continue;
      const y = Math.round(rowYc(r)) + 0.5;
      ctx.moveTo(X(tStart[r]), y); ctx.lineTo(X(tEnd[r]), y);
    }
    ctx.stroke();
    for (const pass of [true, false]) {
      for (let r = 0; r < N; r++) {
        const yc = rowYc(r);
        for (let j = first[r]; j < first[r + 1]; j++) {
          const st = ST[sState[j]];
          if (st.encloses !== pass || sEnd[j] < lo || sStart[j] > hi) continue;
          const h = pass ? rowH * 0.92 : rowH * 0.6;
          let x0 = X(sStart[j]), x1 = X(sEnd[j]);
          x0 = Math.max(x0, plotL - 2); x1 = Math.min(x1, plotR() + 2);
          const w = Math.max(1, x1 - x0);
          ctx.fillStyle = st.colour; ctx.fillRect(x0, yc - h / 2, w, h);
          if (st.hatch) { ctx.fillStyle = hatchPattern; ctx.fillRect(x0, yc - h / 2, w, h); }
          if (st.edge && rowH >= 4) {
            ctx.strokeStyle = st.edge; ctx.lineWidth = 1; ctx.strokeRect(x0 + 0.5, yc - h / 2 + 0.5, Math.max(0, w - 1), h - 1);
          }
        }
      }
    }
    drawMarks(r => rowYc(r), Math.min(rowH * 0.8, 10));
    if (sel >= 0) {
      related.forEach(r => outline(r, "#2a6ad8", 1.5));
      outline(sel, SEL_LINE, 2);
    }
  }

  function outline(r, colour, w) {
    ctx.strokeStyle = colour; ctx.lineWidth = w;
    ctx.strokeRect(plotL + w / 2, L.tasks[0] + r * rowH + w / 2, plotW() - w, Math.max(rowH, 2) - w);
  }

  function drawMarks(yOf, size) {
    for (let r = 0; r < N; r++) {
      const o = T.outcome[r];
      if (!outcomeMarked[o] || tEnd[r] < t0 || tEnd[r] > t1) continue;
      mark(D.outcomes[o], X(tEnd[r]), yOf(r), Math.max(size, 3));
    }
  }

  function mark(o, x, y, s) {
    ctx.save(); ctx.strokeStyle = o.colour; ctx.fillStyle = o.colour; ctx.lineWidth = Math.max(1.2, s / 4);
    const h = s / 2;
    ctx.beginPath();
    if (o.marker === "X") { ctx.moveTo(x - h, y - h); ctx.lineTo(x + h, y + h); ctx.moveTo(x - h, y + h); ctx.lineTo(x + h, y - h); ctx.stroke(); }
    else if (o.marker === "|") { ctx.moveTo(x, y - h); ctx.lineTo(x, y + h); ctx.stroke(); }
    else if (o.marker === "v") { ctx.moveTo(x - h, y - h); ctx.lineTo(x + h, y - h); ctx.lineTo(x, y + h); ctx.closePath(); ctx.fill(); }
    else { ctx.moveTo(x, y - h); ctx.lineTo(x + h, y); ctx.lineTo(x, y + h); ctx.lineTo(x - h, y); ctx.closePath(); ctx.fill(); }
    ctx.restore();
  }

  // Rows binned into pixel-high groups; each cell's colour mixes the states
  // of its tasks over the cell's time (white: none running), as the PNG's
  // density view.  The mix is linear in the time each state covers, so it
  // is accumulated per colour channel with difference arrays: one pass over
  // the spans, one over the cells.
  function densityImage() {
    const key = `${t0}:${t1}:${W}`;
    if (densityCache && densityCache.key === key) return densityCache;
    const dpr = window.devicePixelRatio || 1;
    const C = Math.max(1, Math.round(plotW() * dpr)), G = Math.max(1, Math.min(N, Math.round(L.tasks[1] * dpr)));
    const group = new Int32Array(N), size = new Float64Array(G);
    for (let r = 0; r < N; r++) { group[r] = Math.floor(r * G / N); size[group[r]]++; }
    const stride = C + 1;
    const d = new Float32Array(3 * G * stride), a = new Float32Array(3 * G * stride);
    const cnt = new Float32Array(ST.length * stride), cntA = new Float32Array(ST.length * stride);
    const upx = (t1 - t0) / C;
    for (let r = 0; r < N; r++) {
      if (tEnd[r] < t0 || tStart[r] > t1) continue;
      const g = group[r], base = g * stride * 3, inv = 1 / size[g];
      for (let j = first[r]; j < first[r + 1]; j++) {
        const k = sState[j];
        if (ST[k].encloses) continue;
        let s = (sStart[j] - t0) / upx, e = (sEnd[j] - t0) / upx;
        if (e <= 0 || s >= C || e <= s) continue;
        s = Math.max(0, s); e = Math.min(C, e);
        const bs = Math.floor(s), be = Math.floor(e), fs = s - bs, fe = e - be;
        const c = rgb[k];
        for (let ch = 0; ch < 3; ch++) {
          const w = (1 - c[ch]) * inv, o = base + ch * stride;
          d[o + bs] += w; d[o + be] -= w; a[o + be] += w * fe; a[o + bs] -= w * fs;
        }
        const o = k * stride;
        cnt[o + bs] += 1; cnt[o + be] -= 1; cntA[o + be] += fe; cntA[o + bs] -= fs;
      }
    }
    const img = new ImageData(C, G), px = img.data;
    for (let g = 0; g < G; g++) {
      for (let ch = 0; ch < 3; ch++) {
        const o = (g * 3 + ch) * stride;
        let run = 0;
        for (let col = 0; col < C; col++) {
          run += d[o + col];
          const dark = Math.min(1, Math.max(0, run + a[o + col]));
          px[(g * C + col) * 4 + ch] = Math.round(255 * (1 - dark));
        }
      }
      for (let col = 0; col < C; col++) px[(g * C + col) * 4 + 3] = 255;
    }
    const counts = [];
    for (let k = 0; k < ST.length; k++) {
      if (ST[k].encloses || !present[k]) { counts.push(null); continue; }
      const o = k * stride, out = new Float32Array(C);
      let run = 0, any = false;
      for (let col = 0; col < C; col++) { run += cnt[o + col]; out[col] = Math.max(0, run + cntA[o + col]); if (out[col] > 0) any = true; }
      counts.push(any ? out : null);
    }
    const off = document.createElement("canvas"); off.width = C; off.height = G;
    off.getContext("2d").putImageData(img, 0, 0);
    densityCache = {key, canvas: off, counts, C};
    return densityCache;
  }

  function drawDensity() {
    const img = densityImage();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img.canvas, plotL, L.tasks[0], plotW(), L.tasks[1]);
    drawMarks(r => rowYc(r), 3);
    if (sel >= 0) {
      const line = (r, colour, w) => {
        ctx.strokeStyle = colour; ctx.lineWidth = w; ctx.beginPath();
        const y = rowYc(r);
        ctx.moveTo(plotL, y); ctx.lineTo(plotR(), y); ctx.stroke();
      };
      // not the rest of the chain: under a lock it is every task
      related.forEach(r => line(r, "rgba(40,90,200,0.9)", 1.5));
      // yellow under black dashes: seen over any state's colour
      line(sel, "#ffe600", 5);
      ctx.save(); ctx.setLineDash([6, 4]); line(sel, "#000", 1.5); ctx.restore();
      // the selected task's own spans, thick, framed in the line's yellow
      const y = rowYc(sel);
      ctx.fillStyle = "#ffe600";
      ctx.fillRect(X(tStart[sel]) - 2, y - 7, X(tEnd[sel]) - X(tStart[sel]) + 4, 14);
      for (let j = first[sel]; j < first[sel + 1]; j++) {
        const st = ST[sState[j]];
        if (st.encloses) continue;
        ctx.fillStyle = st.colour;
        ctx.fillRect(X(sStart[j]), y - 4, Math.max(1, X(sEnd[j]) - X(sStart[j])), 8);
      }
    }
  }

  function drawCounts() {
    const img = densityImage(), [y, h] = L.counts, C = img.C, pw = plotW() / C;
    const acc = new Float32Array(C), scale = h * 0.95 / N;
    for (let k = 0; k < ST.length; k++) {
      const c = img.counts[k];
      if (!c) continue;
      ctx.fillStyle = ST[k].colour;
      for (let col = 0; col < C; col++) {
        if (c[col] <= 0) continue;
        ctx.fillRect(plotL + col * pw, y + h - (acc[col] + c[col]) * scale, pw + 0.3, c[col] * scale);
        acc[col] += c[col];
      }
    }
  }

  function drawLinks() {
    if (!D.waited_on) return;
    const all = !DENSE && N <= 60;
    for (let r = 0; r < N; r++) {
      if (pred[r] < 0) continue;
      const strong = sel >= 0 && (r === sel || pred[r] === sel);
      const inChain = !DENSE && sel >= 0 && (chain.has(r) || r === sel) && (chain.has(pred[r]) || pred[r] === sel);
      if (!strong && !all && !inChain) continue;
      const kind = D.links[predKind[r]];
      const colour = LINK_COLOURS[kind] || OTHER_LINK;
      arrow(X(predAt[r]), rowYc(pred[r]), X(landing(r)), rowYc(r), colour,
            strong ? 1 : inChain ? 0.6 : 0.35, strong ? 2 : 1.2);
    }
  }

  function arrow(x0, y0, x1, y1, colour, alpha, width) {
    ctx.save(); ctx.globalAlpha = alpha; ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = width;
    const bend = Math.min(40, Math.abs(y1 - y0) * 0.5) + 6;
    const cx = Math.max(x0, x1) + bend, cy = (y0 + y1) / 2;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.quadraticCurveTo(cx, cy, x1, y1); ctx.stroke();
    const ang = Math.atan2(y1 - cy, x1 - cx), s = 6 + width;
    ctx.beginPath(); ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - s * Math.cos(ang - 0.45), y1 - s * Math.sin(ang - 0.45));
    ctx.lineTo(x1 - s * Math.cos(ang + 0.45), y1 - s * Math.sin(ang + 0.45));
    ctx.closePath(); ctx.fill(); ctx.restore();
  }

  // a step function [t0, n0, t1, n1, ...] as a path over the visible range
  function stepPath(flat, yOf, close) {
    const n = flat.length / 2;
    let i = 0, lo = 0, hi = n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (flat[2 * m] < t0) lo = m + 1; else hi = m; }
    i = Math.max(0, lo - 1);
    ctx.beginPath();
    let x = plotL - 1, y = yOf(0);
    ctx.moveTo(x, yOf(0));
    if (n && flat[0] > t0) ctx.lineTo(X(flat[0]), y);
    // many steps in one pixel column become one vertical stroke over
    // their range: 200,000 samples cost a few thousand segments
    let col = NaN, vlo = 0, vhi = 0;
    const flush = () => { if (col === col) { ctx.lineTo(col, yOf(vlo)); ctx.lineTo(col, yOf(vhi)); ctx.lineTo(col, y); } };
    for (; i < n; i++) {
      const xi = Math.max(plotL - 1, X(flat[2 * i])), v = flat[2 * i + 1];
      const c = Math.round(xi);
      if (c !== col) { flush(); ctx.lineTo(c, y); col = c; vlo = vhi = v; }
      else { vlo = Math.min(vlo, v); vhi = Math.max(vhi, v); }
      y = yOf(v);
      if (flat[2 * i] > t1) break;
    }
    flush();
    ctx.lineTo(plotR() + 1, y);
    if (close) { ctx.lineTo(plotR() + 1, yOf(0)); ctx.closePath(); }
  }

  function drawThreads() {
    const [y, h] = L.threads, top = threadTop * 1.15 + 0.5, yOf = v => y + h - v * h / top;
    const unit = h / top;
    // lifetimes in start order; in each slot, bars less than a pixel apart
    // are drawn as one (100,000 threads would be 100,000 rectangles)
    const runA = new Float64Array(nslots).fill(NaN), runB = new Float64Array(nslots);
    const bar = (k, a, b) => {
      const y0 = yOf(TH.baseline + k + 0.85);
      ctx.fillStyle = LIFETIME; ctx.fillRect(a, y0, Math.max(1, b - a), unit * 0.7);
      if (unit > 5) { ctx.strokeStyle = LIFETIME_EDGE; ctx.lineWidth = 1; ctx.strokeRect(a, y0, Math.max(1, b - a), unit * 0.7); }
    };
    for (const i of thOrder) {
      const k = slot[i];
      if (k < 0 || thEnd[i] < t0 || thStart[i] > t1) continue;
      const a = X(thStart[i]), b = Math.max(a + 1, X(thEnd[i]));
      if (runA[k] === runA[k] && a <= runB[k] + 1 && unit <= 5) { runB[k] = Math.max(runB[k], b); continue; }
      if (runA[k] === runA[k]) bar(k, runA[k], runB[k]);
      runA[k] = a; runB[k] = b;
    }
    for (let k = 0; k < nslots; k++) if (runA[k] === runA[k]) bar(k, runA[k], runB[k]);
    if (sel >= 0 && threadsOf.has(sel)) {
      for (const i of threadsOf.get(sel)) {
        if (slot[i] < 0) continue;
        const y0 = yOf(TH.baseline + slot[i] + 0.85), x0 = X(thStart[i]);
        ctx.fillStyle = "#fb6a4a"; ctx.fillRect(x0, y0, Math.max(1, X(thEnd[i]) - x0), unit * 0.7);
      }
    }
    ctx.strokeStyle = "#1b2a3a"; ctx.lineWidth = 1.3;
    stepPath(TH.samples, yOf, false); ctx.stroke();
    ctx.fillStyle = CREATE;
    let last = -Infinity;       // one tick per pixel column is enough
    for (const i of thOrder) {
      if (thStart[i] < t0 || thStart[i] > t1) continue;
      const x = Math.round(X(thStart[i]));
      if (x !== last) { ctx.fillRect(x - 0.5, y + h - 5, 1.5, 5); last = x; }
    }
    if (sel >= 0 && threadsOf.has(sel)) {
      ctx.fillStyle = SEL_LINE;
      for (const i of threadsOf.get(sel)) ctx.fillRect(X(thStart[i]) - 1, y, 2, h);
    }
    ctx.strokeStyle = "#777"; ctx.setLineDash([2, 2]); ctx.beginPath();
    ctx.moveTo(plotL, Math.round(yOf(TH.baseline)) + 0.5); ctx.lineTo(plotR(), Math.round(yOf(TH.baseline)) + 0.5); ctx.stroke();
    ctx.setLineDash([]);
  }

  function drawServer() {
    const [y, h] = L.server, top = serverTop * 1.2 + 0.5, yOf = v => y + h - v * h / top;
    ctx.fillStyle = "#c6dbef"; stepPath(SV.in_service, yOf, true); ctx.fill();
    ctx.strokeStyle = "#08519c"; ctx.lineWidth = 1.3; stepPath(SV.in_service, yOf, false); ctx.stroke();
    if (SV.queued) { ctx.strokeStyle = "#d94801"; ctx.lineWidth = 1.6; stepPath(SV.queued, yOf, false); ctx.stroke(); }
    if (SV.capacity != null) {
      ctx.save(); ctx.setLineDash([5, 3]); ctx.strokeStyle = "#08519c"; ctx.lineWidth = 1; ctx.beginPath();
      ctx.moveTo(plotL, yOf(SV.capacity)); ctx.lineTo(plotR(), yOf(SV.capacity)); ctx.stroke(); ctx.restore();
    }
  }

  function drawLabels() {
    ctx.fillStyle = "#333"; ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    if (!DENSE && rowH >= 9) {
      for (let r = 0; r < N; r++) {
        ctx.fillStyle = r === sel ? SEL_LINE : "#333";
        ctx.fillText(String(T.id[r]) + (D.keys > 1 ? ` · k${T.key[r]}` : ""), plotL - 5, rowYc(r));
      }
    }
    if (RIGHT > 16 && rowH >= 9) {
      ctx.textAlign = "left";
      for (let r = 0; r < N; r++) {
        ctx.fillStyle = "#555";
        const w = T.wait ? (T.wait[r] >= 0 ? `wait ${fmtD(T.wait[r])} · ` : "") : "";
        ctx.fillText(w + D.outcomes[T.outcome[r]].name, plotR() + 5, rowYc(r));
      }
    }
    ctx.textAlign = "right"; ctx.fillStyle = "#222"; ctx.font = "bold 11px system-ui, sans-serif";
    const side = (lane, text, sub) => {
      const [y, h] = lane;
      ctx.save(); ctx.translate(12, y + h / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center";
      ctx.fillText(text, 0, 0);
      if (sub) { ctx.font = "10px system-ui, sans-serif"; ctx.fillStyle = "#666"; ctx.fillText(sub, 0, 12); }
      ctx.restore();
    };
    side(L.tasks, DENSE ? `tasks (${N.toLocaleString("en")}, binned)` : "tasks");
    if (L.counts) side(L.counts, "by state");
    side(L.threads, "threads", `peak ${threadTop}`);
    if (L.server) side(L.server, "server", `top ${serverTop}`);
    ctx.font = "10px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.fillStyle = "#555";
    const note = (lane, text) => {
      ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(plotL + 2, lane[0] + 2, ctx.measureText(text).width + 8, 14);
      ctx.fillStyle = "#555"; ctx.fillText(text, plotL + 6, lane[0] + 9);
    };
    note(L.threads, `live threads (line) · lifetimes (bars) · ${NT.toLocaleString("en")} created (ticks)`);
    if (L.server) note(L.server, "in service (blue)" + (SV.queued ? " · queued (orange)" : "") +
                       (SV.capacity != null ? ` · capacity ${SV.capacity} (dashed)` : ""));
    if (L.counts) note(L.counts, "tasks in each state");
  }

  function axisTicks() {
    const span = t1 - t0, want = Math.max(2, plotW() / 110), raw = span / want;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = 10 * p;
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) { step = m * p; break; }
    const at = [];
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) if (t >= 0) at.push(t);
    // the unit suits the times shown (200.65 ms, not 200650 µs); the
    // decimals, the step (one more for a step of 2.5)
    const big = Math.max(Math.abs(t0), Math.abs(t1));
    const unit = big < 1000 ? ["µs", 1] : big < 1e6 ? ["ms", 1e3] : ["s", 1e6];
    const u = step / unit[1], e = Math.floor(Math.log10(u) + 1e-9);
    const dec = Math.min(6, Math.max(0, -e + (Math.abs(u / Math.pow(10, e) - 2.5) < 1e-6 ? 1 : 0)));
    return {at, unit, dec};
  }

  function drawAxis(ticks) {
    const y = L.axis[0];
    ctx.strokeStyle = "#444"; ctx.fillStyle = "#222"; ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "center"; ctx.textBaseline = "top"; ctx.beginPath();
    for (const t of ticks.at) {
      const x = Math.round(X(t)) + 0.5;
      ctx.moveTo(x, y); ctx.lineTo(x, y + 4);
      ctx.fillText(`${(t / ticks.unit[1]).toFixed(ticks.dec)} ${ticks.unit[0]}`, x, y + 6);
    }
    ctx.stroke();
    ctx.fillStyle = "#555"; ctx.textAlign = "right";
    ctx.fillText("time since start", plotR(), y + 20);
  }

  // ---- words
  function fmtT(us) {
    us = Math.max(0, us);
    if (us < 1000) return `${us.toFixed(0)} µs`;
    if (us < 1e6) return `${trim((us / 1e3).toFixed(3))} ms`;
    return `${trim((us / 1e6).toFixed(6))} s`;
  }
  function fmtD(us) {
    if (us < 1000) return `${us.toFixed(0)} µs`;
    if (us < 1e6) return `${Number((us / 1e3).toPrecision(4))} ms`;
    return `${Number((us / 1e6).toPrecision(4))} s`;
  }
  function trim(s) { return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s; }
  function taskName(r) { return `task ${T.id[r]}`; }

  function taskLines(r) {
    const out = [];
    out.push(`outcome ${D.outcomes[T.outcome[r]].name}` + (T.wait && T.wait[r] >= 0 ? ` · wait ${fmtD(T.wait[r])}` : ""));
    if (pred[r] >= 0) out.push(`waited on ${taskName(pred[r])} (${D.links[predKind[r]]} at ${fmtT(predAt[r])})`);
    const ns = succFirst[r + 1] - succFirst[r];
    if (ns) out.push(ns === 1 ? `${taskName(succList[succFirst[r]])} waited on it (${D.links[predKind[succList[succFirst[r]]]]})`
                              : `${ns} tasks waited on it`);
    if (errRow.has(r)) {
      const i = errRow.get(r), E = D.errors;
      out.push(`error: ${E.stage[i]}${E.http[i] != null ? ` (HTTP ${E.http[i]})` : ""}: ${E.message[i]}`);
    }
    if (threadsOf.has(r)) out.push(`started ${threadsOf.get(r).length === 1 ? "a resolver thread" : threadsOf.get(r).length + " threads"}`);
    return out;
  }

  function describeSelection() {
    const el = document.getElementById("selection");
    if (sel < 0) { el.textContent = "Click a task to highlight the tasks linked to it."; return; }
    const bits = [`Selected ${taskName(sel)} (key ${T.key[sel]}), ${fmtT(tStart[sel])} – ${fmtT(tEnd[sel])}: ` + taskLines(sel).join("; ") + "."];
    if (chain.size) {
      const list = [...chain].sort((a, b) => a - b).map(r => T.id[r]);
      bits.push(`Linked by waited_on (yellow: it; blue: its predecessor and successors; pale: the rest of the chain): ` +
                (list.length > 30 ? `${list.length} tasks` : `tasks ${list.join(", ")}`) + ".");
    } else if (D.waited_on || D.links.length) bits.push("No task is linked to it.");
    else bits.push("This report has no waited_on links (an older fetchbench).");
    el.textContent = bits.join("\n") + "  (Esc clears.)";
  }

  // ---- hit testing
  function rowAt(y) {
    const r = Math.floor((y - L.tasks[0]) / rowH);
    return y >= L.tasks[0] && y < L.tasks[0] + L.tasks[1] && r >= 0 && r < N ? r : -1;
  }
  function spanAt(r, t) {
    const tol = 3 * (t1 - t0) / plotW();
    let best = -1, bestD = Infinity, outer = -1;
    for (let j = first[r]; j < first[r + 1]; j++) {
      if (ST[sState[j]].encloses) { if (sStart[j] <= t && t <= sEnd[j]) outer = j; continue; }
      const d = t < sStart[j] ? sStart[j] - t : t > sEnd[j] ? t - sEnd[j] : 0;
      if (d <= tol && d <= bestD) { best = j; bestD = d; }
    }
    return best >= 0 ? best : outer;
  }
  function samplesAt(flat, t) {
    let v = 0;
    for (let i = 0; i < flat.length && flat[i] <= t; i += 2) v = flat[i + 1];
    return v;
  }
  function hover(x, y) {
    if (x < plotL || x > plotR()) return null;
    const t = Tx(x), r = rowAt(y);
    if (r >= 0) {
      const j = spanAt(r, t);
      const lines = [`${taskName(r)}${D.keys > 1 ? ` · key ${T.key[r]}` : ""}` + (j >= 0 ? ` · ${ST[sState[j]].name}` : "")];
      if (j >= 0) lines.push(`start ${fmtT(sStart[j])} · end ${fmtT(sEnd[j])} · ${fmtD(sEnd[j] - sStart[j])}`);
      else lines.push(`life ${fmtT(tStart[r])} – ${fmtT(tEnd[r])} · ${fmtD(tEnd[r] - tStart[r])}`);
      return lines.concat(taskLines(r));
    }
    const inLane = lane => lane && y >= lane[0] && y < lane[0] + lane[1];
    if (inLane(L.threads)) {
      const tol = 3 * (t1 - t0) / plotW();
      const lines = [`at ${fmtT(t)}: ${samplesAt(TH.samples, t)} live threads`];
      let near = -1;
      for (let i = 0; i < NT; i++) if (thStart[i] - tol <= t && t <= thEnd[i] + tol) { near = i; break; }
      if (near >= 0) {
        lines.push(`thread ${fmtT(thStart[near])} – ${fmtT(thEnd[near])} · ${fmtD(thEnd[near] - thStart[near])}` +
                   (TH.task && TH.task[near] >= 0 ? ` · ${taskName(TH.task[near])}'s name lookup` : ""));
      }
      return lines;
    }
    if (inLane(L.server)) {
      return [`at ${fmtT(t)}: ${samplesAt(SV.in_service, t)} requests in service` +
              (SV.queued ? `, ${samplesAt(SV.queued, t)} queued` : "")];
    }
    return null;
  }

  // ---- interaction
  function clampView(a, b) {
    let w = Math.min(FULL * 1.1, Math.max(2, b - a));
    if (a < -0.05 * FULL) a = -0.05 * FULL;
    if (a + w > FULL * 1.05) a = FULL * 1.05 - w;
    t0 = a; t1 = a + w;
  }
  function zoom(factor, atX) {
    const c = atX == null ? (t0 + t1) / 2 : Tx(atX);
    clampView(c - (c - t0) * factor, c + (t1 - c) * factor); draw();
  }
  function pan(frac) { const w = t1 - t0; clampView(t0 + frac * w, t1 + frac * w); draw(); }
  function reset() { t0 = 0; t1 = FULL; draw(); }
  // zoom onto the waited_on links of the selection's chain (all links when
  // none is selected): the lock's hand-off cascade is microseconds wide
  function fitLinks() {
    let a = Infinity, b = -Infinity;
    for (let r = 0; r < N; r++) {
      if (pred[r] < 0 || (sel >= 0 && r !== sel && !chain.has(r))) continue;
      a = Math.min(a, predAt[r]); b = Math.max(b, landing(r));
    }
    if (a > b) return;
    const pad = Math.max((b - a) * 0.15, 20);
    clampView(a - pad, b + pad); draw();
  }

  const local = e => { const b = canvas.getBoundingClientRect(); return [e.clientX - b.left, e.clientY - b.top]; };
  let drag = null;
  canvas.addEventListener("wheel", e => {
    e.preventDefault();
    const [x] = local(e);
    zoom(Math.exp(Math.max(-3, Math.min(3, e.deltaY * 0.002))), x);
  }, {passive: false});
  canvas.addEventListener("mousedown", e => { drag = {x: local(e)[0], a: t0, b: t1, moved: false}; });
  window.addEventListener("mousemove", e => {
    const [x, y] = local(e);
    if (drag && (e.buttons & 1)) {
      if (Math.abs(x - drag.x) > 3) drag.moved = true;
      if (drag.moved) {
        canvas.classList.add("drag");
        const dt = (x - drag.x) * (drag.b - drag.a) / plotW();
        clampView(drag.a - dt, drag.b - dt); draw();
      }
      tip.hidden = true;
      return;
    }
    if (e.target !== canvas) { tip.hidden = true; return; }
    const lines = hover(x, y);
    if (!lines) { tip.hidden = true; return; }
    tip.textContent = lines.join("\n"); tip.hidden = false;
    const tw = tip.offsetWidth;
    tip.style.left = (x + 14 + tw > W ? Math.max(0, x - 14 - tw) : x + 14) + "px";
    tip.style.top = (y + 14) + "px";
  });
  window.addEventListener("mouseup", e => {
    const d = drag; drag = null; canvas.classList.remove("drag");
    if (!d || d.moved || e.target !== canvas) return;
    const [x, y] = local(e);
    if (x < plotL - LEFT || x > plotR()) return;
    const r = rowAt(y);
    if (r >= 0) select(r === sel ? -1 : r);
  });
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
  document.getElementById("zin").addEventListener("click", () => zoom(0.5));
  document.getElementById("zout").addEventListener("click", () => zoom(2));
  document.getElementById("zreset").addEventListener("click", reset);
  const fit = document.getElementById("zlinks");
  if (D.waited_on) fit.addEventListener("click", fitLinks); else fit.hidden = true;
  document.addEventListener("keydown", e => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key;
    if (k === "+" || k === "=") zoom(0.5);
    else if (k === "-" || k === "_") zoom(2);
    else if (k === "0") reset();
    else if (k === "f") fitLinks();
    else if (k === "ArrowLeft") pan(-0.2);
    else if (k === "ArrowRight") pan(0.2);
    else if (k === "Escape") select(-1);
    else return;
    e.preventDefault();
  });
  window.addEventListener("resize", () => { resize(); draw(); });

  // ---- header: details and the legend of what this run shows
  document.getElementById("details").textContent = D.details;
  document.getElementById("which").textContent = D.which;
  const legend = document.getElementById("legend");
  ST.forEach((s, k) => {
    if (!present[k]) return;
    const i = document.createElement("i");
    i.style.backgroundColor = s.colour; if (s.edge) i.style.borderColor = s.edge;
    if (s.hatch) i.className = "hatch";
    const sp = document.createElement("span"); sp.append(i, s.label); legend.append(sp);
  });
  const seenOutcomes = new Set(T.outcome);
  D.outcomes.forEach((o, k) => {
    if (o.ok || !seenOutcomes.has(k)) return;
    const b = document.createElement("b"); b.style.color = o.colour;
    b.textContent = {X: "✕", "|": "|", v: "▼"}[o.marker] || "◆";
    const sp = document.createElement("span"); sp.append(b, o.name.replace(/_/g, " ")); legend.append(sp);
  });
  if (D.waited_on) {
    const kinds = new Set(D.waited_on.kind);
    D.links.forEach((name, k) => {
      if (!kinds.has(k)) return;
      const b = document.createElement("b"); b.style.color = LINK_COLOURS[name] || OTHER_LINK; b.textContent = "↷";
      const sp = document.createElement("span"); sp.append(b, `waited on: ${name}`); legend.append(sp);
    });
  }

  resize();
  describeSelection();
  draw();
  window.fbview = {
    ready: true, view: DENSE ? "density" : "rows", tasks: N,
    firstPaintMs, draws: () => draws, lastDrawMs: () => lastDrawMs,
    rowY: r => canvas.getBoundingClientRect().top + rowYc(r),
    timeX: t => canvas.getBoundingClientRect().left + X(t),
    range: () => [t0, t1],
    setRange: (a, b) => { clampView(a, b); draw(); },
    selected: () => (sel >= 0 ? T.id[sel] : null),
    related: () => [...related].map(r => T.id[r]).sort((a, b) => a - b),
    chain: () => [...chain].map(r => T.id[r]).sort((a, b) => a - b),
  };

  function hexRgb(h) {
    const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(h) || [0, "cc", "cc", "cc"];
    return [parseInt(m[1], 16) / 255, parseInt(m[2], 16) / 255, parseInt(m[3], 16) / 255];
  }
})();
