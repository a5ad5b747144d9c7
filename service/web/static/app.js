"use strict";
// procure planner page: vanilla JS, no external requests; every text from the server is inserted as text.

const I18N = {
  en: {
    app_title: "procure — accelerator purchase planner", tab_ask: "Ask", tab_plan: "Plan", tab_compliance: "Compliance",
    tab_jobs: "Sweeps", question_label: "Your question (English or Chinese)",
    question_placeholder: "Best cluster for 70B training under budget ¥50M", ask_button: "Ask",
    f_workload: "Workload", w_training: "training", w_fine_tune: "fine-tuning", w_inference: "serving",
    f_params: "Model size or preset", f_tokens: "Training tokens", f_rps: "Requests per second", f_budget: "Budget",
    f_currency: "Currency", f_deadline: "Deadline (days)", f_country: "Buyer country", f_kind: "Buyer kind",
    k_commercial: "commercial", k_state: "state-funded", f_date: "Date", f_objective: "Objective",
    o_min_time: "fastest within budget", o_min_cost: "cheapest within deadline", f_exclude: "Excluded vendors",
    f_domestic: "Minimum domestic share (%)", plan_button: "Find a plan", f_part: "Part", f_destinations: "Destinations",
    timeline_button: "Show timeline", job_spec: "Sweep spec (JSON: base request + sweep axes)", job_button: "Run sweep",
    job_json_error: "The spec must be JSON (procure batch run also reads YAML files).",
    plan_title: "Purchase plan", considered_title: "Considered options", alternatives_title: "Alternatives",
    warnings_title: "Warnings", report_button: "Download report", workload: "Workload", part: "Part",
    accelerators: "Accelerators", nodes: "Nodes", total_cost: "Total cost", range: "Range", time_days: "Days",
    verdict: "Verdict", status: "Status", reason: "Reason", delta_cost: "Δ cost", delta_days: "Δ days",
    binding: "Binding constraints", none: "none", validation: "Independent re-check", working: "Working…",
    done: "done", failed: "failed", total: "total", download_csv: "Download CSV", download_jsonl: "Download JSONL",
    plan_status: "Status", time: "time", cost: "cost", citations: "Sources",
    key_prompt: "This service requires an API key (procure keys create --scope plan). Key:",
  },
  zh: {
    app_title: "procure — 算力芯片采购规划", tab_ask: "提问", tab_plan: "方案", tab_compliance: "合规",
    tab_jobs: "批量推演", question_label: "您的问题（中文或英文）",
    question_placeholder: "预算5000万元，训练70B模型的最佳集群？", ask_button: "提问",
    f_workload: "任务类型", w_training: "预训练", w_fine_tune: "微调", w_inference: "推理服务",
    f_params: "模型规模或预设", f_tokens: "训练token数", f_rps: "每秒请求数", f_budget: "预算",
    f_currency: "币种", f_deadline: "期限（天）", f_country: "买方国家", f_kind: "买方类型",
    k_commercial: "商业机构", k_state: "国有/财政资金", f_date: "日期", f_objective: "目标",
    o_min_time: "预算内最快", o_min_cost: "期限内最省", f_exclude: "排除厂商",
    f_domestic: "最低国产化率（%）", plan_button: "生成方案", f_part: "芯片", f_destinations: "目的地",
    timeline_button: "查看时间线", job_spec: "推演配置（JSON：基础需求 + 推演维度）", job_button: "开始推演",
    job_json_error: "配置须为 JSON（命令行 procure batch run 也可读取 YAML 文件）。",
    plan_title: "采购方案", considered_title: "备选方案", alternatives_title: "其他方案",
    warnings_title: "警告", report_button: "下载报告", workload: "任务", part: "芯片",
    accelerators: "加速卡数", nodes: "节点数", total_cost: "总成本", range: "区间", time_days: "天数",
    verdict: "合规结论", status: "状态", reason: "原因", delta_cost: "成本差", delta_days: "天数差",
    binding: "约束瓶颈", none: "无", validation: "独立复核", working: "计算中…",
    done: "完成", failed: "失败", total: "总数", download_csv: "下载 CSV", download_jsonl: "下载 JSONL",
    plan_status: "状态", time: "时间", cost: "成本", citations: "资料来源",
    key_prompt: "本服务需要 API 密钥（procure keys create --scope plan）。密钥：",
  },
};

const state = { lang: "en", plan: null, request: null, citations: [], sessionId: null, figures: {}, apiKey: null };

function askForKey() {
  const key = window.prompt(t("key_prompt"));
  if (key) {
    state.apiKey = key.trim();
    try { sessionStorage.setItem("procure-key", state.apiKey); } catch (_) { /* storage off */ }
  }
}

function t(key) { return (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key; }

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function setLang(lang) {
  state.lang = lang.startsWith("zh") ? "zh" : "en";
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const b of document.querySelectorAll(".lang button")) b.classList.toggle("active", b.dataset.lang === state.lang);
  try { localStorage.setItem("procure-lang", state.lang); } catch (_) { /* private mode */ }
  if (state.plan) renderPlan(state.plan);
}

function showTab(name) {
  for (const b of document.querySelectorAll("nav button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === "tab-" + name);
}

function money(value, currency) {
  if (value === null || value === undefined) return "—";
  const symbol = { CNY: "¥", USD: "$" }[currency] || "";
  if (state.lang === "zh" && currency === "CNY" && Math.abs(value) >= 1e4) {
    return Math.abs(value) >= 1e8 ? `¥${(value / 1e8).toFixed(2)}亿` : `¥${(value / 1e4).toFixed(0)}万`;
  }
  if (Math.abs(value) >= 1e6) return `${symbol}${(value / 1e6).toFixed(1)}M${symbol ? "" : " " + currency}`;
  return `${symbol}${Math.round(value).toLocaleString()}${symbol ? "" : " " + currency}`;
}

function num(value, digits) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits });
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
    throw new Error(`${resp.status}: ${detail}`);
  }
  return payload;
}

function plot(id, fig) {
  const node = document.getElementById(id);
  if (!node || !fig) return;
  state.figures[id] = fig;
  Plotly.react(node, fig.data, fig.layout, { responsive: true, displaylogo: false, displayModeBar: window.innerWidth > 600 ? "hover" : false });
}

function table(node, columns, rows) {
  node.replaceChildren();
  const head = el("tr");
  columns.forEach((c, i) => {
    const th = el("th", c.label);
    th.dataset.col = String(i);
    head.appendChild(th);
  });
  node.appendChild(head);
  for (const row of rows) {
    const tr = el("tr");
    columns.forEach((c) => {
      const td = el("td", c.render(row));
      td.dataset.sort = c.sort ? String(c.sort(row) ?? "") : td.textContent;
      tr.appendChild(td);
    });
    node.appendChild(tr);
  }
}

function makeSortable(node) {
  node.addEventListener("click", (ev) => {
    const th = ev.target.closest("th");
    if (!th) return;
    const col = Number(th.dataset.col);
    const asc = node.dataset.sortCol === String(col) ? node.dataset.sortDir !== "asc" : true;
    node.dataset.sortCol = String(col); node.dataset.sortDir = asc ? "asc" : "desc";
    const rows = Array.from(node.querySelectorAll("tr")).slice(1);
    rows.sort((a, b) => {
      const x = a.children[col].dataset.sort, y = b.children[col].dataset.sort;
      const nx = parseFloat(x), ny = parseFloat(y);
      const cmp = !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y);
      return asc ? cmp : -cmp;
    });
    for (const r of rows) node.appendChild(r);
  });
}

// The considered options; `words` (from /v1/web/figures) gives each row's status and reason in the page's language.
function renderConsidered(plan, words) {
  const cur = plan.currency;
  const rows = (plan.considered || []).map((r, i) => ({ ...r, _w: words ? words[i] : null }));
  table(document.getElementById("considered"), [
    { label: t("workload"), render: (r) => r.workload },
    { label: t("part"), render: (r) => r.name || r.sku },
    { label: t("status"), render: (r) => (r._w ? r._w.status : r.status) },
    { label: t("accelerators"), render: (r) => num(r.accelerators, 0), sort: (r) => r.accelerators },
    { label: t("total_cost"), render: (r) => money(r.total_cost, cur), sort: (r) => r.total_cost },
    { label: t("time_days"), render: (r) => num(r.time_days), sort: (r) => r.time_days },
    { label: t("delta_cost"), render: (r) => money(r.delta_cost, cur), sort: (r) => r.delta_cost },
    { label: t("reason"), render: (r) => (r._w ? r._w.reason : r.reason) || "" },
  ], rows);
}

async function renderPlan(plan) {
  state.plan = plan;
  const view = document.getElementById("plan-view");
  view.hidden = false;
  const cur = plan.currency;
  const summary = document.getElementById("plan-summary");
  summary.textContent = `${t("plan_status")}: ${plan.status} — ${plan.message}`;
  if (plan.total_cost !== null && plan.total_cost !== undefined) {
    summary.textContent += ` · ${t("total_cost")}: ${money(plan.total_cost, cur)} (${money(plan.total_cost_low, cur)} – ${money(plan.total_cost_high, cur)})`;
  }
  if (plan.time_days !== null && plan.time_days !== undefined) summary.textContent += ` · ${t("time_days")}: ${num(plan.time_days)}`;
  table(document.getElementById("plan-items"), [
    { label: t("workload"), render: (r) => r.workload },
    { label: t("part"), render: (r) => r.name || r.sku },
    { label: t("accelerators"), render: (r) => num(r.accelerators, 0), sort: (r) => r.accelerators },
    { label: t("nodes"), render: (r) => num(r.nodes, 0), sort: (r) => r.nodes },
    { label: t("total_cost"), render: (r) => money(r.total_cost, cur), sort: (r) => r.total_cost },
    { label: t("range"), render: (r) => `${money(r.total_cost_low, cur)} – ${money(r.total_cost_high, cur)}` },
    { label: t("time_days"), render: (r) => num(r.time_days), sort: (r) => r.time_days },
    { label: t("verdict"), render: (r) => r.verdict + (r.license_outlook ? ` (${r.license_outlook})` : "") },
  ], plan.items || []);
  document.getElementById("plan-binding").textContent = `${t("binding")}: ${(plan.binding_constraints || []).join(", ") || t("none")}`;
  renderConsidered(plan, null);
  const alts = document.getElementById("alternatives");
  alts.replaceChildren(...(plan.alternatives || []).map((a) => el("li",
    `#${a.rank}: ${a.items.map((i) => `${i.accelerators} × ${i.sku}`).join(", ")} — ${money(a.total_cost, cur)}` +
    (a.time_days !== null && a.time_days !== undefined ? `, ${num(a.time_days)} d` : ""))));
  const warnings = [...(plan.warnings || []), ...(plan.relaxations || []).map((r) => r.message || JSON.stringify(r))];
  document.getElementById("warnings").replaceChildren(...(warnings.length ? warnings : [t("none")]).map((w) => el("li", w)));
  const v = plan.validation;
  document.getElementById("validation").textContent = v ? `${t("validation")}: ${v.status || (v.ok ? "ok" : "failed")}` : "";
  try {
    const figs = await api("POST", `/v1/web/figures?lang=${state.lang}`, { plan });
    plot("plot-cost", figs.cost);
    plot("plot-pareto", figs.pareto);
    if (figs.considered && figs.considered.length === (plan.considered || []).length) renderConsidered(plan, figs.considered);
  } catch (err) { console.warn("figures unavailable", err.message); }
}

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
    buyer: { country: String(f.get("country") || "CN").toUpperCase(), kind: f.get("kind"), date: f.get("date") || undefined },
    objective: f.get("objective"),
    policy: {
      vendor_deny: String(f.get("vendor_deny") || "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean),
      min_domestic_share: Number(f.get("min_domestic_share") || 0) / 100,
    },
    alternatives: 3,
    pareto: true,
  };
  if (f.get("budget")) request.budget = { amount: String(f.get("budget")).trim(), currency: f.get("currency") };
  return request;
}

async function submitPlan(ev) {
  ev.preventDefault();
  const errBox = document.getElementById("plan-error");
  errBox.textContent = t("working");
  try {
    state.request = formRequest(ev.target);
    state.citations = [];
    const plan = await api("POST", "/v1/recommendations", state.request);
    errBox.textContent = "";
    await renderPlan(plan);
  } catch (err) { errBox.textContent = err.message; }
}

function renderCitations(citations) {
  // Passages open to their quoted text; catalog and rule sources show their id and address.
  const list = document.getElementById("answer-citations");
  list.replaceChildren();
  for (const c of citations || []) {
    const li = el("li");
    if (c.n !== undefined) li.value = c.n;
    const label = [c.title || c.source_id || c.doc_id || c.id, c.date].filter(Boolean).join(" · ");
    const quote = c.quote || c.text;
    if (quote) {
      li.className = "passage";
      const details = el("details");
      details.appendChild(el("summary", label));
      details.appendChild(el("blockquote", quote));
      li.appendChild(details);
    } else {
      li.className = "source";
      li.appendChild(el("span", label + (c.source_id ? ` [${c.source_id}]` : "")));
      if (c.url && /^https?:\/\//.test(c.url)) {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("a", c.url, { href: c.url, target: "_blank", rel: "noopener noreferrer" }));
      }
    }
    list.appendChild(li);
  }
}

function renderAnswer(node, text) {
  node.replaceChildren();
  for (const line of String(text).split("\n")) {
    const bullet = /^\s*[-•]\s+/.test(line);
    const row = el(bullet ? "li" : "p");
    const body = bullet ? line.replace(/^\s*[-•]\s+/, "") : line;
    body.split(/(\*\*[^*]+\*\*)/).forEach((part) => {
      if (/^\*\*[^*]+\*\*$/.test(part)) row.appendChild(el("strong", part.slice(2, -2)));
      else if (part) row.appendChild(document.createTextNode(part));
    });
    node.appendChild(row);
  }
}

async function readSSE(resp, onEvent) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      let event = "message"; const data = [];
      for (const line of raw.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(event, data.join("\n"));
    }
  }
}

async function submitQuestion(ev) {
  ev.preventDefault();
  const q = document.getElementById("question").value.trim();
  if (!q) return;
  const answer = document.getElementById("answer");
  answer.textContent = t("working");
  renderCitations([]);
  try {
    const resp = await fetch("/v1/chat", {
      method: "POST", headers: authHeaders({ "content-type": "application/json", accept: "text/event-stream" }),
      body: JSON.stringify({ message: q, session_id: state.sessionId, stream: true }),
    });
    if (!resp.ok) {
      if (resp.status === 401) askForKey();
      const problem = await resp.json().catch(() => ({}));
      throw new Error(`${resp.status}: ${problem.detail || problem.title || resp.statusText}`);
    }
    let text = "";
    let final = null;
    await readSSE(resp, (event, data) => {
      let obj = null;
      try { obj = JSON.parse(data); } catch (_) { obj = null; }
      if (event === "token" || event === "delta") {
        text += obj && typeof obj === "object" ? (obj.text || obj.delta || "") : data;
        answer.textContent = text;
      } else if (obj && (event === "final" || event === "done" || event === "answer" || obj.answer !== undefined)) {
        final = obj;
      }
    });
    if (final) {
      renderAnswer(answer, final.answer || text);
      state.sessionId = final.session_id || state.sessionId;
      state.citations = final.citations || [];
      renderCitations(state.citations);
      if (final.recommendation) {
        state.request = final.request || null;
        await renderPlan(final.recommendation);
      }
    }
  } catch (err) { answer.textContent = err.message; }
}

async function submitTimeline(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const errBox = document.getElementById("timeline-error");
  errBox.textContent = "";
  try {
    const q = new URLSearchParams({ sku: String(f.get("sku")), countries: String(f.get("countries")), lang: state.lang });
    const res = await api("GET", `/v1/compliance/timeline?${q}`);
    plot("plot-timeline", res.figure);
  } catch (err) { errBox.textContent = err.message; }
}

async function downloadReport() {
  if (!state.plan) return;
  const resp = await fetch(`/v1/reports?lang=${state.lang}`, {
    method: "POST", headers: authHeaders({ "content-type": "application/json" }),
    body: JSON.stringify({ plan: state.plan, request: state.request, citations: state.citations }),
  });
  if (!resp.ok) return;
  const blob = await resp.blob();
  const link = el("a", "", { href: URL.createObjectURL(blob), download: "procure-plan.html" });
  document.body.appendChild(link); link.click(); link.remove();
}

async function submitJob(ev) {
  ev.preventDefault();
  const errBox = document.getElementById("job-error");
  errBox.textContent = "";
  const text = document.getElementById("job-spec").value;
  let spec;
  try { spec = JSON.parse(text); } catch (_) { errBox.textContent = t("job_json_error"); return; }
  try {
    const job = await api("POST", "/v1/jobs", spec);
    await followJob(job.id);
  } catch (err) { errBox.textContent = err.message; }
}

async function followJob(id) {
  const bar = document.getElementById("job-progress");
  const label = document.getElementById("job-progress-text");
  for (;;) {
    const st = await api("GET", `/v1/jobs/${encodeURIComponent(id)}`);
    const total = st.total || 0;
    const done = st.done || 0;
    const failed = st.failed || 0;
    bar.max = Math.max(total, 1); bar.value = done + failed;
    const eta = st.eta_s ? ` · ETA ${Math.ceil(st.eta_s)} s` : "";
    label.textContent = `${done} ${t("done")} · ${failed} ${t("failed")} · ${total} ${t("total")} · ${st.state}${eta}`;
    if (["completed", "failed", "cancelled"].includes(st.state)) break;
    await new Promise((r) => setTimeout(r, 400));
  }
  const links = document.getElementById("job-links");
  links.replaceChildren(
    el("a", t("download_csv"), { href: `/v1/jobs/${encodeURIComponent(id)}/results?format=csv`, download: `${id}.csv` }),
    document.createTextNode(" · "),
    el("a", t("download_jsonl"), { href: `/v1/jobs/${encodeURIComponent(id)}/results?format=jsonl`, download: `${id}.jsonl` }),
  );
  const figs = await api("GET", `/v1/web/jobs/${encodeURIComponent(id)}/figures?lang=${state.lang}`);
  plot("plot-winner", figs.winner);
  plot("plot-curves", figs.curves);
  await showJobRows(id, figs.axes || []);
}

async function showJobRows(id, axes) {
  // The first 500 result rows as a sortable table (the downloads hold all of them).
  const resp = await fetch(`/v1/jobs/${encodeURIComponent(id)}/results?format=jsonl`, { headers: authHeaders({}) });
  if (!resp.ok) return;
  const rows = (await resp.text()).split("\n").filter(Boolean).slice(0, 500).map((line) => JSON.parse(line));
  const tableNode = document.getElementById("job-table");
  table(tableNode, [
    ...axes.map((a) => ({ label: a, render: (r) => r[a], sort: (r) => r[a] })),
    { label: t("status"), render: (r) => r.plan_status || r.status },
    { label: t("part"), render: (r) => (Array.isArray(r.parts) ? r.parts.join("+") : r.parts) || "" },
    { label: t("accelerators"), render: (r) => num(r.accelerators, 0), sort: (r) => r.accelerators },
    { label: t("total_cost"), render: (r) => money(r.total_cost, r.currency), sort: (r) => r.total_cost },
    { label: t("time_days"), render: (r) => num(r.time_days), sort: (r) => r.time_days },
    { label: t("reason"), render: (r) => r.error || (r.plan_status === "infeasible" ? r.message : "") || "" },
  ], rows);
}

function init() {
  try { state.apiKey = sessionStorage.getItem("procure-key"); } catch (_) { state.apiKey = null; }
  let lang = "en";
  try { lang = localStorage.getItem("procure-lang") || navigator.language || "en"; } catch (_) { lang = navigator.language || "en"; }
  setLang(lang);
  for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  for (const b of document.querySelectorAll(".lang button")) b.addEventListener("click", () => setLang(b.dataset.lang));
  document.getElementById("plan-form").addEventListener("submit", submitPlan);
  document.getElementById("ask-form").addEventListener("submit", submitQuestion);
  document.getElementById("timeline-form").addEventListener("submit", submitTimeline);
  document.getElementById("job-form").addEventListener("submit", submitJob);
  document.getElementById("report-button").addEventListener("click", downloadReport);
  makeSortable(document.getElementById("considered"));
  makeSortable(document.getElementById("job-table"));
  document.getElementById("job-spec").value = JSON.stringify(EXAMPLE_SPEC, null, 2);
}

const EXAMPLE_SPEC = {
  name: "70B: budget x date, buyer in China",
  base: {
    workloads: [{ kind: "training", params: "70B", tokens: "1.4T" }],
    buyer: { country: "CN", date: "2025-08-01" },
    budget: { amount: "5000万", currency: "CNY" },
    objective: "min_time",
    alternatives: 0,
  },
  sweep: {
    "budget.amount": [2e7, 5e7, 1e8, 2e8],
    "buyer.date": ["2023-06-01", "2024-06-01", "2025-08-01", "2026-06-01"],
  },
};

document.addEventListener("DOMContentLoaded", init);
