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

  const button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", `Open chat: ${title}`);
  button.textContent = "💬";
  Object.assign(button.style, {
    position: "fixed", right: "20px", bottom: "20px", width: "56px", height: "56px", borderRadius: "50%",
    border: "0", background: "#2f6fed", color: "#fff", fontSize: "26px", cursor: "pointer", zIndex: "2147483646",
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
    try { sessionStorage.setItem(openKey, open ? "1" : ""); } catch { /* storage refused: not remembered */ }
  }
  function sendToken() {
    if (token && frame.contentWindow) frame.contentWindow.postMessage({ type: "nooble4:token", token }, platform);
  }
  button.addEventListener("click", () => show(frame.style.display === "none"));
  window.addEventListener("message", (event) => {
    if (event.origin !== platform || event.source !== frame.contentWindow || !event.data) return;
    if (event.data.type === "nooble4:hello") sendToken();
    else if (event.data.type === "nooble4:close") show(false);
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
    let wasOpen = false;
    try { wasOpen = sessionStorage.getItem(openKey) === "1"; } catch { /* no storage */ }
    show(wasOpen);
  };
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
