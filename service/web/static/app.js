"use strict";
// procure planner page: plain JavaScript, no outside requests; every text from the server is inserted as text.
// app.js: state, requests, tabs, language, plots and tables; plan.js, ask.js and sweeps.js build on it.

const state = {
  lang: "en", tab: "ask", plan: null, view: null, request: null, citations: [], sessionId: null, figures: {},
  apiKey: null, badge: null, compare: [], previousChatPlan: null, jobSpec: null, drawn: null, compareTicket: 0,
};
const PLAN_TABS = ["ask", "plan"];  // the plan view belongs to these tabs and is hidden under the others

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function askForKey() {
  const key = window.prompt(t("key_prompt"));
  if (key) {
    state.apiKey = key.trim();
    try { sessionStorage.setItem("procure-key", state.apiKey); } catch (_) { /* storage off */ }
  }
}

function authHeaders(headers) {
  // Where the service requires API keys (a non-loopback bind), the page sends the key the user saved.
  if (state.apiKey) headers["X-API-Key"] = state.apiKey;
  return headers;
}

async function api(method, path, body) {
  const opts = { method, headers: authHeaders({}) };
  if (body !== undefined) { opts.headers["content-type"] = "application/json"; opts.body = JSON.stringify(body); }
  const resp = await fetch(path, opts);
  const type = resp.headers.get("content-type") || "";
  const payload = type.includes("json") ? await resp.json() : await resp.text();
  if (!resp.ok) {
    const detail = typeof payload === "object" ? (payload.detail || payload.title || JSON.stringify(payload)) : payload;
    if (resp.status === 401) askForKey();
    throw new Error(`${resp.status}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  return payload;
}

// ---- language -----------------------------------------------------------------------------------------------

function setLang(lang) {
  state.lang = lang.startsWith("zh") ? "zh" : "en";
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  for (const b of document.querySelectorAll(".lang button")) {
    const on = b.dataset.lang === state.lang;
    b.classList.toggle("active", on);
    b.setAttribute("aria-pressed", String(on));
  }
  try { localStorage.setItem("procure-lang", state.lang); } catch (_) { /* private mode */ }
  loadBadge();
  if (state.plan) renderPlan(state.plan);
  if (typeof renderCompare === "function") renderCompare();
}

// ---- tabs (WAI-ARIA tabs: arrow keys, Home and End move between them) --------------------------------------

function tabButtons() { return Array.from(document.querySelectorAll("nav [role=tab]")); }

function showTab(name, focus) {
  state.tab = name;
  document.body.dataset.tab = name;
  for (const b of tabButtons()) {
    const on = b.dataset.tab === name;
    b.classList.toggle("active", on);
    b.setAttribute("aria-selected", String(on));
    b.tabIndex = on ? 0 : -1;
    if (on && focus) b.focus();
  }
  for (const s of document.querySelectorAll(".tab")) {
    const on = s.id === "tab-" + name;
    s.classList.toggle("active", on);
    s.hidden = !on;
  }
  document.getElementById("plan-view").hidden = !(state.plan && PLAN_TABS.includes(name));
  resizePlots();
}

function onTabKey(ev) {
  const tabs = tabButtons();
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
  if (next === undefined) return;
  ev.preventDefault();
  showTab(tabs[(next + tabs.length) % tabs.length].dataset.tab, true);
}

// ---- plots: plotly.js loads after the page (it is 4.6 MB to parse); sized by their container ----------------

let plotlyLoading = null;

// plotly.js, served by this app (no CDN), fetched once: after the page has loaded, or by the first plot.
function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = el("script", null, { src: "/static/vendor/plotly.min.js" });
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { plotlyLoading = null; reject(new Error("plotly.js did not load")); };
      document.head.appendChild(script);
    });
  }
  return plotlyLoading;
}

const plotObserver = typeof ResizeObserver === "function" ? new ResizeObserver((entries) => {
  for (const e of entries) if (window.Plotly && e.target.offsetParent !== null && e.target.data) Plotly.Plots.resize(e.target);
}) : null;

async function plot(id, fig) {
  const node = document.getElementById(id);
  if (!node || !fig) return;
  state.figures[id] = fig;
  const title = fig.layout && fig.layout.title ? fig.layout.title.text : "";
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", title || id);
  await loadPlotly();
  if (state.figures[id] !== fig) return;  // a newer figure was asked for meanwhile
  const layout = Object.assign({}, fig.layout);
  if (node.clientWidth && node.clientWidth < 480) {  // phones: room for the plot, smaller title, legend rows below
    layout.margin = Object.assign({}, layout.margin, { l: 48, r: (layout.margin && layout.margin.r > 30) ? 48 : 12 });
    layout.title = Object.assign({}, layout.title, { font: { size: 14 } });
    const entries = fig.data.filter((d) => d.showlegend !== false && d.name && d.type !== "heatmap").length;
    if (entries > 2) layout.height = (fig.layout.height || 340) + 22 * entries;
  }
  Plotly.react(node, fig.data, layout, {
    responsive: true, displaylogo: false, displayModeBar: window.innerWidth > 600 ? "hover" : false,
  });
  if (plotObserver) plotObserver.observe(node);
}

function clearPlot(id) {
  const node = document.getElementById(id);
  delete state.figures[id];
  if (node && node.data && window.Plotly) Plotly.purge(node);
}

function resizePlots() {
  if (!window.Plotly) return;
  for (const node of document.querySelectorAll(".plot")) {
    if (node.data && node.offsetParent !== null) Plotly.Plots.resize(node);
  }
}

// ---- tables: header cells are buttons (keyboard sortable); on phones each row reads as a card ----------------

function table(node, columns, rows, rowClass) {
  node.replaceChildren();
  const thead = el("thead");
  const head = el("tr");
  columns.forEach((c, i) => {
    const th = el("th", null, { scope: "col" });
    if (node.classList.contains("sortable")) {
      const b = el("button", c.label, { type: "button", "data-col": String(i) });
      th.appendChild(b);
    } else th.textContent = c.label;
    if (c.numeric) th.classList.add("num");
    head.appendChild(th);
  });
  thead.appendChild(head);
  const tbody = el("tbody");
  for (const row of rows) {
    const tr = el("tr");
    if (rowClass) { const cls = rowClass(row); if (cls) tr.className = cls; }
    columns.forEach((c) => {
      const value = c.render(row);
      const td = el("td", value instanceof Node ? null : value, { "data-label": c.label });
      if (value instanceof Node) td.appendChild(value);
      const key = c.sort ? c.sort(row) : null;
      td.dataset.sort = key === null || key === undefined ? td.textContent : String(key);
      if (c.numeric) td.classList.add("num");
      if (td.textContent === "—") td.classList.add("na");  // unknown: left out of a phone's card
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }
  node.append(thead, tbody);
}

function makeSortable(node) {
  node.addEventListener("click", (ev) => {
    const b = ev.target.closest("th button");
    if (!b) return;
    const col = Number(b.dataset.col);
    const asc = node.dataset.sortCol === String(col) ? node.dataset.sortDir !== "asc" : true;
    node.dataset.sortCol = String(col); node.dataset.sortDir = asc ? "asc" : "desc";
    for (const th of node.querySelectorAll("th")) th.removeAttribute("aria-sort");
    b.parentElement.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const body = node.querySelector("tbody");
    const rows = Array.from(body.querySelectorAll("tr"));
    rows.sort((a, c) => {
      const x = a.children[col].dataset.sort, y = c.children[col].dataset.sort;
      const nx = parseFloat(x), ny = parseFloat(y);
      if (isNaN(nx) !== isNaN(ny)) return isNaN(nx) ? 1 : -1;  // unknown values last, either way
      const cmp = !isNaN(nx) ? nx - ny : x.localeCompare(y);
      return asc ? cmp : -cmp;
    });
    for (const r of rows) body.appendChild(r);
  });
}

// ---- the "data as of" badge -----------------------------------------------------------------------------------

async function loadBadge() {
  const node = document.getElementById("data-badge");
  try {
    const badge = await api("GET", `/v1/web/data-status?lang=${state.lang}`);
    state.badge = badge;
    node.textContent = badge.text;
    node.title = badge.detail;
    node.setAttribute("aria-label", `${badge.text}. ${badge.detail}`);
    node.classList.toggle("stale", Boolean(badge.stale));
  } catch (err) { node.textContent = ""; }
}

// ---- start ----------------------------------------------------------------------------------------------------

function init() {
  try { state.apiKey = sessionStorage.getItem("procure-key"); } catch (_) { state.apiKey = null; }
  let lang = "en";
  try { lang = localStorage.getItem("procure-lang") || navigator.language || "en"; } catch (_) { lang = navigator.language || "en"; }
  document.getElementById("plan-date").value = localIsoDate();
  for (const b of tabButtons()) b.addEventListener("click", () => showTab(b.dataset.tab));
  document.querySelector("nav").addEventListener("keydown", onTabKey);
  for (const b of document.querySelectorAll(".lang button")) b.addEventListener("click", () => setLang(b.dataset.lang));
  initPlan();
  initAsk();
  initSweeps();
  setLang(lang);
  showTab("ask");
}

document.addEventListener("DOMContentLoaded", init);
window.addEventListener("load", () => { setTimeout(() => loadPlotly().catch(() => {}), 0); });
