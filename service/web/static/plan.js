"use strict";
// plan.js: the Plan form, the plan view (worded by the server in the chosen language) and the compare view.

function formRequest(form) {
  const f = new FormData(form);
  const kind = f.get("workload");
  const size = String(f.get("params") || "").trim();
  const work = { kind, name: kind };
  if (/^[\d.,]+\s*(k|m|b|t|万|亿|万亿)?$/i.test(size)) work.params = size; else work.model = size;
  if (kind === "inference") work.requests_per_s = Number(f.get("requests_per_s") || 0);
  else work.tokens = String(f.get("tokens") || "").trim();
  if (f.get("deadline_days")) work.deadline_days = Number(f.get("deadline_days"));
  const request = {
    workloads: [work],
    buyer: { country: String(f.get("country") || "CN").toUpperCase(), kind: f.get("kind"), date: f.get("date") || localIsoDate() },
    objective: f.get("objective"),
    policy: {
      vendor_deny: String(f.get("vendor_deny") || "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean),
      min_domestic_share: Number(f.get("min_domestic_share") || 0) / 100,
    },
    alternatives: 3,
    pareto: true,
  };
  if (f.get("budget")) request.budget = { amount: String(f.get("budget")).trim(), currency: f.get("currency") };
  // The stack today prices porting and the ramp into today's plan (and into the hedge when one is asked for).
  if (f.get("current_stack")) request.current_stack = f.get("current_stack");
  if (f.get("hedge")) request.risk = { objective: f.get("risk_objective") || "on_time" };
  return request;
}

async function submitPlan(ev) {
  ev.preventDefault();
  const errBox = document.getElementById("plan-error");
  const button = document.getElementById("plan-submit");
  try {
    state.request = formRequest(ev.target);
    errBox.textContent = state.request.risk ? t("hedging") : t("working");
    button.disabled = true;
    state.citations = [];
    const path = state.request.risk ? "/v1/recommendations/hedged" : "/v1/recommendations";
    const plan = await api("POST", `${path}?lang=${state.lang}`, state.request);
    errBox.textContent = "";
    state.planSource = "form";
    await renderPlan(plan);
  } catch (err) { errBox.textContent = err.message; } finally { button.disabled = false; }
}

// ---- the plan view ------------------------------------------------------------------------------------------

// The buyer block the plan view reads the buyer's date and country from: the form's request has one; the chat's
// flat request (buyer_country, buyer_kind, date) is turned into one.
function requestForView(request) {
  if (!request || request.buyer) return request || null;
  return { buyer: { country: request.buyer_country, kind: request.buyer_kind, date: request.date } };
}

async function renderPlan(plan) {
  state.plan = plan;
  const view = await api("POST", `/v1/web/plan-view?lang=${state.lang}`, { plan, request: requestForView(state.request) });
  if (state.plan !== plan) return;  // a newer plan arrived meanwhile
  state.view = view;
  await renderView(view);
  state.drawn = view;  // text and plots of this plan are on the page
  return view;
}

function fillList(id, items, render) {
  const node = document.getElementById(id);
  node.replaceChildren(...items.map(render));
  return node;
}

// Resolves when the plots are drawn.
function renderView(v) {
  const box = document.getElementById("plan-view");
  box.hidden = !PLAN_TABS.includes(state.tab);
  const head = v.headline;
  const status = document.getElementById("plan-status");
  status.textContent = head.status_text;
  status.className = "pill " + (head.ok ? "ok" : "bad");
  document.getElementById("plan-headline").textContent = head.title;
  document.getElementById("plan-summary").textContent = head.summary;
  const data = document.getElementById("plan-data");
  data.hidden = !v.data;
  data.textContent = v.data ? v.data.text : "";
  data.classList.toggle("stale", Boolean(v.data && v.data.stale));
  const relax = fillList("plan-relaxations", v.relaxations, (r) => el("li", r));
  relax.hidden = head.ok || !v.relaxations.length;
  const facts = document.getElementById("plan-facts");
  facts.replaceChildren();
  for (const f of v.facts) {
    const div = el("div", null, { "data-key": f.key });
    div.append(el("dt", f.label), el("dd", f.value));
    if (f.detail) div.appendChild(el("dd", f.detail, { class: "detail" }));
    facts.appendChild(div);
  }
  document.getElementById("plan-body").hidden = !head.ok;
  table(document.getElementById("cost-lines"), [
    { label: t("cost_line"), render: (r) => r.label },
    { label: t("amount"), render: (r) => r.value, numeric: true },
    { label: t("share"), render: (r) => r.share, numeric: true },
  ], v.cost_lines, (r) => (r.key === "total" ? "total" : ""));
  table(document.getElementById("plan-items"), v.items.columns.map((label, i) => ({ label, render: (r) => r[i] })),
    v.items.rows);
  renderConsidered(v.considered);
  fillList("alternatives", v.alternatives.length ? v.alternatives : [t("none")], (a) => el("li", a));
  fillList("warnings", v.warnings.length ? v.warnings : [{ text: t("none"), lang: state.lang }],
    (w) => el("li", w.text, w.lang !== state.lang ? { lang: w.lang } : {}));
  document.getElementById("validation").textContent = v.validation;
  fillList("plan-sources", v.sources, (s) => {
    const li = el("li", null, { class: "source" });
    li.appendChild(el("span", `${s.title} [${s.id}]`));
    if (s.url && /^https?:\/\//.test(s.url)) {
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("a", s.url, { href: s.url, target: "_blank", rel: "noopener noreferrer" }));
    }
    return li;
  });
  document.getElementById("sources-count").textContent = String(v.sources.length);
  const riskBox = document.getElementById("risk-box");
  riskBox.hidden = !v.risk;
  if (v.risk) {
    document.getElementById("risk-headline").textContent = v.risk.headline;
    fillList("risk-lines", v.risk.lines, (l) => el("li", l));
  }
  document.getElementById("compare-add").textContent = t("compare_add");
  const drawn = [];
  for (const [key, id] of [["cost", "plot-cost"], ["schedule", "plot-schedule"], ["pareto", "plot-pareto"], ["risk", "plot-risk"]]) {
    if (v.figures[key]) drawn.push(plot(id, v.figures[key])); else clearPlot(id);
  }
  return Promise.all(drawn);
}

function renderConsidered(c) {
  document.getElementById("considered-summary").textContent = c.summary;
  const node = document.getElementById("considered");
  delete node.dataset.sortCol;
  table(node, c.columns.map((col, i) => ({
    label: col.label, numeric: col.numeric, render: (r) => r.cells[i], sort: col.numeric ? (r) => r.sort[i] : null,
  })), c.rows, (r) => [r.decisive ? "decisive" : "", r.status === "chosen" ? "chosen" : ""].join(" ").trim());
}

// ---- compare: up to three plans side by side --------------------------------------------------------------

function compareLabel(entry, i) {
  const base = `${i + 1}. ${t("src_" + entry.source)}`;
  return entry.detail ? `${base}: ${entry.detail}` : base;
}

// A plan's parts, the same in every language: "144×ascend-910c".
function planParts(plan) {
  return (plan.items || []).map((i) => `${i.accelerators}×${i.sku}`).join(" + ");
}

function addToCompare(plan, source, detail, request) {
  if (!plan) return;
  if (state.compare.some((e) => e.plan === plan)) return;
  const note = document.getElementById("compare-error");
  note.textContent = "";
  state.compare.push({ plan, source, detail: detail || "", request: request || null,
    data_as_of: state.badge && state.badge.as_of ? state.badge.as_of : null });
  if (state.compare.length > 3) { state.compare.shift(); note.textContent = t("compare_full"); }
  renderCompare();
}

async function renderCompare() {
  const n = state.compare.length;
  document.getElementById("compare-count").textContent = n ? `(${n})` : "";
  fillList("compare-list", state.compare, (e, i) => {
    const li = el("li", compareLabel(e, i));
    const b = el("button", "×", { type: "button", "aria-label": `${t("compare_remove")}: ${compareLabel(e, i)}` });
    b.addEventListener("click", () => { state.compare.splice(i, 1); renderCompare(); });
    li.appendChild(b);
    return li;
  });
  const tableNode = document.getElementById("compare-table");
  document.getElementById("compare-help").textContent = n === 1 ? t("compare_one_more") : t("compare_help");
  document.getElementById("compare-report").disabled = n === 0;
  if (!n) { state.compareTicket = (state.compareTicket || 0) + 1; tableNode.replaceChildren(); return; }
  const body = { plans: state.compare.map((e, i) => ({ label: compareLabel(e, i), plan: e.plan, data_as_of: e.data_as_of })) };
  const ticket = (state.compareTicket = (state.compareTicket || 0) + 1);
  try {
    const cmp = await api("POST", `/v1/web/compare?lang=${state.lang}`, body);
    if (ticket !== state.compareTicket) return;  // plans were added or removed meanwhile: a newer table is coming
    renderCompareTable(tableNode, cmp);
  } catch (err) { document.getElementById("compare-error").textContent = err.message; }
}

function renderCompareTable(node, cmp) {
  node.replaceChildren();
  const head = el("tr");
  head.appendChild(el("td"));
  for (const c of cmp.columns) head.appendChild(el("th", c, { scope: "col" }));
  const thead = el("thead");
  thead.appendChild(head);
  const tbody = el("tbody");
  for (const r of cmp.rows) {
    const tr = el("tr", null, { "data-key": r.key });
    if (r.differs) tr.className = "differs";
    const th = el("th", r.label, { scope: "row" });
    if (r.differs) th.appendChild(el("span", ` (${t("differs")})`, { class: "mark" }));
    tr.appendChild(th);
    r.cells.forEach((cell, i) => {
      const td = el("td", cell, { "data-label": cmp.columns[i] });
      if (r.best.includes(i)) { td.className = "best"; td.appendChild(el("span", ` ✓`, { class: "mark", "aria-label": t("best") })); }
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }
  node.append(thead, tbody);
}

// ---- the memo (with the comparison when there is one) -----------------------------------------------------

async function downloadReport(withCompare) {
  const first = withCompare && state.compare.length ? state.compare[0] : null;
  const plan = first ? first.plan : state.plan;
  if (!plan) return;
  const body = { plan, request: first ? first.request : state.request, citations: first ? [] : state.citations };
  if (withCompare) body.compare = state.compare.map((e, i) => ({ label: compareLabel(e, i), plan: e.plan, data_as_of: e.data_as_of }));
  const resp = await fetch(`/v1/reports?lang=${state.lang}`, {
    method: "POST", headers: authHeaders({ "content-type": "application/json" }), body: JSON.stringify(body),
  });
  if (!resp.ok) return;
  const blob = await resp.blob();
  const link = el("a", "", { href: URL.createObjectURL(blob), download: "procure-plan.html" });
  document.body.appendChild(link); link.click(); link.remove();
}

function initPlan() {
  document.getElementById("plan-form").addEventListener("submit", submitPlan);
  document.getElementById("report-button").addEventListener("click", () => downloadReport(false));
  document.getElementById("compare-report").addEventListener("click", () => downloadReport(true));
  document.getElementById("compare-clear").addEventListener("click", () => { state.compare = []; renderCompare(); });
  document.getElementById("compare-add").addEventListener("click", () => {
    addToCompare(state.plan, state.planSource || "form", planParts(state.plan), state.request);
    document.getElementById("compare-add").textContent = t("compare_added");
  });
  makeSortable(document.getElementById("considered"));
  renderCompare();
}
