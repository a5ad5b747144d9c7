"use strict";
// sweeps.js: the compliance timeline and batch sweeps (progress, plots, result rows that can join the comparison).

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

async function submitJob(ev) {
  ev.preventDefault();
  const errBox = document.getElementById("job-error");
  errBox.textContent = "";
  const text = document.getElementById("job-spec").value;
  let spec;
  try { spec = JSON.parse(text); } catch (_) { errBox.textContent = t("job_json_error"); return; }
  try {
    state.jobSpec = spec;
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
    label.textContent = `${done} ${t("done")} · ${failed} ${t("failed")} · ${total} ${t("total")} · ${t("state_" + st.state)}${eta}`;
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

// Set a dotted path ("budget.amount", "buyer.date") in a request.
function setPath(obj, path, value) {
  const keys = path.split(".");
  let node = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
    node = node[k];
  }
  node[keys[keys.length - 1]] = value;
}

// A sweep row's full plan: the spec's base request with the row's swept values, solved again.
async function compareRow(row, axes, button) {
  const spec = state.jobSpec;
  if (!spec || !spec.base) return;
  const request = JSON.parse(JSON.stringify(spec.base));
  for (const a of axes) if (row[a] !== undefined) setPath(request, a, row[a]);
  if (request.alternatives === 0) request.pareto = true;
  button.disabled = true;
  button.textContent = t("loading_row");
  try {
    const plan = await api("POST", `/v1/recommendations?lang=${state.lang}`, request);
    const detail = axes.map((a) => fmtSwept(a, row[a], row.currency, state.lang)).join(" · ");
    addToCompare(plan, "sweep", detail, request);
    button.textContent = t("compare_added");
  } catch (err) {
    button.disabled = false;
    button.textContent = t("compare_row");
    document.getElementById("job-error").textContent = err.message;
  }
}

async function showJobRows(id, axes) {
  // The first 500 result rows as a sortable table (the downloads hold all of them); each can join the comparison.
  const resp = await fetch(`/v1/jobs/${encodeURIComponent(id)}/results?format=jsonl`, { headers: authHeaders({}) });
  if (!resp.ok) return;
  const rows = (await resp.text()).split("\n").filter(Boolean).slice(0, 500).map((line) => JSON.parse(line));
  const lang = state.lang;
  table(document.getElementById("job-table"), [
    ...axes.map((a) => ({ label: a, render: (r) => fmtSwept(a, r[a], r.currency, lang), sort: (r) => r[a] })),
    { label: t("status"), render: (r) => (r.plan_status ? t("p_" + r.plan_status) : r.status) },
    { label: t("part"), render: (r) => (Array.isArray(r.parts) ? r.parts.join("+") : r.parts) || "" },
    { label: t("accelerators"), render: (r) => fmtNum(r.accelerators, 0), sort: (r) => r.accelerators, numeric: true },
    { label: t("total_cost"), render: (r) => fmtMoney(r.total_cost, r.currency, lang), sort: (r) => r.total_cost, numeric: true },
    { label: t("time_days"), render: (r) => fmtNum(r.time_days), sort: (r) => r.time_days, numeric: true },
    { label: t("reason"), render: (r) => r.error || (r.plan_status === "infeasible" ? r.message : "") || "" },
    { label: t("compare_row"), render: (r) => {
      if (!(r.plan_status === "optimal" || r.plan_status === "feasible")) return "";
      const b = el("button", t("compare_row"), { type: "button", class: "row-compare" });
      b.addEventListener("click", () => compareRow(r, axes, b));
      return b;
    } },
  ], rows);
}

function initSweeps() {
  document.getElementById("timeline-form").addEventListener("submit", submitTimeline);
  document.getElementById("job-form").addEventListener("submit", submitJob);
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
