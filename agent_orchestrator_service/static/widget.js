// The Nooble4 chat widget: one <script> tag on any page.
//   <script src="https://nooble4.example.com/widget.js" data-tenant="TENANT_ID" data-agent="AGENT_ID"
//           data-token="END_USER_TOKEN" data-title="Ask us" async></script>
// It adds a chat button; the chat itself runs in a frame served by the platform (its origin, its storage),
// which receives the end-user token from this page by postMessage. Window.Nooble4Widget.setToken(token) hands
// it a new token (e.g. when the frame reports "nooble4:token_expired" through the onTokenExpired callback).
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.Nooble4Widget) return;
  const platform = new URL(script.src).origin;
  const { tenant = "", agent = "", title = "Chat" } = script.dataset;
  let token = script.dataset.token || null;
  let onTokenExpired = null;
  const openKey = `nooble4.widget.open.${tenant}.${agent}`;
  // The frame's own storage is third-party (browsers partition or refuse it): the chat's state (its session id
  // and last event; useless without the token) is kept here, in this site's storage, and handed back on load.
  const stateKey = `nooble4.widget.state.${tenant}.${agent}`;
  const stored = (key) => { try { return localStorage.getItem(key); } catch { return null; } };
  const store = (key, value) => { try { if (value) localStorage.setItem(key, value); else localStorage.removeItem(key); } catch { /* refused */ } };

  const button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", `Open chat: ${title}`);
  const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "28");
  icon.setAttribute("height", "28");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 4h16v11H8l-4 4z");
  path.setAttribute("fill", "#fff");
  icon.append(path);
  button.append(icon);
  Object.assign(button.style, {
    position: "fixed", right: "20px", bottom: "20px", width: "56px", height: "56px", borderRadius: "50%",
    border: "0", background: "#2f6fed", color: "#fff", cursor: "pointer", display: "grid", placeItems: "center", zIndex: "2147483646",
    boxShadow: "0 4px 14px rgba(0,0,0,.25)",
  });
  button.dataset.nooble4 = "launcher";

  const frame = document.createElement("iframe");
  const url = new URL("/widget/frame", platform);
  url.searchParams.set("tenant", tenant);
  url.searchParams.set("agent", agent);
  url.searchParams.set("title", title);
  frame.src = url.href;
  frame.title = title;
  frame.dataset.nooble4 = "frame";
  frame.allow = "clipboard-write";
  Object.assign(frame.style, {
    position: "fixed", right: "20px", bottom: "88px", width: "min(380px, calc(100vw - 24px))",
    height: "min(600px, calc(100vh - 110px))", border: "1px solid #d7dce4", borderRadius: "12px",
    boxShadow: "0 8px 30px rgba(0,0,0,.2)", zIndex: "2147483647", display: "none", background: "#fff",
  });

  function show(open) {
    frame.style.display = open ? "block" : "none";
    button.setAttribute("aria-expanded", String(open));
    store(openKey, open ? "1" : "");
  }
  function sendToken() {
    if (!token || !frame.contentWindow) return;
    let state = null;
    try { state = JSON.parse(stored(stateKey) || "null"); } catch { /* unreadable: start afresh */ }
    frame.contentWindow.postMessage({ type: "nooble4:token", token, state }, platform);
  }
  button.addEventListener("click", () => show(frame.style.display === "none"));
  window.addEventListener("message", (event) => {
    if (event.origin !== platform || event.source !== frame.contentWindow || !event.data) return;
    if (event.data.type === "nooble4:hello") sendToken();
    else if (event.data.type === "nooble4:close") show(false);
    else if (event.data.type === "nooble4:state") store(stateKey, event.data.state ? JSON.stringify(event.data.state) : "");
    else if (event.data.type === "nooble4:token_expired" && onTokenExpired) onTokenExpired();
  });

  window.Nooble4Widget = {
    setToken(next) { token = next; sendToken(); },
    onTokenExpired(callback) { onTokenExpired = callback; },
    open() { show(true); },
    close() { show(false); },
  };
  const mount = () => {
    document.body.append(frame, button);
    show(stored(openKey) === "1");
  };
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
