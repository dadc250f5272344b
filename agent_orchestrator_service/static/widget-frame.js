// The widget's frame (served by the platform): waits for the end-user token from the host page, then resumes
// this end user's session or latest conversation with the agent, or opens a new one.
import { CHAT_CSS, ChatView } from "/static/chat.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const agent = params.get("agent") || "";
let token = null;
let conversationApi = "";
// the host page's storage keeps the chat's state (this frame's own is third-party: partitioned or refused)
const hostOrigin = (location.ancestorOrigins && location.ancestorOrigins[0]) || "*";
let state = null;
const saved = {
  get: () => state,
  set: (value) => { state = value; parent.postMessage({ type: "nooble4:state", state: value }, hostOrigin); },
};

$("chatCss").textContent = CHAT_CSS;
$("title").textContent = params.get("title") || "Chat";
document.title = $("title").textContent;
$("close").addEventListener("click", () => parent.postMessage({ type: "nooble4:close" }, "*"));

function notice(text) { $("notice").textContent = text; $("notice").style.display = text ? "block" : "none"; }

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.error ? body.error.message : `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error ? body.error.error_code : "";
  }
}

async function api(base, path, { method = "GET", body } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const doc = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, doc);
  return doc;
}

const view = new ChatView(
  { log: $("log"), input: $("input"), send: $("send"), stop: $("stop"), counter: $("counter"), status: $("status") },
  {
    credential: () => token,
    store: saved,
    onClosed: (close) => {
      if (close.code === 4401) expired(close.reason);
      else if (close.code === 4404) start();  // the session is gone: this end user's latest conversation
    },
    onError: (text) => notice(text),
  },
);

function expired(reason) {
  notice(reason && /expired/.test(reason) ? "This chat has expired. Reload the page to continue." : "This chat is not available right now.");
  parent.postMessage({ type: "nooble4:token_expired" }, "*");
}

async function messagesOf(conversationId) {
  try {
    return (await api(conversationApi, `/api/v1/conversations/${encodeURIComponent(conversationId)}`)).messages;
  } catch (error) {
    if (error.status === 404) return [];  // nothing stored yet
    throw error;
  }
}

async function start() {
  notice("");
  try {
    const stored = saved.get();
    if (stored && stored.session_id) {
      try {
        const session = await api("", `/api/v1/chat/sessions/${encodeURIComponent(stored.session_id)}`);
        view.restore(session, await messagesOf(session.conversation_id));
        return;
      } catch (error) {
        if (error.status !== 404) throw error;
        saved.set(null);  // expired, or another end user's on this browser
      }
    }
    const latest = (await api(conversationApi, "/api/v1/conversations?limit=1")).items[0];
    const body = { agent_id: agent, ...(latest ? { conversation_id: latest.id } : {}) };
    const session = await api("", "/api/v1/chat/sessions", { method: "POST", body });
    if (latest) view.restore(session, await messagesOf(latest.id));
    else view.open(session);
  } catch (error) {
    if (error.status === 401) expired(error.message);
    else notice(`Chat unavailable: ${error.message}`);
  }
}

window.addEventListener("message", (event) => {
  if (event.source !== parent || !event.data || event.data.type !== "nooble4:token") return;
  const first = token === null;
  token = String(event.data.token);
  if (first) {
    state = event.data.state && typeof event.data.state === "object" ? event.data.state : null;
    start();
  }
});

const config = await (await fetch("/console/config.json")).json();
conversationApi = config.apis.conversation;
parent.postMessage({ type: "nooble4:hello" }, "*");
