// The desk's behaviour: live updates by polling, composer tabs, and the canned-answer search.
// Text from requesters is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";
  const body = document.body;
  const baseTitle = document.title;
  let afterMessage = body.dataset.afterMessage || "0";
  let afterAlert = body.dataset.afterAlert || "0";
  const th = body.dataset.lang !== "en";
  const words = {
    ticket: th ? "เรื่องใหม่" : "New ticket",
    message: th ? "ข้อความใหม่" : "New message",
    dismiss: th ? "ปิด" : "Dismiss",
  };

  function toast(level, title, text, url) {
    const box = document.getElementById("alerts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "alert level-" + level;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.textContent = words.dismiss;
    close.addEventListener("click", () => item.remove());
    const heading = document.createElement(url ? "a" : "strong");
    if (url) heading.href = url;
    heading.textContent = title;
    const line = document.createElement("div");
    line.textContent = text;
    item.append(close, heading, line);
    box.prepend(item);
    while (box.children.length > 5) box.lastElementChild.remove();
  }

  async function refreshInbox(newNumbers) {
    const holder = document.getElementById("inbox-rows");
    if (!holder) return;
    const url = new URL(window.location.href);
    url.searchParams.set("partial", "rows");
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    holder.innerHTML = await response.text();  // our own server-rendered, escaped fragment
    newNumbers.forEach((number) => {
      const row = holder.querySelector('tr[data-ticket="' + CSS.escape(number) + '"]');
      if (row) row.classList.add("new-row");
    });
  }

  async function refreshThread() {
    const holder = document.getElementById("thread");
    if (!holder || !body.dataset.threadUrl) return;
    const response = await fetch(body.dataset.threadUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const html = await response.text();
    const fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".thread");
    const current = holder.querySelector(".thread");
    if (fresh && current && fresh.dataset.fingerprint !== current.dataset.fingerprint) {
      holder.innerHTML = html;
    }
  }

  async function poll() {
    const url = new URL(body.dataset.liveUrl, window.location.origin);
    url.searchParams.set("after_message", afterMessage);
    url.searchParams.set("after_alert", afterAlert);
    let state;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      state = await response.json();
    } catch (error) {
      return;  // offline for a moment: the next poll catches up
    }
    afterMessage = String(state.last_message);
    afterAlert = String(state.last_alert);
    document.title = (state.awaiting > 0 ? "(" + state.awaiting + ") " : "") + baseTitle;
    const badge = document.getElementById("awaiting-count");
    if (badge) {
      badge.textContent = String(state.awaiting);
      badge.hidden = state.awaiting === 0;
    }
    state.events.forEach((event) => toast("info", words[event.kind] + " " + event.number, event.subject, event.url));
    state.alerts.forEach((alert) => toast(alert.level, alert.number || (alert.level === "error" ? "ระบบ / System" : "SLA"), alert.text, alert.url));
    if (body.dataset.page === "inbox" && (state.events.length || state.alerts.length)) {
      await refreshInbox(state.events.map((event) => event.number));
    }
    if (body.dataset.page === "ticket") await refreshThread();
  }

  function startPolling() {
    if (!body.dataset.liveUrl) return;
    poll();
    window.setInterval(poll, 5000);
  }

  function setUpTabs() {
    document.querySelectorAll(".tabs button[data-tab]").forEach((button) => {
      button.addEventListener("click", () => {
        document.querySelectorAll(".tabs button[data-tab]").forEach((other) => {
          other.classList.toggle("on", other === button);
          const pane = document.getElementById(other.dataset.tab);
          if (pane) pane.hidden = other !== button;
        });
      });
    });
  }

  function setUpCanned() {
    const input = document.getElementById("canned-search");
    const list = document.getElementById("canned-results");
    if (!input || !list) return;
    let timer = null;
    async function search() {
      const url = new URL(input.dataset.url, window.location.origin);
      url.searchParams.set("q", input.value);
      if (document.body.dataset.ticket) url.searchParams.set("ticket", document.body.dataset.ticket);
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      list.replaceChildren();
      if (data.empty) {
        const hint = document.createElement("li");
        hint.className = "canned-empty muted";
        hint.textContent = data.empty.text + " ";
        if (data.empty.link) {
          const link = document.createElement("a");
          link.href = data.empty.link;
          link.textContent = data.empty.link_text;
          hint.append(link);
        }
        list.append(hint);
      }
      data.items.forEach((answer) => {
        const item = document.createElement("li");
        const title = document.createElement("strong");
        title.textContent = answer.title;
        const ref = document.createElement("div");
        ref.className = "muted";
        ref.textContent = answer.regulation_ref;
        item.append(title, ref);
        item.addEventListener("click", () => {
          const pane = document.querySelector(".tab-pane:not([hidden]) textarea") ||
            document.querySelector("#reply-form textarea");
          const text = answer.body + (answer.regulation_ref ? "\n(อ้างอิง: " + answer.regulation_ref + ")" : "");
          pane.value = pane.value ? pane.value + "\n" + text : text;
          pane.focus();
          list.replaceChildren();
        });
        list.append(item);
      });
    }
    input.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 200);
    });
    input.addEventListener("focus", search);
  }

  setUpTabs();
  setUpCanned();
  startPolling();
})();
