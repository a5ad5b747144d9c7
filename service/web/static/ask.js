"use strict";
// ask.js: the chat. The answer is rendered as the API writes it (markdown-like lines); its sources are shown once,
// as a compact numbered list whose passages open to their quote, so the answer's own list of sources is left out.

// The answer without its trailing block of numbered sources (and that block's heading), when the same numbers come
// as structured citations: "[1] …", "[2] …" lines at the end, headed by a short line such as "**Sources**".
function stripSources(text, citations) {
  const numbers = new Set((citations || []).map((c) => Number(c.n)).filter((n) => !isNaN(n)));
  const lines = String(text || "").split("\n");
  if (!numbers.size) return lines.join("\n");
  let end = lines.length;
  while (end > 0 && !lines[end - 1].trim()) end -= 1;
  let start = end;
  const cite = /^\s*(?:[-*•]\s*)?\[(\d+)\]/;
  while (start > 0) {
    const line = lines[start - 1];
    const m = cite.exec(line);
    if (m && numbers.has(Number(m[1]))) { start -= 1; continue; }
    // A wrapped continuation of the citation above it (a quote over two lines) belongs to the block.
    if (start < end && line.trim() && !/^\s*(\*\*|#|[-*•]\s)/.test(line) && cite.test(lines[start - 2] || "")) { start -= 1; continue; }
    break;
  }
  if (start === end) return lines.join("\n");
  let cut = start;
  const heading = (lines[cut - 1] || "").trim();
  if (heading && heading.replace(/[*#:：\s]/g, "").length <= 24 && !cite.test(heading)) cut -= 1;
  while (cut > 0 && !lines[cut - 1].trim()) cut -= 1;
  return lines.slice(0, cut).join("\n");
}

function renderAnswer(node, text) {
  node.replaceChildren();
  let list = null;
  for (const line of String(text).split("\n")) {
    const bullet = /^\s*[-•*]\s+/.test(line);
    if (!line.trim()) { list = null; continue; }
    const row = el(bullet ? "li" : "p");
    const body = bullet ? line.replace(/^\s*[-•*]\s+/, "") : line.replace(/^#+\s*/, "");
    body.split(/(\*\*[^*]+\*\*)/).forEach((part) => {
      if (/^\*\*[^*]+\*\*$/.test(part)) row.appendChild(el("strong", part.slice(2, -2)));
      else if (part) row.appendChild(document.createTextNode(part));
    });
    if (bullet) {
      if (!list) { list = el("ul"); node.appendChild(list); }
      list.appendChild(row);
    } else { list = null; node.appendChild(row); }
  }
}

function renderCitations(citations) {
  // One line per source: a passage opens to its quoted text; a catalog or rule source links to its address.
  const box = document.getElementById("answer-sources");
  const list = document.getElementById("answer-citations");
  list.replaceChildren();
  box.hidden = !(citations && citations.length);
  for (const c of citations || []) {
    const li = el("li");
    if (c.n !== undefined) li.value = c.n;
    const label = [c.title || c.source_id || c.doc_id || c.id, c.date].filter(Boolean).join(" · ");
    const quote = c.quote || c.text;
    if (quote) {
      li.className = "passage";
      const details = el("details");
      details.appendChild(el("summary", label));
      details.appendChild(el("blockquote", quote, c.language && c.language !== state.lang ? { lang: c.language } : {}));
      li.appendChild(details);
    } else {
      li.className = "source";
      const text = label + (c.source_id && !label.includes(c.source_id) ? ` [${c.source_id}]` : "");
      if (c.url && /^https?:\/\//.test(c.url)) {
        li.appendChild(el("a", text, { href: c.url, target: "_blank", rel: "noopener noreferrer", title: c.url }));
      } else li.appendChild(el("span", text));
    }
    list.appendChild(li);
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
  document.getElementById("answer-actions").hidden = true;
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
      state.citations = final.citations || [];
      renderAnswer(answer, stripSources(final.answer || text, state.citations));
      state.sessionId = final.session_id || state.sessionId;
      renderCitations(state.citations);
      if (final.recommendation) {
        const previous = state.previousChatPlan;
        state.request = final.request || null;
        state.planSource = "chat";
        await renderPlan(final.recommendation);
        state.previousChatPlan = final.recommendation;
        document.getElementById("answer-actions").hidden = !previous;
        state.comparePair = previous ? [previous, final.recommendation] : null;
      }
    }
  } catch (err) { answer.textContent = err.message; }
}

function initAsk() {
  document.getElementById("ask-form").addEventListener("submit", submitQuestion);
  document.getElementById("compare-previous").addEventListener("click", () => {
    if (!state.comparePair) return;
    for (const p of state.comparePair) addToCompare(p, "chat", planParts(p), state.request);
    showTab("compare", true);
  });
}
