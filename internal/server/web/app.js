// flywheel's web UI: chat with a collection, upload documents, rate
// answers, browse and export feedback, watch fine-tuning jobs and promote
// their adapters, open evaluation reports. Plain JavaScript over the /api
// endpoints.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  for (const c of children) e.append(c);
  return e;
};

// ---- API access -------------------------------------------------------

const keyStore = "flywheel.key";

function authHeaders(extra = {}) {
  const key = localStorage.getItem(keyStore);
  return key ? { ...extra, Authorization: "Bearer " + key } : extra;
}

class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function errorOf(resp) {
  let msg = resp.status + " " + resp.statusText;
  try {
    const body = await resp.json();
    if (body.error && body.error.message) msg = body.error.message;
  } catch (_) { /* not JSON */ }
  if (resp.status === 401) msg += " — enter an API key at the top right.";
  return new APIError(resp.status, msg);
}

async function api(method, path, body) {
  const opts = { method, headers: authHeaders() };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  if (!resp.ok) throw await errorOf(resp);
  return resp.status === 204 ? null : resp.json();
}

// events reads a server-sent event stream from a fetch response and
// yields each JSON event until [DONE].
async function* events(resp) {
  const reader = resp.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}

function notify(msg, ok = false) {
  const n = $("#notice");
  n.textContent = msg;
  n.classList.toggle("ok", ok);
  n.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { n.hidden = true; }, ok ? 3000 : 8000);
}

function guard(fn) {
  return async (...args) => {
    try { await fn(...args); } catch (err) { notify(err.message); }
  };
}

// ---- tabs and the key ----------------------------------------------------

const loaders = {};

function showTab(name) {
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const p of document.querySelectorAll(".panel")) p.hidden = p.id !== "panel-" + name;
  $("#collection-bar").hidden = name === "evals" || name === "jobs" || name === "feedback";
  if (loaders[name]) guard(loaders[name])();
}

function setupChrome() {
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#api-key").value = localStorage.getItem(keyStore) || "";
  $("#key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("#api-key").value.trim();
    if (key) localStorage.setItem(keyStore, key); else localStorage.removeItem(keyStore);
    notify(key ? "Key saved in this browser." : "Key removed.", true);
    guard(loadCollections)();
  });
}

// ---- collections -------------------------------------------------------

function currentCollection() { return $("#collection-select").value; }

async function loadCollections(select) {
  const { collections } = await api("GET", "/api/collections");
  const names = collections.map((c) => c.name);
  const keep = select || currentCollection() || localStorage.getItem("flywheel.collection");
  for (const id of ["#collection-select", "#job-collection"]) {
    const s = $(id);
    s.replaceChildren(...names.map((n) => el("option", { value: n, textContent: n })));
    if (names.includes(keep)) s.value = keep;
  }
  const fb = $("#fb-collection");
  const fbKeep = fb.value;
  fb.replaceChildren(el("option", { value: "", textContent: "all" }), ...names.map((n) => el("option", { value: n, textContent: n })));
  fb.value = names.includes(fbKeep) ? fbKeep : "";
  if (!names.length) notify("No collection yet: create one, then upload documents.", true);
}

function setupCollections() {
  $("#collection-select").addEventListener("change", () => {
    localStorage.setItem("flywheel.collection", currentCollection());
    if (!$("#panel-documents").hidden) guard(loadDocuments)();
  });
  $("#new-collection-form").addEventListener("submit", guard(async (e) => {
    e.preventDefault();
    const name = $("#new-collection").value.trim();
    await api("POST", "/api/collections", { name });
    $("#new-collection").value = "";
    await loadCollections(name);
    localStorage.setItem("flywheel.collection", name);
    notify(`Collection ${name} created: upload documents to it.`, true);
  }));
}

// ---- documents -----------------------------------------------------------

async function loadDocuments() {
  const c = currentCollection();
  const body = $("#documents-table tbody");
  if (!c) { body.replaceChildren(); return; }
  const { documents } = await api("GET", `/api/collections/${encodeURIComponent(c)}/documents`);
  body.replaceChildren(...documents.map((d) => el("tr", {},
    el("td", { textContent: d.title }), el("td", { textContent: d.file }), el("td", { textContent: d.id }))));
}
loaders.documents = loadDocuments;

// upload sends a file with XMLHttpRequest, whose upload events report
// progress (fetch has none).
function upload(collection, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/collections/${encodeURIComponent(collection)}/documents`);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new APIError(xhr.status, (body.error && body.error.message) || `upload failed: ${xhr.status}`));
    });
    xhr.addEventListener("error", () => reject(new Error("upload failed: the connection broke")));
    const form = new FormData();
    form.append("file", file);
    xhr.send(form);
  });
}

function setupUpload() {
  $("#upload-form").addEventListener("submit", guard(async (e) => {
    e.preventDefault();
    const c = currentCollection();
    const file = $("#upload-file").files[0];
    if (!c) throw new Error("Create or choose a collection first.");
    if (!file) throw new Error("Choose a file to upload.");
    const bar = $("#upload-progress");
    const status = $("#upload-status");
    bar.hidden = false;
    bar.value = 0;
    status.textContent = `uploading ${file.name}…`;
    try {
      const res = await upload(c, file, (f) => {
        bar.value = Math.round(100 * f);
        if (f >= 1) status.textContent = `indexing ${file.name}…`;
      });
      bar.value = 100;
      status.textContent = `${res.file}: ${res.documents.length} document(s), ${res.chunks} chunks indexed`;
      $("#upload-form").reset();
      await loadDocuments();
    } catch (err) {
      status.textContent = "";
      bar.hidden = true;
      throw err;
    }
  }));
}

// ---- chat ------------------------------------------------------------------

// byteSplit cuts text at UTF-8 byte offsets start and end (citations
// count bytes; JavaScript strings count UTF-16 units).
function byteSplit(text, start, end) {
  const bytes = new TextEncoder().encode(text);
  const dec = (a, b) => new TextDecoder().decode(bytes.slice(a, b));
  return [dec(0, start), dec(start, end), dec(end, bytes.length)];
}

async function openSource(collection, cite) {
  const doc = await api("GET", `/api/collections/${encodeURIComponent(collection)}/documents/${encodeURIComponent(cite.doc_id)}`);
  const [before, passage, after] = byteSplit(doc.text, cite.start, cite.end);
  const mark = el("mark", { textContent: passage });
  $("#source-title").textContent = `[${cite.number}] ${doc.title || doc.file}`;
  $("#source-view").replaceChildren(before, mark, after);
  $("#source").hidden = false;
  $("#chat-layout").classList.add("with-source");
  mark.scrollIntoView({ block: "center" });
}

// renderAnswerText writes text with its [n] markers as links to the
// citations numbered n.
function renderAnswerText(node, text, citations, collection) {
  const parts = text.split(/(\[\d+\])/);
  node.replaceChildren(...parts.map((p) => {
    const m = /^\[(\d+)\]$/.exec(p);
    const cite = m && citations.find((c) => c.number === Number(m[1]));
    if (!cite) return p;
    const a = el("a", { className: "cite", textContent: p, title: cite.title || cite.doc_id });
    a.addEventListener("click", guard(() => openSource(collection, cite)));
    return a;
  }));
}

function showAnswer(turn, res) {
  const collection = res.collection;
  turn.dataset.answerId = res.answer_id;
  const text = $(".answer-text", turn);
  text.classList.remove("streaming");
  renderAnswerText(text, res.answer, res.citations, collection);
  $(".meta", turn).textContent = `confidence ${(res.confidence * 100).toFixed(0)}% · ${res.model}` + (res.abstained ? " · no supporting passage" : "");
  $(".citations", turn).replaceChildren(...res.citations.map((c) => {
    const li = el("li", { className: "citation", value: c.number, textContent: `${c.title || c.doc_id}: “${c.text.slice(0, 160)}${c.text.length > 160 ? "…" : ""}”` });
    li.addEventListener("click", guard(() => openSource(collection, c)));
    return li;
  }));
  $(".rate", turn).hidden = false;
}

async function sendFeedback(turn, body) {
  const fb = await api("POST", "/api/feedback", { answer_id: turn.dataset.answerId, ...body });
  $(".rated", turn).textContent = `rated ${fb.rating}/5` + (fb.correction ? " with a correction" : "") + " — thank you";
}

function newTurn(question) {
  const turn = $("#answer-template").content.firstElementChild.cloneNode(true);
  $(".question", turn).textContent = question;
  $(".answer-text", turn).classList.add("streaming");
  $(".rate", turn).hidden = true;
  $(".thumbs-up", turn).addEventListener("click", guard(() => sendFeedback(turn, { thumbs: "up" })));
  $(".thumbs-down", turn).addEventListener("click", guard(() => sendFeedback(turn, { thumbs: "down" })));
  $(".rate-form", turn).addEventListener("submit", guard(async (e) => {
    e.preventDefault();
    const tags = $(".tags", turn).value.split(",").map((t) => t.trim()).filter(Boolean);
    await sendFeedback(turn, { rating: Number($(".rating", turn).value), correction: $(".correction", turn).value, tags });
    $(".more", turn).open = false;
  }));
  $("#conversation").append(turn);
  return turn;
}

async function ask(collection, question) {
  const turn = newTurn(question);
  const text = $(".answer-text", turn);
  const resp = await fetch("/api/ask", {
    method: "POST",
    headers: authHeaders({ "Content-Type": "application/json" }),
    body: JSON.stringify({ collection, question, stream: true }),
  });
  if (!resp.ok) {
    turn.remove();
    throw await errorOf(resp);
  }
  let written = "";
  for await (const ev of events(resp)) {
    if (ev.error) throw new Error(ev.error.message);
    if (ev.type === "delta") { written += ev.text; text.textContent = written; }
    if (ev.type === "replace") { written = ""; text.textContent = ""; }
    if (ev.type === "answer") showAnswer(turn, ev);
  }
  turn.scrollIntoView({ block: "nearest" });
}

function setupChat() {
  $("#ask-form").addEventListener("submit", guard(async (e) => {
    e.preventDefault();
    const c = currentCollection();
    const q = $("#question").value.trim();
    if (!c) throw new Error("Create or choose a collection first.");
    if (!q) return;
    $("#ask-button").disabled = true;
    try {
      $("#question").value = "";
      await ask(c, q);
    } finally {
      $("#ask-button").disabled = false;
    }
  }));
  $("#question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("#ask-form").requestSubmit(); }
  });
  $("#source-close").addEventListener("click", () => {
    $("#source").hidden = true;
    $("#chat-layout").classList.remove("with-source");
  });
}

// ---- feedback ----------------------------------------------------------

function feedbackParams() {
  const p = new URLSearchParams();
  const set = (k, v) => { if (v) p.set(k, v); };
  set("collection", $("#fb-collection").value);
  set("min_rating", $("#fb-min").value);
  set("max_rating", $("#fb-max").value);
  set("tag", $("#fb-tag").value.trim());
  set("since", $("#fb-since").value);
  return p;
}

async function loadFeedback() {
  const { feedback } = await api("GET", "/api/feedback?" + feedbackParams());
  $("#feedback-table tbody").replaceChildren(...feedback.map((f) => el("tr", { className: "feedback-row" },
    el("td", { textContent: new Date(f.created).toLocaleString() }),
    el("td", { textContent: f.collection }),
    el("td", { className: "long", textContent: f.question }),
    el("td", { className: "long", textContent: f.answer }),
    el("td", { className: "rating-cell", textContent: "★".repeat(f.rating) + "☆".repeat(5 - f.rating) + ` (${f.rating})` }),
    el("td", { className: "long", textContent: f.correction || "" }),
    el("td", { textContent: f.tags.join(", ") }))));
}
loaders.feedback = loadFeedback;

async function exportFeedback(format) {
  const p = feedbackParams();
  p.set("format", format);
  const resp = await fetch("/api/feedback/export?" + p, { headers: authHeaders() });
  if (!resp.ok) throw await errorOf(resp);
  const n = resp.headers.get("X-Examples");
  const blob = await resp.blob();
  const name = (/filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "") || [])[1] || `feedback-${format}.jsonl`;
  const a = el("a", { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  notify(`${n} example(s) exported to ${name}.`, true);
}

function setupFeedback() {
  $("#feedback-filters").addEventListener("submit", guard(async (e) => { e.preventDefault(); await loadFeedback(); }));
  $("#export-sft").addEventListener("click", guard(() => exportFeedback("sft")));
  $("#export-dpo").addEventListener("click", guard(() => exportFeedback("dpo")));
}

// ---- jobs --------------------------------------------------------------

let watching = null; // aborts following the events of the open job

async function loadJobs() {
  const { jobs } = await api("GET", "/api/jobs");
  $("#jobs-table tbody").replaceChildren(...jobs.map((j) => {
    const p = j.progress || {};
    const tr = el("tr", {},
      el("td", { textContent: `${j.id} (${j.config.model})` }),
      el("td", { className: "job-state", textContent: j.state, title: j.error || "" }),
      el("td", { textContent: p.steps ? `${p.step}/${p.steps}` : "" }),
      el("td", { textContent: p.loss ? p.loss.toFixed(4) : "" }),
      el("td", {}, el("button", { type: "button", textContent: "Open", onclick: guard(() => watchJob(j.id)) }),
        j.kind === "tune" && j.state === "done" ? el("button", { type: "button", className: "promote", textContent: "Promote", onclick: guard(() => promoteJob(j.id)) }) : ""));
    tr.dataset.id = j.id;
    return tr;
  }));
}
loaders.jobs = async () => { await loadJobs(); await loadAdapters(); };

// promoteJob serves a finished job's adapter over the local model, under
// a name the user gives (the job's id by default).
async function promoteJob(id) {
  const name = prompt(`Serve the adapter of ${id} as (letters, digits, "_", "." and "-"):`, id);
  if (name === null) return;
  const a = await api("POST", "/api/adapters", { name: name.trim(), job: id });
  notify(`Serving ${a.model}: ask for it by that model name.`, true);
  await loadAdapters();
}

// loadAdapters lists the adapters served over the local model.
async function loadAdapters() {
  const body = $("#adapters-table tbody");
  const note = (text) => body.replaceChildren(el("tr", {}, el("td", { colSpan: 4, textContent: text })));
  let list;
  try {
    list = await api("GET", "/api/adapters");
  } catch (err) {
    if (err.status !== 501) throw err;
    note(err.message); // no local model
    return;
  }
  if (!list.adapters.length) {
    note(`No adapter is served over ${list.base}: promote a finished fine-tuning job.`);
    return;
  }
  body.replaceChildren(...list.adapters.map((a) => el("tr", { className: "adapter-row" },
    el("td", { textContent: a.model }),
    el("td", { textContent: a.source }),
    el("td", { textContent: new Date(a.loaded_at).toLocaleString() }),
    el("td", {}, el("button", { type: "button", className: "unload", textContent: "Unload", onclick: guard(() => unloadAdapter(a)) })))));
}

async function unloadAdapter(a) {
  if (!confirm(`Stop serving ${a.model}?`)) return;
  await api("DELETE", `/api/adapters/${encodeURIComponent(a.name)}`);
  notify(`${a.model} is no longer served.`, true);
  await loadAdapters();
}

// drawLoss draws the training loss per step as a line and the validation
// losses as dots.
function drawLoss(steps, evals, total) {
  const svg = $("#loss-chart");
  const W = 600, H = 260, L = 48, R = 12, T = 12, B = 28;
  const node = (tag, attrs, text) => {
    const n = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const all = steps.map((s) => s.loss).concat(evals.map((e) => e.val_loss));
  const lo = all.length ? Math.min(...all) : 0, hi = all.length ? Math.max(...all) : 1;
  const span = hi - lo || 1;
  const maxStep = Math.max(total || 0, ...steps.map((s) => s.step), 1);
  const x = (s) => L + (W - L - R) * s / maxStep;
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / span);
  const kids = [
    node("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }),
    node("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }),
    node("text", { x: L - 6, y: T + 8, "text-anchor": "end" }, hi.toFixed(3)),
    node("text", { x: L - 6, y: H - B, "text-anchor": "end" }, lo.toFixed(3)),
    node("text", { x: W - R, y: H - 8, "text-anchor": "end" }, `step ${maxStep}`),
    node("text", { x: L, y: H - 8 }, "0"),
  ];
  if (steps.length) kids.push(node("polyline", { class: "loss", points: steps.map((s) => `${x(s.step).toFixed(1)},${y(s.loss).toFixed(1)}`).join(" ") }));
  for (const e of evals) kids.push(node("circle", { class: "val", cx: x(e.step), cy: y(e.val_loss), r: 3 }));
  svg.replaceChildren(...kids);
}

async function watchJob(id) {
  if (watching) watching.abort();
  watching = new AbortController();
  const signal = watching.signal;
  for (const tr of document.querySelectorAll("#jobs-table tr")) tr.classList.toggle("selected", tr.dataset.id === id);
  $("#job-detail").hidden = false;
  $("#job-title").textContent = id;
  $("#job-cancel").onclick = guard(() => api("POST", `/api/jobs/${id}/cancel`));
  $("#job-resume").onclick = guard(async () => { await api("POST", `/api/jobs/${id}/resume`); await loadJobs(); await watchJob(id); });
  const steps = [], evals = [];
  let total = 0;
  drawLoss(steps, evals, total);
  const status = $("#job-status");
  try {
    const resp = await fetch(`/api/jobs/${id}/events`, { headers: authHeaders(), signal });
    if (!resp.ok) throw await errorOf(resp);
    for await (const ev of events(resp)) {
      if (ev.type === "job") {
        status.textContent = ev.job.state + (ev.job.error ? ": " + ev.job.error : "");
        total = (ev.job.progress || {}).steps || 0;
      }
      if (ev.type === "step") {
        steps.push(ev);
        total = ev.steps || total;
        drawLoss(steps, evals, total);
        status.textContent = `step ${ev.step}${ev.steps ? "/" + ev.steps : ""}, loss ${ev.loss.toFixed(4)}`;
      }
      if (ev.type === "eval") { evals.push(ev); drawLoss(steps, evals, total); }
      if (ev.type === "log") status.textContent = ev.message;
      if (ev.type === "state") {
        status.textContent = ev.state + (ev.error ? ": " + ev.error : "");
        guard(loadJobs)();
      }
    }
  } catch (err) {
    if (err.name !== "AbortError") throw err;
  }
}

function setupJobs() {
  $("#job-form").addEventListener("submit", guard(async (e) => {
    e.preventDefault();
    const job = await api("POST", "/api/jobs", {
      kind: "tune",
      model: $("#job-model").value.trim(),
      from_feedback: $("#job-collection").value,
      options: { max_steps: Number($("#job-steps").value), lr: Number($("#job-lr").value), lora_rank: Number($("#job-rank").value) },
    });
    await loadJobs();
    await watchJob(job.id);
  }));
}

// ---- evaluations -------------------------------------------------------

async function loadEvals() {
  const { evals } = await api("GET", "/api/evals");
  const body = $("#evals-table tbody");
  if (!evals.length) {
    body.replaceChildren(el("tr", {}, el("td", { colSpan: 5, textContent: "No evaluation yet: flywheel eval run CONFIG.yaml --out DATA_DIR/evals/NAME" })));
    return;
  }
  body.replaceChildren(...evals.map((r) => el("tr", {},
    el("td", { textContent: r.name }),
    el("td", { textContent: r.created ? new Date(r.created).toLocaleString() : "" }),
    el("td", { textContent: r.examples }),
    el("td", { textContent: r.variants.map((v) => v.name).join(", ") }),
    el("td", {}, el("button", { type: "button", textContent: "Open report", onclick: guard(() => openReport(r.name)) })))));
}
loaders.evals = loadEvals;

// openReport shows a report (a self-contained page) in a sandboxed frame,
// fetched with the key, which a frame's own request could not send.
async function openReport(name) {
  const resp = await fetch(`/api/evals/${encodeURIComponent(name)}/report.html`, { headers: authHeaders() });
  if (!resp.ok) throw await errorOf(resp);
  const frame = $("#eval-frame");
  frame.srcdoc = await resp.text();
  frame.hidden = false;
}

// ---- start ---------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  setupChrome();
  setupCollections();
  setupUpload();
  setupChat();
  setupFeedback();
  setupJobs();
  guard(loadCollections)();
});
