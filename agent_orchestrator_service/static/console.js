// The tenant console: plain ES module, no build step, no external resources. Every value from the APIs is
// written with textContent (never as HTML), so nothing a tenant stores can inject markup.

const $ = (id) => document.getElementById(id);
const KEY = "nooble4.credential";
const CHAT = "nooble4.chat";  // the open chat session and the last event seen, to resume after a reload
const TABS = ["agents", "knowledge", "chat", "account"];
let apis = {};
let refreshTimer = null;
let limits = {};
let socket = null;
let turn = null;  // {taskId, bubble, text}
const tasks = new Map();  // document id -> its latest ingestion task (uploads of this page)
const uploads = new Map();  // document id -> the File, so a failed document can be retried
const progress = new Map();  // document id -> {socket, text, cell}: live progress from the ingestion WebSocket

async function api(service, path, { method = "GET", body, form } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const response = await fetch(`${apis[service]}${path}`, { method, headers, body: payload });
  if (response.status === 204) return null;
  const doc = await response.json().catch(() => ({}));
  if (response.status === 401) {
    signOut(`Signed out: ${describe(doc.error, 401)}. Sign in again with a valid key.`);
    throw new Error("signed out");
  }
  if (response.status === 429) {
    const wait = response.headers.get("Retry-After");
    throw new Error(`Too many requests for your plan: try again in ${wait || "a few"} seconds.`);
  }
  if (!response.ok) throw new Error(describe(doc.error, response.status));
  return doc;
}

function describe(error, status) {
  if (!error) return `request failed (${status})`;
  const fields = (error.details && error.details.errors) || [];
  const where = fields.map((e) => `${(e.loc || []).slice(1).join(".") || "request"}: ${e.msg}`).join("; ");
  return where ? `${error.message} — ${where}` : error.message;
}

function show(message) { $("message").textContent = message || ""; }

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function button(label, onClick, title) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (title) b.setAttribute("aria-label", title);
  b.addEventListener("click", () => guarded(onClick));
  return b;
}

async function guarded(action) {
  try { show(""); await action(); } catch (error) { if (error.message !== "signed out") show(error.message); }
}

// ------------------------------------------------------------------ sign in and navigation
async function signIn(credential) {
  sessionStorage.setItem(KEY, credential);
  const tenant = await api("management", "/api/v1/tenants/me");
  $("who").textContent = `${tenant.name} · ${tenant.tier}`;
  $("tenant").textContent = `${tenant.name} — tier ${tenant.tier} — tenant id ${tenant.id}`;
  limits = tenant.limits;
  $("signIn").hidden = true;
  $("nav").hidden = false;
  $("signOut").hidden = false;
  openTab("agents");
}

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(CHAT);
  if (socket) socket.close();
  $("signIn").hidden = false;
  $("nav").hidden = true;
  $("signOut").hidden = true;
  $("who").textContent = "";
  for (const tab of TABS) $(`tab-${tab}`).hidden = true;
  show(reason || "");
}

function openTab(name) {
  for (const b of document.querySelectorAll("#nav button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const tab of TABS) $(`tab-${tab}`).hidden = tab !== name;
  clearTimeout(refreshTimer);
  guarded({ agents: loadAgents, knowledge: loadKnowledge, chat: loadChat, account: loadAccount }[name]);
}

// ------------------------------------------------------------------ agents
async function loadAgents() {
  const [templates, page, collections] = await Promise.all([
    api("management", "/api/v1/templates"),
    api("management", "/api/v1/agents?limit=100"),
    api("ingestion", "/api/v1/collections"),
  ]);
  const select = $("template");
  const previous = select.value;
  select.replaceChildren(
    new Option("Blank agent — a helpful assistant to shape yourself", ""),
    ...templates.map((t) => new Option(`${t.name} — ${t.description}`, t.id)),
  );
  select.value = select.dataset.chosen ? previous : (templates.length ? templates[0].id : "");
  select.onchange = () => { select.dataset.chosen = "1"; };
  $("agentCollections").replaceChildren(...collections.map((c) => new Option(c.name, c.id)));
  $("newAgentTitle").textContent = limits.max_agents
    ? `New agent (${page.total} of ${limits.max_agents} on your plan)` : "New agent";
  const body = $("agents");
  body.replaceChildren();
  for (const agent of page.items) {
    const row = body.insertRow();
    cell(row, agent.name);
    cell(row, `${agent.model.provider}:${agent.model.name}`);
    cell(row, agent.is_active ? "yes" : "no");
    const prompt = document.createElement("textarea");
    prompt.value = agent.system_prompt;
    prompt.setAttribute("aria-label", `System prompt of ${agent.name}`);
    row.insertCell().append(prompt);
    const actions = row.insertCell();
    const settings = agentSettings(agent, collections);
    actions.append(
      button("Save", async () => {
        const body = { system_prompt: prompt.value, ...settings.values() };
        await api("management", `/api/v1/agents/${agent.id}`, { method: "PATCH", body });
        await loadAgents();
      }, `Save ${agent.name}`),
      button(agent.is_active ? "Deactivate" : "Activate", async () => {
        await api("management", `/api/v1/agents/${agent.id}`, { method: "PATCH", body: { is_active: !agent.is_active } });
        await loadAgents();
      }, `Toggle ${agent.name}`),
      button("Delete", async () => {
        await api("management", `/api/v1/agents/${agent.id}`, { method: "DELETE" });
        await loadAgents();
      }, `Delete ${agent.name}`),
      settings.element,
    );
  }
}

const TOOLS = ["calculator", "current_time"];
const KNOWLEDGE_MODES = {
  auto: "auto: search the documents before every question",
  always: "always: search before every message",
  tool: "tool: the model decides when to search (capable models)",
  off: "off: do not use the collections",
};
const ANSWER_STYLES = {
  auto: "auto: quotes for the local model, the model's own words for the others",
  quote: "quote: lead with the supporting sentences, cited",
  model: "model: the model writes the answer and cites",
};

// Model, tools, collections and memory of one agent; the model providers offered are the tier's.
function agentSettings(agent, collections) {
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Settings";
  details.append(summary);
  const field = (label, input) => {
    const l = document.createElement("label");
    l.textContent = label;
    l.append(input);
    details.append(l);
    return input;
  };
  const provider = field("Model provider", document.createElement("select"));
  for (const p of limits.allowed_model_providers || [agent.model.provider]) provider.append(new Option(p, p));
  provider.value = agent.model.provider;
  const model = field("Model name", document.createElement("input"));
  model.value = agent.model.name;
  const tools = field("Tools", document.createElement("select"));
  tools.multiple = true;
  for (const t of TOOLS) tools.append(new Option(t, t, false, agent.tools.includes(t)));
  const colls = field("Collections", document.createElement("select"));
  colls.multiple = true;
  for (const c of collections) colls.append(new Option(c.name, c.id, false, agent.collection_ids.includes(c.id)));
  const knowledge = agent.knowledge;
  const options = (select, labels, value) => {
    for (const [v, label] of Object.entries(labels)) select.append(new Option(label, v));
    select.value = value;
    return select;
  };
  const mode = field("Use of documents", options(document.createElement("select"), KNOWLEDGE_MODES, knowledge.mode));
  const style = field("Answers", options(document.createElement("select"), ANSWER_STYLES, knowledge.answer_style));
  const abstain = field("When the documents have no answer, say", document.createElement("input"));
  abstain.maxLength = 1000;
  abstain.value = knowledge.abstain_message;
  const memory = field("Messages remembered", document.createElement("input"));
  memory.type = "number";
  memory.min = "0";
  memory.value = agent.memory.max_messages;
  const chosen = (select) => [...select.selectedOptions].map((o) => o.value);
  return {
    element: details,
    values: () => ({
      model: { ...agent.model, provider: provider.value, name: model.value },
      tools: chosen(tools),
      collection_ids: chosen(colls),
      knowledge: { ...knowledge, mode: mode.value, answer_style: style.value, abstain_message: abstain.value || knowledge.abstain_message },
      memory: { ...agent.memory, max_messages: Number(memory.value) },
    }),
  };
}

async function createAgent(event) {
  event.preventDefault();
  const collection_ids = [...$("agentCollections").selectedOptions].map((o) => o.value);
  const name = $("agentName").value;
  if ($("template").value) {
    const body = { template_id: $("template").value, name, collection_ids };
    await api("management", "/api/v1/agents/from-template", { method: "POST", body });
  } else {
    const body = { name, system_prompt: "You are a helpful assistant.", collection_ids };
    await api("management", "/api/v1/agents", { method: "POST", body });
  }
  $("agentName").value = "";
  await loadAgents();
}

// ------------------------------------------------------------------ knowledge
async function loadKnowledge() {
  const collections = await api("ingestion", "/api/v1/collections");
  const select = $("collection");
  const chosen = select.value;
  select.replaceChildren(...collections.map((c) => new Option(`${c.name} (${c.document_count} documents)`, c.id)));
  if (chosen) select.value = chosen;
  await loadDocuments();
}

async function loadDocuments() {
  clearTimeout(refreshTimer);
  const collection = $("collection").value;
  if (!collection) { $("documents").replaceChildren(); return; }
  const page = await api("ingestion", `/api/v1/documents?collection_id=${encodeURIComponent(collection)}&limit=200`);
  const body = $("documents");
  body.replaceChildren();
  let busy = false;
  for (const doc of page.items) {
    const row = body.insertRow();
    const running = doc.status === "queued" || doc.status === "processing";
    cell(row, doc.source);
    const status = cell(row, doc.status, `status-${doc.status}`);
    if (running && tasks.has(doc.id)) watchTask(doc.id, tasks.get(doc.id), status);
    cell(row, doc.chunk_count);
    cell(row, doc.error || "");
    const actions = row.insertCell();
    if (doc.status === "failed" && uploads.has(doc.id)) {
      actions.append(button("Retry", () => sendFile(uploads.get(doc.id)), `Retry ${doc.source}`));
    }
    actions.append(button("Delete", async () => {
      await api("ingestion", `/api/v1/documents/${doc.id}`, { method: "DELETE" });
      await loadDocuments();
    }, `Delete ${doc.source}`));
    busy ||= running;
  }
  if (busy) refreshTimer = setTimeout(() => guarded(loadDocuments), 1000);  // live progress until all settle
}

// Live stage and percent of an ingestion, pushed by its task's WebSocket (the key in the first frame).
function watchTask(documentId, taskId, statusCell) {
  const known = progress.get(documentId);
  if (known) {
    known.cell = statusCell;
    if (known.text) statusCell.textContent = known.text;
    return;
  }
  const url = `${apis.ingestion.replace(/^http/, "ws")}/ws/ingestion/${encodeURIComponent(taskId)}`;
  const socket = new WebSocket(url);
  const watcher = { socket, text: "", cell: statusCell };
  progress.set(documentId, watcher);
  socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: sessionStorage.getItem(KEY) }));
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    watcher.text = `${event.stage} ${event.percent}%`;
    watcher.cell.textContent = watcher.text;
    if (event.status === "done" || event.status === "failed") {
      socket.close();
      progress.delete(documentId);
      tasks.delete(documentId);
      guarded(loadDocuments);
    }
  };
  socket.onclose = () => progress.delete(documentId);
}

async function createCollection(event) {
  event.preventDefault();
  const name = $("collectionName").value.trim();
  if (!name) return;
  const created = await api("ingestion", "/api/v1/collections", { method: "POST", body: { name } });
  $("collectionName").value = "";
  await loadKnowledge();
  $("collection").value = created.id;
  await loadDocuments();
}

async function upload(files) {
  const collection = $("collection").value;
  if (!collection) throw new Error("create or choose a collection first");
  for (const file of files) await sendFile(file, false);
  await loadDocuments();
}

async function sendFile(file, refresh = true) {
  const form = new FormData();
  form.append("collection_id", $("collection").value);
  form.append("file", file, file.name);
  accepted(await api("ingestion", "/api/v1/documents", { method: "POST", form }), file);
  if (refresh) await loadDocuments();
}

function accepted(result, file) {
  if (result.task_id) tasks.set(result.document.id, result.task_id);
  if (file) uploads.set(result.document.id, file);
  if (result.duplicate && !result.task_id) show(`${result.document.source} is already in this collection.`);
}

async function addText(event) {
  event.preventDefault();
  const body = { collection_id: $("collection").value, title: $("textTitle").value || "Untitled", text: $("textBody").value };
  accepted(await api("ingestion", "/api/v1/documents/text", { method: "POST", body }));
  $("textBody").value = "";
  await loadDocuments();
}

async function addUrl(event) {
  event.preventDefault();
  const body = { collection_id: $("collection").value, url: $("docUrl").value };
  accepted(await api("ingestion", "/api/v1/documents/url", { method: "POST", body }));
  $("docUrl").value = "";
  await loadDocuments();
}

async function search(event) {
  event.preventDefault();
  const body = { query: $("query").value, collection_ids: [$("collection").value], mode: $("mode").value, top_k: 10 };
  const result = await api("query", "/api/v1/query/search", { method: "POST", body });
  const hits = $("hits");
  hits.replaceChildren();
  if (!result.results.length) hits.textContent = "No results.";
  for (const [i, hit] of result.results.entries()) {
    const item = document.createElement("div");
    item.className = "hit";
    const title = document.createElement("strong");
    title.textContent = `${i + 1}. ${hit.source}${hit.page ? ` p.${hit.page}` : ""} — score ${hit.score.toFixed(3)}`;
    const text = document.createElement("p");
    text.textContent = hit.content;
    item.append(title, text);
    hits.append(item);
  }
}

// ------------------------------------------------------------------ keys
async function loadAccount() {
  const [stats, usage, docs] = await Promise.all([
    api("conversation", "/api/v1/conversations/stats"),
    api("management", "/api/v1/tenants/me/usage"),
    api("ingestion", "/api/v1/documents/usage"),
  ]);
  const of = (used, limit) => `${used} of ${limit ?? "unlimited"}`;
  const requests = usage.requests.map((w) => [`Requests this ${w.window}`, `${of(w.used, w.limit)} (resets in ${Math.ceil(w.resets_in_s)} s)`]);
  const rows = [
    ...(requests.length ? requests : [["Requests", "unlimited"]]),
    ["Documents in the last 24 hours", of(docs.documents_last_24h, docs.max_documents_per_day)],
    ["Messages / their tokens in the last 24 hours", `${stats.messages_last_24h} / ${stats.message_tokens_last_24h}`],
    ["Agents allowed", limits.max_agents ?? "unlimited"],
    ["Collections allowed", limits.max_collections ?? "unlimited"],
    ["Largest upload", `${limits.max_file_size_mb} MB`],
    ["Model providers", (limits.allowed_model_providers || []).join(", ")],
    ["Conversations / messages stored", `${stats.conversations} / ${stats.messages}`],
    ["Model tokens used (prompt + completion)", `${stats.total_tokens} (${stats.prompt_tokens} + ${stats.completion_tokens})`],
  ];
  const body = $("usage");
  body.replaceChildren();
  for (const [name, value] of rows) {
    const row = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = name;
    row.append(th);
    cell(row, value);
  }
  await loadKeys();
}

async function loadKeys() {
  const keys = await api("management", "/api/v1/tenants/me/keys");
  const body = $("keys");
  body.replaceChildren();
  for (const key of keys) {
    const row = body.insertRow();
    cell(row, key.name);
    cell(row, key.prefix);
    cell(row, new Date(key.created_at).toLocaleString());
    cell(row, key.last_used_at ? new Date(key.last_used_at).toLocaleString() : "never");
    const actions = row.insertCell();
    if (key.revoked_at) actions.textContent = "revoked";
    else actions.append(button("Revoke", async () => {
      await api("management", `/api/v1/tenants/me/keys/${key.id}`, { method: "DELETE" });
      await loadKeys();
    }, `Revoke ${key.name}`));
  }
}

async function createKey(event) {
  event.preventDefault();
  const created = await api("management", "/api/v1/tenants/me/keys", { method: "POST", body: { name: $("keyName").value } });
  $("newKey").hidden = false;
  $("newKey").textContent = `New key (shown once, copy it now): ${created.api_key}`;
  $("keyName").value = "";
  await loadKeys();
}

// ------------------------------------------------------------------ chat
// Markdown as DOM nodes (paragraphs, lists, code, bold, inline code, [n] citations): never innerHTML.
function renderMarkdown(container, text, sources) {
  container.replaceChildren();
  const parts = text.split("```");
  parts.forEach((part, i) => {
    if (i % 2) {
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = part.replace(/^[\w-]*\n/, "");
      pre.append(code);
      container.append(pre);
      return;
    }
    for (const block of part.split(/\n{2,}/)) {
      const lines = block.split("\n").filter((l) => l.trim());
      if (!lines.length) continue;
      if (lines.every((l) => /^\s*>/.test(l))) {
        const quote = document.createElement("blockquote");
        quote.append(inline(document.createElement("p"), lines.map((l) => l.replace(/^\s*> ?/, "")).join(" "), sources));
        container.append(quote);
      } else if (lines.every((l) => /^\s*[-*] /.test(l))) {
        const list = document.createElement("ul");
        for (const l of lines) list.append(inline(document.createElement("li"), l.replace(/^\s*[-*] /, ""), sources));
        container.append(list);
      } else {
        container.append(inline(document.createElement("p"), lines.join(" "), sources));
      }
    }
  });
}

function inline(element, text, sources) {
  for (const token of text.split(/(\*\*[^*]+\*\*|`[^`]+`|\[\d+\])/)) {
    if (!token) continue;
    if (token.startsWith("**") && token.endsWith("**")) {
      const b = document.createElement("strong"); b.textContent = token.slice(2, -2); element.append(b);
    } else if (token.startsWith("`") && token.endsWith("`")) {
      const c = document.createElement("code"); c.textContent = token.slice(1, -1); element.append(c);
    } else if (/^\[\d+\]$/.test(token) && sources[Number(token.slice(1, -1)) - 1]) {
      const a = document.createElement("a");
      a.href = `#source-${turnId}-${token.slice(1, -1)}`;
      a.textContent = token;
      element.append(a);
    } else element.append(document.createTextNode(token));
  }
  return element;
}

let turnId = 0;

function bubble(kind, text) {
  const div = document.createElement("div");
  div.className = `msg ${kind}`;
  div.textContent = text;
  $("chatLog").append(div);
  $("chatLog").scrollTop = $("chatLog").scrollHeight;
  return div;
}

function step(text) {  // a tool step, shown above the answer it leads to
  const line = bubble("tool", text);
  if (turn) turn.bubble.before(line);
}

function showSources(parent, sources) {
  if (!sources.length) return;
  const list = document.createElement("ol");
  list.className = "sources";
  sources.forEach((s, i) => {
    const item = document.createElement("li");
    item.id = `source-${turnId}-${i + 1}`;
    item.textContent = `${s.document_title || s.source}${s.page ? `, page ${s.page}` : ""}: ${(s.content || "").slice(0, 160)}`;
    list.append(item);
  });
  parent.append(list);
}

function busy(running) {
  $("chatSend").disabled = running;
  $("chatStop").disabled = !running;
}

function onEvent(event) {
  const saved = JSON.parse(sessionStorage.getItem(CHAT) || "{}");
  if (event.seq) sessionStorage.setItem(CHAT, JSON.stringify({ ...saved, last_seq: event.seq }));
  switch (event.type) {
    case "session_ready": $("chatInput").disabled = false; busy(false); break;
    case "message_start": turnId += 1; turn = { taskId: event.task_id, bubble: bubble("assistant", ""), text: "", sources: [] }; busy(true); break;
    case "sources": if (turn) turn.sources = event.items; break;  // sent before the first token: [n] link to them
    case "token": if (turn) { turn.text += event.delta; turn.bubble.textContent = turn.text; } break;
    case "turn_restart": if (turn) { turn.text = ""; turn.bubble.textContent = ""; } break;
    case "tool_call": step(`→ ${event.name}`); break;
    case "tool_result": step(`← ${event.name}: ${event.summary.replace(/\s+/g, " ").slice(0, 120)}`); break;
    case "message_end":
      if (turn) {
        const sources = event.sources && event.sources.length ? event.sources : turn.sources;
        renderMarkdown(turn.bubble, event.content, sources);
        showSources(turn.bubble, sources);
      }
      turn = null; busy(false);
      guarded(loadConversations);  // the turn is stored: the list shows it
      break;
    case "error":
      show(event.code === "rate_limited" ? `Too many requests for your plan: try again in ${Math.ceil(event.retry_after || 1)} seconds.` : event.message);
      if (event.task_id || event.code === "turn_timeout") { turn = null; busy(false); }
      break;
  }
}

function connect(session, lastSeq) {
  if (socket) socket.close();
  const resume = lastSeq === null ? "" : `?last_seq=${lastSeq}`;
  socket = new WebSocket(`${session.ws_url}${resume}`);
  // the key goes in the first frame, never in the URL
  socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: sessionStorage.getItem(KEY) }));
  socket.onmessage = (message) => onEvent(JSON.parse(message.data));
  socket.onclose = (close) => {
    if (close.code === 4401) signOut("Signed out: your key was revoked or is invalid. Sign in again.");
    else if (close.code === 4404) sessionStorage.removeItem(CHAT);
  };
  $("chatInput").disabled = false;
}

async function loadChat() {
  const page = await api("management", "/api/v1/agents?limit=100");
  $("chatAgent").replaceChildren(...page.items.filter((a) => a.is_active).map((a) => new Option(a.name, a.id)));
  const saved = JSON.parse(sessionStorage.getItem(CHAT) || "null");
  if (saved && (!socket || socket.readyState > 1)) {
    $("chatLog").replaceChildren();
    connect(saved, 0);  // after a reload the page is empty: replay the session's log from its start
  }
  await loadConversations();
}

async function newChat(event) {
  event.preventDefault();
  const session = await api("orchestrator", "/api/v1/chat/sessions", { method: "POST", body: { agent_id: $("chatAgent").value } });
  sessionStorage.setItem(CHAT, JSON.stringify({ session_id: session.session_id, ws_url: session.ws_url, last_seq: 0 }));
  $("chatLog").replaceChildren();
  connect(session, null);
}

function send(event) {
  event.preventDefault();
  const text = $("chatInput").value.trim();
  if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
  bubble("user", text);
  socket.send(JSON.stringify({ type: "message", content: text }));
  $("chatInput").value = "";
}

function stop() {
  if (turn && socket) socket.send(JSON.stringify({ type: "cancel", task_id: turn.taskId }));
}

async function loadConversations() {
  const page = await api("conversation", "/api/v1/conversations?limit=20");
  const body = $("conversations");
  body.replaceChildren();
  for (const c of page.items) {
    const row = body.insertRow();
    cell(row, new Date(c.created_at).toLocaleString());
    cell(row, c.title || "(untitled)");
    cell(row, c.message_count);
    row.insertCell().append(
      button("Open", () => openConversation(c.id), `Open conversation ${c.title || c.id}`),
      button("Export", () => exportConversation(c.id), `Export conversation ${c.title || c.id}`),
    );
  }
}

async function openConversation(id) {
  const conversation = await api("conversation", `/api/v1/conversations/${encodeURIComponent(id)}`);
  const box = $("transcript");
  box.replaceChildren();
  for (const m of conversation.messages) {
    const div = document.createElement("div");
    div.className = `msg ${m.role === "user" ? "user" : "assistant"}`;
    div.textContent = `${m.role}: ${m.content}`;
    box.append(div);
  }
}

async function exportConversation(id) {
  const doc = await api("conversation", `/api/v1/conversations/${encodeURIComponent(id)}/export`);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
  link.download = `conversation-${id}.json`;
  link.click();
  URL.revokeObjectURL(link.href);
}

// ------------------------------------------------------------------ wiring
async function start() {
  apis = (await (await fetch("/console/config.json")).json()).apis;
  $("signInForm").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(() => signIn($("apiKey").value.trim()));
  });
  $("signOut").addEventListener("click", () => signOut());
  for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => openTab(b.dataset.tab));
  $("agentForm").addEventListener("submit", (event) => guarded(() => createAgent(event)));
  $("collectionForm").addEventListener("submit", (event) => guarded(() => createCollection(event)));
  $("collection").addEventListener("change", () => guarded(loadDocuments));
  $("files").addEventListener("change", () => guarded(() => upload($("files").files)));
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    guarded(() => upload(event.dataTransfer.files));
  });
  $("searchForm").addEventListener("submit", (event) => guarded(() => search(event)));
  $("textForm").addEventListener("submit", (event) => guarded(() => addText(event)));
  $("urlForm").addEventListener("submit", (event) => guarded(() => addUrl(event)));
  $("keyForm").addEventListener("submit", (event) => guarded(() => createKey(event)));
  $("chatStart").addEventListener("submit", (event) => guarded(() => newChat(event)));
  $("chatForm").addEventListener("submit", send);
  $("chatStop").addEventListener("click", stop);
  const saved = sessionStorage.getItem(KEY);
  if (saved) await guarded(() => signIn(saved));
}

start();
