// One chat view for every page that chats (the web chat page, the console, the embeddable widget): the
// session's WebSocket (credential in the first frame, resume with last_seq, reconnect), the events drawn as
// bubbles (markdown while streaming, sources and [n] citations, tool steps), and the actions on them (copy,
// regenerate, edit and resend, stop). Plain DOM, no innerHTML for anything a model or a user wrote.
"use strict";

const SOCKET_RETRIES = 6;
// errors that refuse a message before it becomes a turn: the message is marked "not sent", its text comes back
const REFUSALS = new Set([
  "message_too_long", "frame_too_large", "invalid_frame", "invalid_json", "turn_in_progress", "rate_limited",
  "quota_exceeded", "session_expired",
]);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Markdown as DOM nodes: headings, paragraphs, lists, quotes, code, bold, italics, inline code, [n] citations.
export function renderMarkdown(container, text, sources = [], anchor = "") {
  container.replaceChildren();
  const parts = text.split("```");
  parts.forEach((part, i) => {
    if (i % 2) {
      const pre = el("pre");
      pre.append(el("code", "", part.replace(/^[\w-]*\n/, "")));
      container.append(pre);
      return;
    }
    for (const block of part.split(/\n{2,}/)) {
      const lines = block.split("\n").filter((l) => l.trim());
      if (!lines.length) continue;
      const heading = lines.length === 1 && /^#{1,4} /.exec(lines[0]);
      if (heading) {
        container.append(inline(el("h4"), lines[0].replace(/^#+ /, ""), sources, anchor));
      } else if (lines.every((l) => /^\s*>/.test(l))) {
        const quote = el("blockquote");
        quote.append(inline(el("p"), lines.map((l) => l.replace(/^\s*> ?/, "")).join(" "), sources, anchor));
        container.append(quote);
      } else if (lines.every((l) => /^\s*([-*]|\d+[.)]) /.test(l))) {
        const list = el(/^\s*\d/.test(lines[0]) ? "ol" : "ul");
        for (const l of lines) list.append(inline(el("li"), l.replace(/^\s*([-*]|\d+[.)]) /, ""), sources, anchor));
        container.append(list);
      } else {
        const p = el("p");
        lines.forEach((l, n) => { if (n) p.append(el("br")); inline(p, l, sources, anchor); });
        container.append(p);
      }
    }
  });
}

function inline(element, text, sources, anchor) {
  for (const token of text.split(/(\*\*[^*]+\*\*|`[^`]+`|\*[^*\s][^*]*\*|\[\d+\])/)) {
    if (!token) continue;
    if (token.startsWith("**") && token.endsWith("**")) element.append(el("strong", "", token.slice(2, -2)));
    else if (token.startsWith("`") && token.endsWith("`")) element.append(el("code", "", token.slice(1, -1)));
    else if (/^\*[^*].*\*$/.test(token)) element.append(el("em", "", token.slice(1, -1)));
    else if (/^\[\d+\]$/.test(token) && sources[Number(token.slice(1, -1)) - 1]) {
      const a = el("a", "cite", token);
      a.href = `#source-${anchor}-${token.slice(1, -1)}`;
      element.append(a);
    } else element.append(document.createTextNode(token));
  }
  return element;
}

export function sourceLabel(s) {
  return `${s.document_title || s.source || "document"}${s.page ? `, page ${s.page}` : ""}`;
}

// view: {log, input, send, stop, counter?, status?}; credential(): the key or token for the socket's first
// frame; store: where the open session and the last event seen are kept (to resume after a reload).
export class ChatView {
  constructor(view, { credential, store = null, onTurnEnd = () => {}, onClosed = () => {}, onError = null }) {
    Object.assign(this, view);
    this.credential = credential;
    this.store = store;
    this.onTurnEnd = onTurnEnd;
    this.onClosed = onClosed;
    this.onError = onError;
    this.socket = null;
    this.session = null;
    this.lastSeq = 0;
    this.turn = null;       // {taskId, bubble, text, sources, question}
    this.pending = [];      // user bubbles sent, not yet accepted (message_start) or refused (error)
    this.done = new Set();  // task ids already shown from the stored history
    this.retries = 0;
    this.turns = 0;
    this.maxChars = 32000;
    this.lastQuestion = "";
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); this.submit(); }
    });
    this.input.addEventListener("input", () => this.updateCounter());
    this.send.addEventListener("click", (event) => { event.preventDefault(); this.submit(); });
    this.stop.addEventListener("click", (event) => { event.preventDefault(); this.cancel(); });
    this.busy(false);
  }

  setStatus(text) { if (this.status) this.status.textContent = text; }

  // A new session: empty log, socket from the start.
  open(session) {
    this.reset();
    this.remember(session, 0);
    this.connect(null);
  }

  // After a reload: the stored messages (the conversation service's), then the session's event log from its
  // start for what is not stored yet (a turn still streaming, a question whose answer is still coming).
  restore(session, messages = []) {
    this.reset();
    this.remember(session, 0);
    this.showHistory(messages);
    this.connect(0);
  }

  // A stored conversation only (read-only until a session continues it).
  showHistory(messages) {
    for (const m of messages) {
      const task = (m.message_id || "").split(":")[0];
      if (task) this.done.add(task);
      if (m.role === "user") this.userBubble(m.content);
      else if (m.role === "assistant") {
        const b = this.assistantBubble();
        this.finish(b, m.content, m.sources || [], { incomplete: m.incomplete });
      }
    }
    this.scroll();
  }

  reset() {
    if (this.socket) { this.socket.onclose = null; this.socket.close(); }
    this.socket = null;
    this.turn = null;
    this.pending = [];
    this.done = new Set();
    this.log.replaceChildren();
    this.busy(false);
  }

  remember(session, lastSeq) {
    this.session = session;
    this.lastSeq = lastSeq;
    this.save();
  }

  save() {
    if (!this.store || !this.session) return;
    const { session_id, ws_url, conversation_id, agent_id } = this.session;
    this.store.set({ session_id, ws_url, conversation_id, agent_id, last_seq: this.lastSeq });
  }

  forget() {
    if (this.store) this.store.set(null);
    this.reset();
    this.session = null;
  }

  connect(lastSeq) {
    const url = new URL(this.session.ws_url);
    if (lastSeq !== null) url.searchParams.set("last_seq", lastSeq);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "auth", token: this.credential() }));  // never in the URL
      this.retries = 0;
      this.setStatus("connected");
      this.busy(!!this.turn);
    };
    socket.onmessage = (message) => this.onEvent(JSON.parse(message.data));
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.busy(!!this.turn);
      if (close.code >= 4400 && close.code < 4500) {
        if (close.code === 4404) this.forget();
        this.setStatus(`closed: ${close.reason || close.code}`);
        this.onClosed(close);
        return;
      }
      if (this.retries++ < SOCKET_RETRIES) {
        this.setStatus("reconnecting…");
        setTimeout(() => { if (!this.socket && this.session) this.connect(this.lastSeq); }, 400 * this.retries);
      } else this.setStatus("disconnected");
    };
  }

  onEvent(event) {
    if (event.seq) {
      if (event.seq <= this.lastSeq) return;  // already shown
      this.lastSeq = event.seq;
      this.save();
    }
    if (event.task_id && this.done.has(event.task_id)) return;  // shown from the stored history
    switch (event.type) {
      case "session_ready":
        if (event.max_message_chars) this.maxChars = event.max_message_chars;
        this.setStatus("ready");
        this.updateCounter();
        break;
      case "message_start": this.started(event); break;
      case "sources": if (this.turn) this.turn.sources = event.items; break;  // before the first token
      case "token": if (this.turn) { this.turn.text += event.delta; this.streamed(); } break;
      case "turn_restart": if (this.turn) { this.turn.text = ""; this.streamed(); } break;
      case "tool_call": this.step(`→ ${event.name} ${JSON.stringify(event.args || {}).slice(0, 120)}`); break;
      case "tool_result": this.step(`← ${event.name}: ${(event.summary || "").replace(/\s+/g, " ").slice(0, 160)}`); break;
      case "message_end": this.ended(event); break;
      case "error": this.failed(event); break;
    }
  }

  started(event) {
    const mine = this.pending.find((p) => p.id && p.id === event.client_message_id) || (event.client_message_id ? null : this.pending[0]);
    if (mine) this.pending.splice(this.pending.indexOf(mine), 1);
    else if (event.content) this.userBubble(event.content);  // sent before a reload, or by another tab
    const question = event.content || (mine && mine.text) || "";
    this.turn = { taskId: event.task_id, bubble: this.assistantBubble(), text: "", sources: [], question };
    this.busy(true);
  }

  streamed() {
    const turn = this.turn;
    if (turn.frame) return;
    turn.frame = requestAnimationFrame(() => {
      turn.frame = null;
      renderMarkdown(turn.bubble.body, turn.text, turn.sources, turn.anchor);
      this.scroll();
    });
  }

  ended(event) {
    const turn = this.turn;
    if (turn) {
      if (turn.frame) cancelAnimationFrame(turn.frame);
      const sources = event.sources && event.sources.length ? event.sources : turn.sources;
      const text = event.content || turn.text;
      this.finish(turn.bubble, text, sources, { cancelled: event.cancelled, question: turn.question });
    }
    this.turn = null;
    this.busy(false);
    this.onTurnEnd(event);
  }

  failed(event) {
    const refusal = REFUSALS.has(event.code) && this.pending.length;
    const turn = !refusal && this.turn && (!event.task_id || event.task_id === this.turn.taskId) ? this.turn : null;
    if (turn) {
      if (turn.frame) cancelAnimationFrame(turn.frame);
      if (turn.text) this.finish(turn.bubble, turn.text, turn.sources, { incomplete: true, question: turn.question });
      else turn.bubble.remove();
      this.turn = null;
      this.busy(false);
    } else if (refusal) {
      // a message refused before it became a turn (too long, a reply still running, rate limited): not sent
      const refused = this.pending.shift();
      refused.bubble.classList.add("failed");
      refused.bubble.append(el("div", "note", "Not sent."));
      if (!this.input.value) { this.input.value = refused.text; this.updateCounter(); }
    }
    const wait = event.retry_after ? ` Try again in ${Math.ceil(event.retry_after)} s.` : "";
    const text = `${event.message}${wait}`;
    if (this.onError) this.onError(text, event);
    else this.log.append(el("div", "msg error", text));
    this.scroll();
  }

  userBubble(text) {
    const bubble = el("div", "msg user");
    bubble.append(el("div", "body", text));
    const actions = el("div", "actions");
    actions.append(this.action("Edit", "Edit and resend this message", () => { this.input.value = text; this.updateCounter(); this.input.focus(); }));
    bubble.append(actions);
    this.log.append(bubble);
    this.scroll();
    return bubble;
  }

  assistantBubble() {
    const bubble = el("div", "msg assistant");
    bubble.body = el("div", "body");
    bubble.append(bubble.body);
    this.log.append(bubble);
    this.scroll();
    return bubble;
  }

  finish(bubble, text, sources, { cancelled = false, incomplete = false, question = "" } = {}) {
    this.turns += 1;
    const anchor = `${this.turns}-${Math.random().toString(36).slice(2, 7)}`;
    renderMarkdown(bubble.body, text, sources, anchor);
    if (cancelled) bubble.append(el("div", "note", "Stopped."));
    if (incomplete) { bubble.classList.add("incomplete"); bubble.append(el("div", "note", "Incomplete: the answer was cut short.")); }
    if (sources.length) {
      const list = el("ol", "sources");
      sources.forEach((s, i) => {
        const item = el("li", "", `${sourceLabel(s)}: ${(s.content || "").slice(0, 160)}`);
        item.id = `source-${anchor}-${i + 1}`;
        list.append(item);
      });
      bubble.append(list);
    }
    const actions = el("div", "actions");
    actions.append(this.action("Copy", "Copy this answer", async (button) => {
      await copyText(text);
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    }));
    if (question) actions.append(this.action("Regenerate", "Ask the same question again", () => this.submit(question)));
    bubble.append(actions);
    if (question) this.lastQuestion = question;
    this.scroll();
  }

  action(label, title, onClick) {
    const button = el("button", "link", label);
    button.type = "button";
    button.title = title;
    button.addEventListener("click", () => onClick(button));
    return button;
  }

  step(text) {
    const line = el("div", "msg tool", text);
    if (this.turn) this.turn.bubble.before(line);
    else this.log.append(line);
  }

  submit(text = null) {
    const content = (text ?? this.input.value).trim();
    if (!content || this.turn || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    if (content.length > this.maxChars) { this.updateCounter(); return; }
    const id = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
    this.pending.push({ id, text: content, bubble: this.userBubble(content) });
    this.socket.send(JSON.stringify({ type: "message", content, client_message_id: id }));
    if (text === null) { this.input.value = ""; this.updateCounter(); }
  }

  cancel() {
    if (this.turn && this.socket) this.socket.send(JSON.stringify({ type: "cancel", task_id: this.turn.taskId }));
  }

  busy(running) {
    const open = !!this.socket;
    this.input.disabled = !this.session;
    this.send.disabled = running || !open || this.input.value.trim().length > this.maxChars;
    this.stop.disabled = !running || !open;
  }

  updateCounter() {
    const length = this.input.value.length;
    const over = length > this.maxChars;
    if (this.counter) {
      this.counter.textContent = length > this.maxChars * 0.8 ? `${length.toLocaleString()} / ${this.maxChars.toLocaleString()}` : "";
      this.counter.classList.toggle("over", over);
    }
    this.send.disabled = over || !!this.turn || !this.socket;
    this.send.title = over ? `Messages are limited to ${this.maxChars.toLocaleString()} characters` : "";
  }

  scroll() { this.log.scrollTop = this.log.scrollHeight; }
}

export async function copyText(text) {
  try { await navigator.clipboard.writeText(text); return; } catch { /* not a secure context: fall back */ }
  const area = el("textarea");
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

// Where a page keeps its open session: localStorage (survives a reload and the tab's close) under one key.
export function storedValue(key, storage = localStorage) {
  return {
    get: () => { try { return JSON.parse(storage.getItem(key) || "null"); } catch { return null; } },
    set: (value) => { if (value === null) storage.removeItem(key); else storage.setItem(key, JSON.stringify(value)); },
  };
}

// The CSS every chat view shares (each page adds its own layout).
export const CHAT_CSS = `
.msg { max-width: 85%; padding: .55rem .75rem; border-radius: 10px; line-height: 1.45; overflow-wrap: anywhere; }
.msg.user { align-self: flex-end; background: #2f6fed; color: #fff; white-space: pre-wrap; }
.msg.user .body { white-space: pre-wrap; }
.msg.assistant { align-self: flex-start; background: #fff; border: 1px solid #d7dce4; }
.msg.assistant p { margin: .3rem 0; } .msg.assistant pre { overflow-x: auto; background: #f4f6f9; padding: .4rem; }
.msg.assistant blockquote { margin: .3rem 0; padding-left: .6rem; border-left: 3px solid #2f6fed; color: #3b4556; }
.msg.tool { align-self: flex-start; font-size: .8rem; color: #5a6475; font-family: ui-monospace, monospace; }
.msg.error { align-self: stretch; background: #fde8e8; color: #8a1c1c; border: 1px solid #f3b4b4; }
.msg.failed { opacity: .6; } .msg.incomplete { border-style: dashed; }
.msg .note { font-size: .78rem; opacity: .8; margin-top: .3rem; font-style: italic; }
.msg .sources { font-size: .78rem; color: #5a6475; margin: .4rem 0 0; padding-left: 1.2rem; border-top: 1px dashed #d7dce4; padding-top: .3rem; }
.msg .actions { display: flex; gap: .6rem; margin-top: .25rem; font-size: .75rem; }
.msg .actions button.link { background: none; border: 0; padding: 0; color: inherit; opacity: .7; text-decoration: underline; cursor: pointer; font: inherit; }
.msg .actions button.link:hover { opacity: 1; }
.counter { font-size: .75rem; color: #5a6475; align-self: center; } .counter.over { color: #b42318; font-weight: 600; }
button:disabled { opacity: .45; cursor: not-allowed; filter: grayscale(.6); }
`;
