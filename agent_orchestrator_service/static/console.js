// The tenant console: plain ES module, no build step, no external resources. Every value from the APIs is
// written with textContent (never as HTML), so nothing a tenant stores can inject markup. The chats (the Chat
// tab and an agent's test chat) are the shared chat view of /static/chat.js.
import { CHAT_CSS, ChatView, copyText, el, renderMarkdown, storedValue } from "/static/chat.js";

const $ = (id) => document.getElementById(id);
const KEY = "nooble4.credential";
const TAB = "nooble4.tab";  // the open tab, reopened after a reload
const TABS = ["agents", "knowledge", "chat", "widget", "tools", "account"];
const chatState = storedValue("nooble4.chat", sessionStorage);  // the open chat session and the last event seen
let apis = {};
let refreshTimer = null;
let limits = {};
let tenantInfo = null;
let models = [];
let signedIn = false;
const tasks = new Map();  // document id -> its latest ingestion task (uploads of this page)
const uploads = new Map();  // document id -> the File, so a failed document can be retried
const progress = new Map();  // document id -> {socket, text, percent, cell}: live progress from the ingestion socket

async function api(service, path, { method = "GET", body, form } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const response = await fetch(`${apis[service]}${path}`, { method, headers, body: payload });
  if (response.status === 204) return null;
  const doc = await response.json().catch(() => ({}));
  if (response.status === 401) {
    signOut(signedIn ? `Signed out: ${describe(doc.error, 401)}. Sign in again with a valid key.` : `Sign-in failed: ${describe(doc.error, 401)}.`);
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

function cell(row, text, label) {
  const td = row.insertCell();
  td.textContent = text == null ? "" : String(text);
  if (label) td.dataset.label = label;
  return td;
}

function button(label, onClick, title, className = "") {
  const b = el("button", className, label);
  b.type = "button";
  if (title) b.setAttribute("aria-label", title);
  b.addEventListener("click", () => guarded(onClick));
  return b;
}

function buttons(row, ...items) {
  const box = el("div", "buttons");
  box.append(...items);
  row.insertCell().append(box);
}

function when(value) { return value ? new Date(value).toLocaleString() : ""; }

async function guarded(action) {
  try { show(""); await action(); } catch (error) { if (error.message !== "signed out") show(error.message); }
}

// ------------------------------------------------------------------ sign in and navigation
async function signIn(credential) {
  sessionStorage.setItem(KEY, credential);
  const tenant = await api("management", "/api/v1/tenants/me");
  signedIn = true;
  tenantInfo = tenant;
  $("who").textContent = `${tenant.name} · ${tenant.tier}`;
  $("tenant").textContent = `${tenant.name} — tier ${tenant.tier} — tenant id ${tenant.id}`;
  limits = tenant.limits;
  models = await api("management", "/api/v1/models").catch(() => []);
  $("signIn").hidden = true;
  $("nav").hidden = false;
  $("signOut").hidden = false;
  openTab(TABS.includes(sessionStorage.getItem(TAB)) ? sessionStorage.getItem(TAB) : "agents");
}

function signOut(reason) {
  signedIn = false;
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(TAB);
  chatState.set(null);
  chat.reset();
  tryChat.reset();
  $("signIn").hidden = false;
  $("nav").hidden = true;
  $("signOut").hidden = true;
  $("who").textContent = "";
  for (const tab of TABS) $(`tab-${tab}`).hidden = true;
  show(reason || "");
}

function openTab(name) {
  sessionStorage.setItem(TAB, name);
  for (const b of document.querySelectorAll("#nav button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const tab of TABS) $(`tab-${tab}`).hidden = tab !== name;
  clearTimeout(refreshTimer);
  guarded({ agents: loadAgents, knowledge: loadKnowledge, chat: loadChat, widget: loadWidget, tools: loadTools, account: loadAccount }[name]);
}

// ------------------------------------------------------------------ agents
async function loadAgents() {
  const [templates, page, collections, servers] = await Promise.all([
    api("management", "/api/v1/templates"),
    api("management", "/api/v1/agents?limit=100"),
    api("ingestion", "/api/v1/collections"),
    api("management", "/api/v1/mcp-servers"),
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
    cell(row, agent.name, "Name");
    cell(row, `${agent.model.provider}:${agent.model.name}`, "Model");
    cell(row, agent.is_active ? "yes" : "no", "Active");
    const prompt = el("textarea");
    prompt.value = agent.system_prompt;
    prompt.setAttribute("aria-label", `System prompt of ${agent.name}`);
    row.insertCell().append(prompt);
    const settings = agentSettings(agent, collections, servers);
    const actions = row.insertCell();
    const box = el("div", "buttons");
    box.append(
      button("Save", async () => {
        const body = { system_prompt: prompt.value, ...settings.values() };
        await api("management", `/api/v1/agents/${agent.id}`, { method: "PATCH", body });
        await loadAgents();
      }, `Save ${agent.name}`),
      button("Try", () => openTryChat(agent), `Try ${agent.name}`),
      button(agent.is_active ? "Deactivate" : "Activate", async () => {
        await api("management", `/api/v1/agents/${agent.id}`, { method: "PATCH", body: { is_active: !agent.is_active } });
        await loadAgents();
      }, `Toggle ${agent.name}`),
      button("Delete", async () => {
        if (!confirm(`Delete the agent ${agent.name}? Its conversations stay.`)) return;
        await api("management", `/api/v1/agents/${agent.id}`, { method: "DELETE" });
        await loadAgents();
      }, `Delete ${agent.name}`, "danger"),
    );
    actions.append(box, settings.element);
  }
}

const TOOLS = ["calculator", "current_time", "web_fetch", "http_request"];
const MEMORY_MODES = {
  recall: "recall: bring back the earlier messages like each question",
  summary: "summary: keep a running summary of the earlier messages",
  both: "both: a summary and the recalled messages",
  off: "off: only the messages in the window",
};
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

// Model (picked from the known models of the tier's providers, or another name), its temperature and answer
// length, tools, collections, use of documents and memory of one agent.
function agentSettings(agent, collections, servers = []) {
  const details = el("details");
  details.append(el("summary", "", "Settings"));
  const field = (label, input) => {
    const l = el("label", "", label);
    l.append(input);
    details.append(l);
    return input;
  };
  const provider = field("Model provider", el("select"));
  for (const p of limits.allowed_model_providers || [agent.model.provider]) provider.append(new Option(p, p));
  provider.value = agent.model.provider;
  const model = field("Model name", el("select"));
  const other = field("Another model", el("input"));
  other.maxLength = 100;
  const fillModels = () => {
    const known = models.filter((m) => m.provider === provider.value);
    model.replaceChildren(...known.map((m) => new Option(`${m.name} — ${m.description}`, m.name)), new Option("other…", ""));
    const current = provider.value === agent.model.provider ? agent.model.name : (known[0] || {}).name || "";
    model.value = known.some((m) => m.name === current) ? current : "";
    other.value = model.value ? "" : current;
    other.parentElement.hidden = !!model.value;
  };
  provider.addEventListener("change", fillModels);
  model.addEventListener("change", () => { other.parentElement.hidden = !!model.value; });
  fillModels();
  const temperature = field("Temperature (0 = focused, 2 = inventive)", el("input"));
  Object.assign(temperature, { type: "number", min: "0", max: "2", step: "0.1", value: agent.model.temperature });
  const maxTokens = field("Longest answer (tokens)", el("input"));
  Object.assign(maxTokens, { type: "number", min: "1", max: "32768", value: agent.model.max_tokens });
  const tools = field("Tools", el("select"));
  tools.multiple = true;
  for (const t of TOOLS) tools.append(new Option(t, t, false, agent.tools.includes(t)));
  const hosts = field("Hosts http_request may call (comma-separated)", el("input"));
  hosts.value = (agent.http_allowed_hosts || []).join(", ");
  const mcp = field("From MCP servers", el("select"));
  mcp.multiple = true;
  const enabled = new Set((agent.mcp_tools || []).map((t) => `${t.server}/${t.tool}`));
  for (const server of servers) {
    for (const t of server.tools) {
      const value = `${server.name}/${t.name}`;
      mcp.append(new Option(`${server.name}: ${t.name}`, value, false, enabled.has(value)));
    }
  }
  const colls = field("Collections", el("select"));
  colls.multiple = true;
  for (const c of collections) colls.append(new Option(c.name, c.id, false, agent.collection_ids.includes(c.id)));
  const knowledge = agent.knowledge;
  const options = (select, labels, value) => {
    for (const [v, label] of Object.entries(labels)) select.append(new Option(label, v));
    select.value = value;
    return select;
  };
  const mode = field("Use of documents", options(el("select"), KNOWLEDGE_MODES, knowledge.mode));
  const style = field("Answers", options(el("select"), ANSWER_STYLES, knowledge.answer_style));
  const abstain = field("When the documents have no answer, say", el("input"));
  abstain.maxLength = 1000;
  abstain.value = knowledge.abstain_message;
  const memory = field("Messages remembered", el("input"));
  Object.assign(memory, { type: "number", min: "0", value: agent.memory.max_messages });
  const memoryMode = field("Older messages", options(el("select"), MEMORY_MODES, agent.memory.mode || "recall"));
  const perDay = field("Tokens per day (empty: no limit)", el("input"));
  Object.assign(perDay, { type: "number", min: "1", value: (agent.budget || {}).tokens_per_day ?? "" });
  const chosen = (select) => [...select.selectedOptions].map((o) => o.value);
  return {
    element: details,
    values: () => ({
      model: {
        ...agent.model,
        provider: provider.value,
        name: model.value || other.value.trim() || agent.model.name,
        temperature: Number(temperature.value),
        max_tokens: Number(maxTokens.value),
      },
      tools: chosen(tools),
      collection_ids: chosen(colls),
      knowledge: { ...knowledge, mode: mode.value, answer_style: style.value, abstain_message: abstain.value || knowledge.abstain_message },
      memory: { ...agent.memory, max_messages: Number(memory.value), mode: memoryMode.value },
      http_allowed_hosts: hosts.value.split(",").map((h) => h.trim()).filter(Boolean),
      mcp_tools: chosen(mcp).map((v) => { const [server, tool] = v.split("/"); return { server, tool }; }),
      budget: { ...(agent.budget || {}), tokens_per_day: perDay.value ? Number(perDay.value) : null },
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

// The test chat beside the agents: a new session with the agent as saved.
async function openTryChat(agent) {
  const session = await api("orchestrator", "/api/v1/chat/sessions", { method: "POST", body: { agent_id: agent.id } });
  $("tryTitle").textContent = `Try ${agent.name}`;
  $("tryPanel").hidden = false;
  $("agentsLayout").classList.add("trying");
  tryChat.open(session);
  $("tryInput").focus();
}

function closeTryChat() {
  tryChat.forget();
  $("tryPanel").hidden = true;
  $("agentsLayout").classList.remove("trying");
}

// ------------------------------------------------------------------ knowledge
async function loadKnowledge() {
  const collections = await api("ingestion", "/api/v1/collections");
  const select = $("collection");
  const chosen = select.value;
  select.replaceChildren(...collections.map((c) => new Option(collectionLabel(c.name, c.document_count), c.id)));
  for (const option of select.options) option.dataset.name = collections.find((c) => c.id === option.value).name;
  if (chosen && collections.some((c) => c.id === chosen)) select.value = chosen;
  $("renameCollection").disabled = $("deleteCollection").disabled = !collections.length;
  await loadDocuments();
}

function collectionLabel(name, count) { return `${name} (${count} document${count === 1 ? "" : "s"})`; }

async function loadDocuments() {
  clearTimeout(refreshTimer);
  const collection = $("collection").value;
  if (!collection) { $("documents").replaceChildren(); return; }
  const page = await api("ingestion", `/api/v1/documents?collection_id=${encodeURIComponent(collection)}&limit=200`);
  const option = $("collection").selectedOptions[0];
  if (option) option.textContent = collectionLabel(option.dataset.name, page.total);  // never a stale count
  const body = $("documents");
  body.replaceChildren();
  let busy = false;
  for (const doc of page.items) {
    const row = body.insertRow();
    const running = doc.status === "queued" || doc.status === "processing";
    cell(row, doc.source, "Document");
    const status = cell(row, doc.status, "Status");
    status.className = `status-${doc.status}`;
    if (running && tasks.has(doc.id)) watchTask(doc.id, tasks.get(doc.id), status);
    cell(row, doc.chunk_count, "Chunks");
    cell(row, doc.error || "", "Reason");
    const items = [];
    if (doc.status === "failed" && doc.error_retryable && uploads.has(doc.id)) {
      items.push(button("Retry", () => sendFile(uploads.get(doc.id)), `Retry ${doc.source}`));
    }
    if (doc.status === "ready") items.push(button("Chunks", () => showChunks(doc), `Chunks of ${doc.source}`));
    items.push(button("Delete", async () => {
      await api("ingestion", `/api/v1/documents/${doc.id}`, { method: "DELETE" });
      await loadDocuments();
    }, `Delete ${doc.source}`, "danger"));
    buttons(row, ...items);
    busy ||= running;
  }
  if (busy) refreshTimer = setTimeout(() => guarded(loadDocuments), 1000);  // live progress until all settle
}

async function showChunks(doc) {
  const page = await api("ingestion", `/api/v1/documents/${doc.id}/chunks?limit=200`);
  const box = $("chunks");
  box.replaceChildren(el("h3", "", `${doc.source}: ${page.total} chunks${page.total > page.items.length ? ` (first ${page.items.length})` : ""}`));
  for (const chunk of page.items) {
    const where = [chunk.page ? `page ${chunk.page}` : "", chunk.heading || ""].filter(Boolean).join(" · ");
    const item = el("div", "chunk");
    item.append(el("strong", "", `#${chunk.position + 1}${where ? ` — ${where}` : ""} (${chunk.token_count} tokens)`), el("br"), chunk.content);
    box.append(item);
  }
}

// Live stage and percent of an ingestion, pushed by its task's WebSocket (the key in the first frame); the
// percent shown never goes back.
function watchTask(documentId, taskId, statusCell) {
  const known = progress.get(documentId);
  if (known) {
    known.cell = statusCell;
    if (known.text) statusCell.textContent = known.text;
    return;
  }
  const url = `${apis.ingestion.replace(/^http/, "ws")}/ws/ingestion/${encodeURIComponent(taskId)}`;
  const socket = new WebSocket(url);
  const watcher = { socket, text: "", percent: 0, cell: statusCell };
  progress.set(documentId, watcher);
  socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: sessionStorage.getItem(KEY) }));
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    watcher.percent = Math.max(watcher.percent, event.percent || 0);
    watcher.text = `${event.stage} ${watcher.percent}%`;
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
  const body = { name };
  if ($("chunkSize").value) body.chunk_size = Number($("chunkSize").value);
  if ($("chunkOverlap").value) body.chunk_overlap = Number($("chunkOverlap").value);
  const created = await api("ingestion", "/api/v1/collections", { method: "POST", body });
  $("collectionName").value = "";
  $("collection").append(new Option(created.name, created.id));
  $("collection").value = created.id;
  await loadKnowledge();
}

async function renameCollection() {
  const option = $("collection").selectedOptions[0];
  if (!option) return;
  const name = prompt("New name of the collection", option.dataset.name);
  if (!name || !name.trim()) return;
  await api("ingestion", `/api/v1/collections/${option.value}`, { method: "PATCH", body: { name: name.trim() } });
  await loadKnowledge();
}

async function deleteCollection() {
  const option = $("collection").selectedOptions[0];
  if (!option || !confirm(`Delete the collection ${option.dataset.name} and all its documents? Agents stop searching it.`)) return;
  await api("ingestion", `/api/v1/collections/${option.value}`, { method: "DELETE" });
  $("collection").value = "";
  $("chunks").replaceChildren();
  await loadKnowledge();
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
    const item = el("div", "hit");
    item.append(
      el("strong", "", `${i + 1}. ${hit.source}${hit.page ? ` p.${hit.page}` : ""} — score ${hit.score.toFixed(3)}`),
      el("p", "", hit.content),
    );
    hits.append(item);
  }
}

// ------------------------------------------------------------------ chat and conversations
async function loadChat() {
  const page = await api("management", "/api/v1/agents?limit=100");
  $("chatAgent").replaceChildren(...page.items.filter((a) => a.is_active).map((a) => new Option(a.name, a.id)));
  const saved = chatState.get();
  if (saved && !chat.socket) {
    try {  // after a reload: the stored messages, then what the session's log holds beyond them
      const session = await api("orchestrator", `/api/v1/chat/sessions/${encodeURIComponent(saved.session_id)}`);
      $("chatAgent").value = session.agent_id;
      chat.restore(session, await storedMessages(session.conversation_id));
    } catch (error) {
      chatState.set(null);
      if (error.message === "signed out") throw error;
    }
  }
  await loadConversations();
}

async function storedMessages(conversationId) {
  try {
    return (await api("conversation", `/api/v1/conversations/${encodeURIComponent(conversationId)}`)).messages;
  } catch (error) {
    if (/not found/.test(error.message)) return [];  // nothing stored yet
    throw error;
  }
}

async function newChat(event) {
  event.preventDefault();
  const session = await api("orchestrator", "/api/v1/chat/sessions", { method: "POST", body: { agent_id: $("chatAgent").value } });
  chat.open(session);
  $("chatInput").focus();
}

async function continueConversation(conversation) {
  const body = { agent_id: conversation.agent_id, conversation_id: conversation.id };
  const session = await api("orchestrator", "/api/v1/chat/sessions", { method: "POST", body });
  $("chatAgent").value = conversation.agent_id;
  chat.restore(session, await storedMessages(conversation.id));
  $("chatInput").focus();
}

async function loadConversations() {
  const user = $("endUserFilter").value.trim();
  const query = `limit=50${user ? `&end_user_id=${encodeURIComponent(user)}` : ""}`;
  const page = await api("conversation", `/api/v1/conversations?${query}`);
  const body = $("conversations");
  body.replaceChildren();
  for (const c of page.items) {
    const row = body.insertRow();
    const name = c.title || "(untitled)";
    cell(row, when(c.created_at), "Started");
    cell(row, name, "Title");
    cell(row, c.end_user_id || "", "End user");
    cell(row, c.message_count, "Messages");
    buttons(
      row,
      button("Open", () => openConversation(c.id), `Open conversation ${name}`),
      button("Continue", () => continueConversation(c), `Continue conversation ${name}`),
      button("Export", () => exportConversation(c.id), `Export conversation ${name}`),
      button("Delete", async () => {
        if (!confirm(`Delete the conversation "${name}" and its messages?`)) return;
        await api("conversation", `/api/v1/conversations/${encodeURIComponent(c.id)}`, { method: "DELETE" });
        $("transcript").replaceChildren();
        await loadConversations();
      }, `Delete conversation ${name}`, "danger"),
    );
  }
  if (!page.items.length) {
    const row = body.insertRow();
    cell(row, user ? `No conversations of ${user}.` : "No conversations yet.");
  }
}

async function openConversation(id) {
  const conversation = await api("conversation", `/api/v1/conversations/${encodeURIComponent(id)}`);
  const box = $("transcript");
  box.replaceChildren(el("h3", "", `${conversation.title || "(untitled)"}${conversation.end_user_id ? ` — ${conversation.end_user_id}` : ""}`));
  for (const m of conversation.messages) {
    const bubble = el("div", `msg ${m.role === "user" ? "user" : "assistant"}`);
    if (m.role === "user") bubble.textContent = m.content;
    else {
      renderMarkdown(bubble, m.content, m.sources || [], `transcript-${m.message_id}`);
      if (m.incomplete) bubble.append(el("div", "note", "Incomplete: the answer was cut short."));
    }
    box.append(bubble);
  }
}

async function exportConversation(id) {
  const doc = await api("conversation", `/api/v1/conversations/${encodeURIComponent(id)}/export`);
  const link = el("a");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
  link.download = `conversation-${id}.json`;
  link.click();
  URL.revokeObjectURL(link.href);
}

// ------------------------------------------------------------------ widget and end users
async function loadWidget() {
  const [tenant, page, tokens] = await Promise.all([
    api("management", "/api/v1/tenants/me"),
    api("management", "/api/v1/agents?limit=100"),
    api("management", "/api/v1/end-user-tokens?limit=50"),
  ]);
  tenantInfo = tenant;
  $("origins").value = tenant.allowed_origins.join("\n");
  const agents = new Map(page.items.map((a) => [a.id, a.name]));
  const select = $("embedAgent");
  const chosen = select.value;
  select.replaceChildren(...page.items.map((a) => new Option(a.name, a.id)));
  if (chosen && agents.has(chosen)) select.value = chosen;
  select.onchange = renderSnippet;
  renderSnippet();
  const body = $("endUserTokens");
  body.replaceChildren();
  for (const token of tokens) {
    const row = body.insertRow();
    cell(row, token.end_user_id, "End user");
    cell(row, agents.get(token.agent_id) || token.agent_id, "Agent");
    const expired = new Date(token.expires_at) < new Date();
    cell(row, token.revoked_at ? "revoked" : `${expired ? "expired " : ""}${when(token.expires_at)}`, "Expires");
    cell(row, token.request_budget ?? "tier limits", "Budget");
    if (token.revoked_at || expired) row.insertCell();
    else buttons(row, button("Revoke", async () => {
      await api("management", `/api/v1/end-user-tokens/${token.id}`, { method: "DELETE" });
      await loadWidget();
    }, `Revoke the token of ${token.end_user_id}`, "danger"));
  }
}

function renderSnippet(token = "END_USER_TOKEN") {
  const agent = $("embedAgent").value || "AGENT_ID";
  $("snippet").textContent = `<script src="${location.origin}/widget.js" data-tenant="${tenantInfo.id}"\n  data-agent="${agent}" data-token="${typeof token === "string" ? token : "END_USER_TOKEN"}" async></script>`;
}

async function saveOrigins(event) {
  event.preventDefault();
  const origins = $("origins").value.split(/\s+/).map((o) => o.trim().replace(/\/+$/, "")).filter(Boolean);
  const tenant = await api("management", "/api/v1/tenants/me/allowed-origins", { method: "PUT", body: { allowed_origins: origins } });
  $("origins").value = tenant.allowed_origins.join("\n");
  show(`Saved: ${tenant.allowed_origins.length} allowed origin(s).`);
}

async function mintTestToken(event) {
  event.preventDefault();
  const body = { agent_id: $("embedAgent").value, end_user_id: $("embedUser").value.trim(), expires_in_s: 3600 };
  const minted = await api("management", "/api/v1/end-user-tokens", { method: "POST", body });
  renderSnippet(minted.token);
  secretBox($("endUserToken"), `Token of ${minted.end_user_id} for an hour (shown once):`, minted.token);
  await loadWidget();
  renderSnippet(minted.token);
}

// A secret shown once, with a copy button; hidden again when what it opens is revoked.
function secretBox(box, title, secret) {
  box.replaceChildren(el("span", "", title), el("code", "", secret));
  box.append(button("Copy", async () => {
    await copyText(secret);
    show("Copied.");
  }, "Copy the secret"));
  box.hidden = false;
}

// ------------------------------------------------------------------ usage and keys
async function loadAccount() {
  const [stats, usage, docs, endUsers] = await Promise.all([
    api("conversation", "/api/v1/conversations/stats"),
    api("management", "/api/v1/tenants/me/usage"),
    api("ingestion", "/api/v1/documents/usage"),
    api("conversation", "/api/v1/conversations/end-users?limit=100"),
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
    ["End users", endUsers.total],
  ];
  const body = $("usage");
  body.replaceChildren();
  for (const [name, value] of rows) {
    const row = body.insertRow();
    const th = el("th", "", name);
    th.scope = "row";
    row.append(th);
    cell(row, value);
  }
  renderEndUsers(endUsers);
  await Promise.all([loadLedger(), loadBudgets(), loadKeys(), loadWebhooks()]);
}

// The usage ledger: the filters of the form, as query parameters.
function ledgerQuery() {
  const until = new Date();
  const since = new Date(until.getTime() - (Number($("ledgerDays").value) - 1) * 86400000);
  const params = new URLSearchParams({ since: since.toISOString().slice(0, 10), until: until.toISOString().slice(0, 10) });
  for (const [name, id] of [["agent_id", "ledgerAgent"], ["kind", "ledgerKind"], ["end_user_id", "ledgerUser"]]) {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

async function loadLedger(event) {
  if (event) event.preventDefault();
  const [report, page] = await Promise.all([
    api("management", `/api/v1/usage?${ledgerQuery()}`),
    api("management", "/api/v1/agents?limit=100"),
  ]);
  const names = new Map(page.items.map((a) => [a.id, a.name]));
  const select = $("ledgerAgent");
  const chosen = select.value;
  select.replaceChildren(el("option", "", "all agents"));
  select.firstChild.value = "";
  for (const [id, name] of names) {
    const option = el("option", "", name);
    option.value = id;
    select.append(option);
  }
  select.value = chosen;
  const t = report.totals;
  $("ledgerTotals").textContent = `${t.total_tokens} tokens (${t.prompt_tokens} prompt + ${t.completion_tokens} completion) in ${t.events} entries, ${report.since} to ${report.until}.`;
  drawChart($("usageChart"), report.days);
  const fill = (id, groups, label) => {
    const body = $(id);
    body.replaceChildren();
    for (const g of groups) {
      const row = body.insertRow();
      cell(row, label(g.key), "Name");
      cell(row, id === "ledgerModels" ? g.calls : g.events, id === "ledgerModels" ? "Calls" : "Entries");
      cell(row, g.prompt_tokens, "Prompt tokens");
      cell(row, g.completion_tokens, "Completion tokens");
    }
  };
  fill("ledgerModels", report.by_model, (key) => key);
  fill("ledgerAgents", report.by_agent, (key) => (key ? names.get(key) || key : "(no agent: embeddings, generate)"));
}

async function downloadLedger() {
  const response = await fetch(`${apis.management}/api/v1/usage/export.csv?${ledgerQuery()}`, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` },
  });
  if (!response.ok) throw new Error(`export failed (${response.status})`);
  const link = el("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `usage-${new Date().toISOString().slice(0, 10)}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

async function loadBudgets() {
  const [budgets, page] = await Promise.all([
    api("management", "/api/v1/budgets"),
    api("management", "/api/v1/agents?limit=100"),
  ]);
  const names = new Map(page.items.map((a) => [a.id, a.name]));
  const body = $("budgets");
  body.replaceChildren();
  for (const b of budgets) {
    if (b.scope === "agent" && b.limit === null) continue;  // an agent without a budget of its own
    const row = body.insertRow();
    const whose = b.scope === "tenant" ? "Tenant" : `Agent ${names.get(b.agent_id) || b.agent_id}`;
    cell(row, `${whose}, per ${b.period}`, "Budget");
    cell(row, b.limit ?? "none", "Limit");
    cell(row, b.spent, "Spent");
    cell(row, b.held, "Held by running turns");
    cell(row, b.left ?? "no limit", "Left");
    cell(row, when(b.resets_at), "Resets");
  }
}

async function setBudget(event) {
  event.preventDefault();
  const value = (id) => ($(id).value ? Number($(id).value) : null);
  await api("management", "/api/v1/tenants/me/budget", {
    method: "PUT", body: { tokens_per_day: value("budgetDay"), tokens_per_month: value("budgetMonth") },
  });
  show("Tenant budget saved; it applies from the next turn.");
  await loadBudgets();
}

// Stacked bars (prompt under completion), one per day; an SVG built node by node.
function drawChart(box, days) {
  const NS = "http://www.w3.org/2000/svg";
  const width = 600, height = 150, gap = 2;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 16}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("preserveAspectRatio", "none");
  const top = Math.max(1, ...days.map((d) => d.prompt_tokens + d.completion_tokens));
  const barWidth = width / days.length - gap;
  days.forEach((d, i) => {
    const x = i * (barWidth + gap);
    let y = height;
    for (const [kind, value] of [["prompt", d.prompt_tokens], ["completion", d.completion_tokens]]) {
      const h = (value / top) * (height - 4);
      const rect = document.createElementNS(NS, "rect");
      Object.entries({ x, y: y - h, width: barWidth, height: h, class: `bar ${kind}` }).forEach(([k, v]) => rect.setAttribute(k, v));
      const title = document.createElementNS(NS, "title");
      title.textContent = `${d.day}: ${d.prompt_tokens} prompt + ${d.completion_tokens} completion tokens, ${d.events} entries`;
      rect.append(title);
      svg.append(rect);
      y -= h;
    }
  });
  for (const [i, anchor] of [[0, "start"], [days.length - 1, "end"]]) {
    const label = document.createElementNS(NS, "text");
    Object.entries({ x: i ? width : 0, y: height + 14, "font-size": 11, "text-anchor": anchor, fill: "#4a5563" }).forEach(([k, v]) => label.setAttribute(k, v));
    label.textContent = days[i] ? days[i].day : "";
    svg.append(label);
  }
  box.replaceChildren(svg);
  box.setAttribute("aria-label", `Tokens per day: ${days.reduce((n, d) => n + d.prompt_tokens + d.completion_tokens, 0)} in ${days.length} days`);
}

function renderEndUsers(endUsers) {
  $("endUserCount").textContent = endUsers.total
    ? `${endUsers.total} end user(s) have chatted${endUsers.total > endUsers.items.length ? `; the ${endUsers.items.length} most active:` : "."}`
    : "No end user has chatted yet: conversations opened with an end-user token, or with an end_user_id, are counted here.";
  const body = $("endUsers");
  body.replaceChildren();
  for (const user of endUsers.items) {
    const row = body.insertRow();
    cell(row, user.end_user_id, "End user");
    cell(row, user.conversations, "Conversations");
    cell(row, user.turns, "Turns");
    cell(row, `${user.total_tokens} (${user.prompt_tokens} + ${user.completion_tokens})`, "Tokens");
    cell(row, when(user.last_active_at), "Last active");
    buttons(row, button("Conversations", () => {
      $("endUserFilter").value = user.end_user_id;
      openTab("chat");
    }, `Conversations of ${user.end_user_id}`));
  }
}

async function loadWebhooks() {
  const endpoints = await api("management", "/api/v1/webhooks");
  const body = $("webhooks");
  body.replaceChildren();
  for (const endpoint of endpoints) {
    const row = body.insertRow();
    cell(row, endpoint.url, "URL");
    cell(row, endpoint.event_types.join(", "), "Events");
    cell(row, when(endpoint.created_at), "Added");
    buttons(row,
      button("Deliveries", () => showDeliveries(endpoint), `Deliveries to ${endpoint.url}`),
      button("Send test", async () => {
        await api("management", `/api/v1/webhooks/${endpoint.id}/test`, { method: "POST" });
        show("Test event sent; its delivery shows below.");
        await showDeliveries(endpoint);
      }, `Send a test event to ${endpoint.url}`),
      button("Remove", async () => {
        await api("management", `/api/v1/webhooks/${endpoint.id}`, { method: "DELETE" });
        $("newWebhookSecret").hidden = true;
        await loadWebhooks();
        await loadAudit();
      }, `Remove ${endpoint.url}`, "danger"));
  }
}

async function showDeliveries(endpoint) {
  const deliveries = await api("management", `/api/v1/webhooks/${endpoint.id}/deliveries?limit=50`);
  $("deliveriesTitle").textContent = `Deliveries to ${endpoint.url}`;
  $("deliveriesTitle").hidden = $("deliveriesTable").hidden = false;
  const body = $("deliveries");
  body.replaceChildren();
  for (const d of deliveries) {
    const row = body.insertRow();
    cell(row, d.event_type, "Event");
    cell(row, d.status + (d.next_attempt_at ? ` (next try ${when(d.next_attempt_at)})` : ""), "Status");
    cell(row, d.attempts, "Tries");
    cell(row, d.log.map((a) => a.status_code ?? a.error).join(" → ") || "—", "Last result");
    cell(row, when(d.created_at), "When");
  }
}

async function addWebhook(event) {
  event.preventDefault();
  const event_types = [...document.querySelectorAll("input[name=webhookEvent]:checked")].map((box) => box.value);
  const created = await api("management", "/api/v1/webhooks", { method: "POST", body: { url: $("webhookUrl").value.trim(), event_types } });
  secretBox($("newWebhookSecret"), "Signing secret (shown once, copy it now):", created.secret);
  $("webhookUrl").value = "";
  await loadWebhooks();
  await loadAudit();
}

// ------------------------------------------------------------------ tools (MCP servers)
async function loadTools() {
  const servers = await api("management", "/api/v1/mcp-servers");
  const body = $("mcpServers");
  body.replaceChildren();
  for (const server of servers) {
    const row = body.insertRow();
    cell(row, server.name, "Name");
    cell(row, server.url, "URL");
    cell(row, server.tools.map((t) => t.name).join(", ") || "none listed", "Tools");
    cell(row, server.last_error ? `error: ${server.last_error}` : `listed ${when(server.tools_listed_at)}`, "Status");
    buttons(row,
      button("Test", async () => {
        const listed = await api("management", `/api/v1/mcp-servers/${server.id}/refresh`, { method: "POST" });
        show(listed.last_error ? `${server.name}: ${listed.last_error}` : `${server.name} answers: ${listed.tools.length} tool(s).`);
        await loadTools();
      }, `Test ${server.name}`),
      button("Remove", async () => {
        if (!confirm(`Remove the MCP server ${server.name}? Agents lose its tools.`)) return;
        await api("management", `/api/v1/mcp-servers/${server.id}`, { method: "DELETE" });
        await loadTools();
      }, `Remove ${server.name}`, "danger"));
  }
}

async function addMcpServer(event) {
  event.preventDefault();
  const headers = {};
  if ($("mcpHeaderName").value.trim()) headers[$("mcpHeaderName").value.trim()] = $("mcpHeaderValue").value;
  const body = { name: $("mcpName").value.trim(), url: $("mcpUrl").value.trim(), transport: $("mcpTransport").value, headers };
  const server = await api("management", "/api/v1/mcp-servers", { method: "POST", body });
  $("mcpHeaderValue").value = "";
  show(server.last_error ? `Added ${server.name}, but: ${server.last_error}` : `Added ${server.name}: ${server.tools.length} tool(s).`);
  await loadTools();
}

async function loadAudit() {
  const page = await api("management", "/api/v1/audit?limit=50");
  const body = $("audit");
  body.replaceChildren();
  const shown = (value) => (value === null || value === undefined ? "none" : typeof value === "object" ? JSON.stringify(value) : String(value));
  const short = (text) => (text && text.length > 20 ? `${text.slice(0, 17)}…` : text || "");  // ids: whole in the title
  for (const entry of page.items) {
    const row = body.insertRow();
    cell(row, when(entry.occurred_at), "When");
    cell(row, short(entry.actor), "Who").title = entry.actor;
    cell(row, entry.action, "What");
    cell(row, `${entry.target_type} ${short(entry.target_id)}`, "Object").title = entry.target_id || "";
    const changes = Object.entries(entry.changes).map(([field, c]) => `${field}: ${shown(c.before)} → ${shown(c.after)}`);
    cell(row, changes.join("; ").slice(0, 400) || "—", "Changes");
  }
}

async function loadKeys() {
  const keys = await api("management", "/api/v1/tenants/me/keys");
  const current = sessionStorage.getItem(KEY) || "";
  const body = $("keys");
  body.replaceChildren();
  for (const key of keys) {
    const row = body.insertRow();
    const inUse = current.startsWith(key.prefix) && !key.revoked_at;
    cell(row, `${key.name}${inUse ? " (this console)" : ""}`, "Name");
    cell(row, key.prefix, "Prefix");
    cell(row, key.scopes.join(", "), "Allows");
    cell(row, when(key.created_at), "Created");
    cell(row, key.last_used_at ? when(key.last_used_at) : "never", "Last used");
    cell(row, key.expires_at ? when(key.expires_at) : "never", "Expires");
    if (key.revoked_at) cell(row, "revoked");
    else buttons(row, button("Revoke", async () => {
      if (inUse && !confirm(`"${key.name}" is the key this console is signed in with: revoking it signs you out. Revoke it?`)) return;
      await api("management", `/api/v1/tenants/me/keys/${key.id}`, { method: "DELETE" });
      if ($("newKey").dataset.keyId === key.id) $("newKey").hidden = true;  // a revoked secret leaves the screen
      if (inUse) { signOut("Signed out: you revoked the key this console was using."); return; }
      await loadKeys();
    }, `Revoke ${key.name}`, "danger"));
  }
  await loadAudit();  // a key created or revoked is audited
}

async function createKey(event) {
  event.preventDefault();
  const body = { name: $("keyName").value, scopes: [$("keyScope").value] };
  if ($("keyExpiry").value) body.expires_in_days = Number($("keyExpiry").value);
  const created = await api("management", "/api/v1/tenants/me/keys", { method: "POST", body });
  secretBox($("newKey"), "New key (shown once, copy it now):", created.api_key);
  $("newKey").dataset.keyId = created.id;
  $("keyName").value = "";
  await loadKeys();
}

// ------------------------------------------------------------------ wiring
$("chatCss").textContent = CHAT_CSS;
const chat = new ChatView(
  { log: $("chatLog"), input: $("chatInput"), send: $("chatSend"), stop: $("chatStop"), counter: $("chatCounter") },
  {
    credential: () => sessionStorage.getItem(KEY),
    store: chatState,
    onTurnEnd: () => guarded(loadConversations),  // the turn is stored: the list shows it
    onClosed: (close) => { if (close.code === 4401) signOut("Signed out: your key was revoked or is invalid. Sign in again."); },
    onError: (text, event) => show(event.code === "rate_limited" ? `Too many requests for your plan: try again in ${Math.ceil(event.retry_after || 1)} seconds.` : text),
  },
);
const tryChat = new ChatView(
  { log: $("tryLog"), input: $("tryInput"), send: $("trySend"), stop: $("tryStop"), counter: $("tryCounter") },
  { credential: () => sessionStorage.getItem(KEY), onError: (text) => show(text) },
);

async function start() {
  apis = (await (await fetch("/console/config.json")).json()).apis;
  $("signInForm").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(() => signIn($("apiKey").value.trim()));
  });
  $("signOut").addEventListener("click", () => signOut());
  for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => openTab(b.dataset.tab));
  $("agentForm").addEventListener("submit", (event) => guarded(() => createAgent(event)));
  $("tryClose").addEventListener("click", closeTryChat);
  $("collectionForm").addEventListener("submit", (event) => guarded(() => createCollection(event)));
  $("collectionSelect").addEventListener("submit", (event) => event.preventDefault());
  $("collection").addEventListener("change", () => guarded(() => { $("chunks").replaceChildren(); return loadDocuments(); }));
  $("renameCollection").addEventListener("click", () => guarded(renameCollection));
  $("deleteCollection").addEventListener("click", () => guarded(deleteCollection));
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
  $("ledgerForm").addEventListener("submit", (event) => guarded(() => loadLedger(event)));
  $("ledgerCsv").addEventListener("click", () => guarded(downloadLedger));
  $("budgetForm").addEventListener("submit", (event) => guarded(() => setBudget(event)));
  $("webhookForm").addEventListener("submit", (event) => guarded(() => addWebhook(event)));
  $("mcpForm").addEventListener("submit", (event) => guarded(() => addMcpServer(event)));
  $("chatStart").addEventListener("submit", (event) => guarded(() => newChat(event)));
  $("conversationFilter").addEventListener("submit", (event) => { event.preventDefault(); guarded(loadConversations); });
  $("originsForm").addEventListener("submit", (event) => guarded(() => saveOrigins(event)));
  $("embedForm").addEventListener("submit", (event) => guarded(() => mintTestToken(event)));
  setInterval(() => {
    for (const view of [chat, tryChat]) if (view.socket && view.socket.readyState === WebSocket.OPEN) view.socket.send(JSON.stringify({ type: "ping" }));
  }, 25000);
  const saved = sessionStorage.getItem(KEY);
  if (saved) await guarded(() => signIn(saved));
}

start();
