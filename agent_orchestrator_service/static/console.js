// The tenant console: plain ES module, no build step, no external resources. Every value from the APIs is
// written with textContent (never as HTML), so nothing a tenant stores can inject markup.

const $ = (id) => document.getElementById(id);
const KEY = "nooble4.credential";
let apis = {};
let refreshTimer = null;

async function api(service, path, { method = "GET", body, form } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const response = await fetch(`${apis[service]}${path}`, { method, headers, body: payload });
  if (response.status === 204) return null;
  const doc = await response.json().catch(() => ({}));
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
  try { show(""); await action(); } catch (error) { show(error.message); }
}

// ------------------------------------------------------------------ sign in and navigation
async function signIn(credential) {
  sessionStorage.setItem(KEY, credential);
  const tenant = await api("management", "/api/v1/tenants/me");
  $("who").textContent = `${tenant.name} · ${tenant.tier}`;
  $("tenant").textContent = `${tenant.name} — tier ${tenant.tier} — tenant id ${tenant.id}`;
  $("signIn").hidden = true;
  $("nav").hidden = false;
  $("signOut").hidden = false;
  openTab("agents");
}

function signOut() {
  sessionStorage.removeItem(KEY);
  location.reload();
}

function openTab(name) {
  for (const b of document.querySelectorAll("#nav button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const tab of ["agents", "knowledge", "account"]) $(`tab-${tab}`).hidden = tab !== name;
  clearTimeout(refreshTimer);
  guarded({ agents: loadAgents, knowledge: loadKnowledge, account: loadKeys }[name]);
}

// ------------------------------------------------------------------ agents
async function loadAgents() {
  const [templates, page] = await Promise.all([
    api("management", "/api/v1/templates"),
    api("management", "/api/v1/agents?limit=100"),
  ]);
  const select = $("template");
  select.replaceChildren(...templates.map((t) => new Option(`${t.name} — ${t.description}`, t.id)));
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
    actions.append(
      button("Save", async () => {
        await api("management", `/api/v1/agents/${agent.id}`, { method: "PATCH", body: { system_prompt: prompt.value } });
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
    );
  }
}

async function createAgent(event) {
  event.preventDefault();
  const body = { template_id: $("template").value, name: $("agentName").value };
  await api("management", "/api/v1/agents/from-template", { method: "POST", body });
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
    cell(row, doc.source);
    cell(row, doc.status, `status-${doc.status}`);
    cell(row, doc.chunk_count);
    cell(row, doc.error || "");
    row.insertCell().append(button("Delete", async () => {
      await api("ingestion", `/api/v1/documents/${doc.id}`, { method: "DELETE" });
      await loadDocuments();
    }, `Delete ${doc.source}`));
    busy ||= doc.status === "queued" || doc.status === "processing";
  }
  if (busy) refreshTimer = setTimeout(() => guarded(loadDocuments), 1000);  // live progress until all settle
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
  for (const file of files) {
    const form = new FormData();
    form.append("collection_id", collection);
    form.append("file", file, file.name);
    await api("ingestion", "/api/v1/documents", { method: "POST", form });
  }
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

// ------------------------------------------------------------------ wiring
async function start() {
  apis = (await (await fetch("/console/config.json")).json()).apis;
  $("signInForm").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(() => signIn($("apiKey").value.trim()));
  });
  $("signOut").addEventListener("click", signOut);
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
  $("keyForm").addEventListener("submit", (event) => guarded(() => createKey(event)));
  const saved = sessionStorage.getItem(KEY);
  if (saved) await guarded(() => signIn(saved));
}

start();
