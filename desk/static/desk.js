// The desk's behaviour: live updates by polling, deadline countdowns, notices and the alert bell,
// the inbox's selection and bulk form, composer tabs, keyboard shortcuts, and the canned-answer search.
// Text from requesters is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";
  const body = document.body;
  const baseTitle = document.title;
  let afterMessage = body.dataset.afterMessage || "0";
  let afterAlert = body.dataset.afterAlert || "0";
  const th = body.dataset.lang !== "en";
  const words = th ? {
    ticket: "เรื่องใหม่", message: "ข้อความใหม่", dismiss: "ซ่อน / Dismiss", system: "ระบบ", sla: "เวลาให้บริการ",
    warning: "ใกล้ครบกำหนด", overdue: "เกินกำหนด", dueNow: "ครบกำหนดแล้ว", over: "เกิน ",
    day: "วัน", hour: "ชม.", minute: "นาที", second: "วินาที",
    noNext: "ไม่มีเรื่องถัดไปในรายการ", noPrev: "ไม่มีเรื่องก่อนหน้าในรายการ",
    help: "คีย์ลัด", close: "ปิดหน้าต่างนี้", overLimit: "เลือกได้ไม่เกิน {n} เรื่องต่อครั้ง",
    shortcuts: [
      ["j", "เรื่องถัดไป (ตามรายการในกล่องเรื่อง)"], ["k", "เรื่องก่อนหน้า"], ["r", "ตอบกลับ"],
      ["n", "บันทึกภายใน"], ["u", "กลับกล่องเรื่อง (ตัวกรองเดิม)"], ["Ctrl+Enter", "ส่งคำตอบหรือบันทึกที่กำลังพิมพ์"],
      ["Enter", "ในกล่องเรื่อง: เปิดเรื่องที่เลือก"], ["?", "แสดงคีย์ลัด"], ["Esc", "ปิดหน้าต่างนี้ / ออกจากช่องพิมพ์"],
    ],
  } : {
    ticket: "New ticket", message: "New message", dismiss: "Dismiss", system: "System", sla: "SLA",
    warning: "Due soon", overdue: "Overdue", dueNow: "due now", over: "",
    day: "d", hour: "h", minute: "min", second: "s",
    noNext: "No next ticket in the list", noPrev: "No previous ticket in the list",
    help: "Keyboard shortcuts", close: "Close", overLimit: "At most {n} tickets at a time",
    shortcuts: [
      ["j", "Next ticket (in the inbox's order)"], ["k", "Previous ticket"], ["r", "Reply"],
      ["n", "Internal note"], ["u", "Back to the inbox (same filters)"], ["Ctrl+Enter", "Send the reply or note being typed"],
      ["Enter", "In the inbox: open the selected ticket"], ["?", "Show the shortcuts"], ["Esc", "Close this / leave the text box"],
    ],
  };

  // --- The clock: the server's "now", carried forward by the browser's --------------------------
  // The offset is taken from the page and from every poll, so a page follows the server's clock
  // (a frozen clock in the tests) rather than the computer's own.
  let offset = 0;
  function syncClock(iso) {
    const server = Date.parse(iso);
    if (!Number.isNaN(server)) offset = server - Date.now();
  }
  function now() { return Date.now() + offset; }
  if (body.dataset.now) syncClock(body.dataset.now);

  // Keep in step with desk/deadline.py format_left.
  function formatLeft(ms) {
    const total = ms >= 0 ? Math.floor(ms / 1000) : -Math.ceil(-ms / 1000);
    if (total <= 0 && total > -1) return words.dueNow;
    const seconds = Math.abs(total);
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor((seconds % 86400) / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const secs = seconds % 60;
    const parts = [];
    if (days) parts.push(days + " " + words.day);
    if (hours) parts.push(hours + " " + words.hour);
    if (minutes) parts.push(minutes + " " + words.minute);
    if (seconds < 3600 && (secs || !parts.length)) parts.push(secs + " " + words.second);
    const text = parts.join(" ");
    if (total >= 0) return text;
    return th ? words.over + text : text + " overdue";
  }

  function tick() {
    const moment = now();
    document.querySelectorAll("[data-due]").forEach((pill) => {
      const due = Date.parse(pill.dataset.due);
      if (Number.isNaN(due)) return;
      const left = due - moment;
      const warn = Number(pill.dataset.warn || 0) * 1000;
      const state = left <= 0 ? "overdue" : left <= warn ? "warning" : "ok";
      ["ok", "warning", "overdue"].forEach((name) => pill.classList.toggle("due-" + name, name === state));
      pill.dataset.state = state;
      const target = pill.querySelector(".left") || pill;
      const text = formatLeft(left);
      if (target.textContent !== text) target.textContent = text;
      const label = pill.parentElement && pill.parentElement.querySelector(".due-label");
      if (label) label.textContent = state === "ok" ? "" : words[state];
    });
  }

  // --- Notices (toasts) and the bell -------------------------------------------------------------
  const TOAST_SECONDS = { info: 8, warning: 10, overdue: 12, error: 15 };
  const MAX_TOASTS = 3;

  function toast(key, level, title, text, url) {
    const box = document.getElementById("alerts");
    if (!box) return;
    // One notice per ticket: a newer one replaces the older.
    box.querySelectorAll(".alert").forEach((old) => { if (old.dataset.key === key) old.remove(); });
    const item = document.createElement("div");
    item.className = "alert level-" + level;
    item.dataset.key = key;
    item.setAttribute("role", level === "error" || level === "overdue" ? "alert" : "status");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", words.dismiss);
    close.title = words.dismiss;
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    const heading = document.createElement(url ? "a" : "strong");
    if (url) heading.href = url;
    heading.className = "toast-title";
    heading.textContent = title;
    const line = document.createElement("div");
    line.className = "toast-text";
    line.textContent = text;
    item.append(close, heading, line);
    box.prepend(item);
    while (box.children.length > MAX_TOASTS) box.lastElementChild.remove();
    // Dismiss itself; a pointer resting on it holds it.
    let timer = null;
    const arm = () => { timer = window.setTimeout(() => item.remove(), (TOAST_SECONDS[level] || 10) * 1000); };
    item.addEventListener("mouseenter", () => window.clearTimeout(timer));
    item.addEventListener("mouseleave", arm);
    arm();
  }

  function setBell(unread) {
    const badge = document.getElementById("alert-count");
    if (!badge || typeof unread !== "number") return;
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
  }

  async function refreshPart(selectors) {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    selectors.forEach((selector) => {
      const mine = document.querySelector(selector);
      const theirs = fresh.querySelector(selector);
      if (mine && theirs) mine.replaceWith(theirs);
    });
  }

  // --- The inbox: live rows, remembered list, selection and bulk form ----------------------------
  const LIST_KEY = "desk.inbox.list";
  const URL_KEY = "desk.inbox.url";

  function rememberList() {
    if (body.dataset.page !== "inbox") return;
    const numbers = Array.from(document.querySelectorAll("#inbox-rows tr[data-ticket]")).map((row) => row.dataset.ticket);
    try {
      window.sessionStorage.setItem(LIST_KEY, JSON.stringify(numbers));
      const url = new URL(window.location.href);
      url.searchParams.delete("partial");
      window.sessionStorage.setItem(URL_KEY, url.pathname + url.search);
    } catch (error) { /* storage off: shortcuts just have no list */ }
  }

  function picked() {
    return Array.from(document.querySelectorAll('#inbox-rows input[name="number"]:checked')).map((box) => box.value);
  }

  function updateBulkCount() {
    const count = document.getElementById("bulk-count");
    if (count) count.textContent = String(picked().length);
  }

  function setUpRows() {
    const all = document.getElementById("pick-all");
    if (all) {
      all.addEventListener("change", () => {
        document.querySelectorAll('#inbox-rows input[name="number"]').forEach((box) => { box.checked = all.checked; });
        updateBulkCount();
      });
    }
    document.querySelectorAll('#inbox-rows input[name="number"]').forEach((box) => box.addEventListener("change", updateBulkCount));
    updateBulkCount();
    rememberList();
  }

  async function refreshInbox(newNumbers) {
    const holder = document.getElementById("inbox-rows");
    if (!holder) return;
    const url = new URL(window.location.href);
    url.searchParams.set("partial", "rows");
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const keep = new Set(picked());
    const cursor = holder.querySelector("tr.cursor");
    const cursorNumber = cursor ? cursor.dataset.ticket : null;
    holder.innerHTML = await response.text();  // our own server-rendered, escaped fragment
    holder.querySelectorAll('input[name="number"]').forEach((box) => { box.checked = keep.has(box.value); });
    newNumbers.forEach((number) => {
      const row = holder.querySelector('tr[data-ticket="' + CSS.escape(number) + '"]');
      if (row) row.classList.add("new-row");
    });
    if (cursorNumber) {
      const row = holder.querySelector('tr[data-ticket="' + CSS.escape(cursorNumber) + '"]');
      if (row) row.classList.add("cursor");
    }
    setUpRows();
    tick();
  }

  function setUpBulk() {
    const form = document.getElementById("bulk-form");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      const limit = Number(form.dataset.limit || 100);
      const count = picked().length;
      if (count > limit) {
        event.preventDefault();
        toast("bulk", "error", "", words.overLimit.replace("{n}", String(limit)));
        return;
      }
      const button = event.submitter;
      if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm + " (" + count + ")")) {
        event.preventDefault();
      }
    });
  }

  function setUpAutosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => select.form && select.form.requestSubmit());
    });
  }

  // --- Polling -----------------------------------------------------------------------------------
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
    if (state.now) syncClock(state.now);
    tick();
    afterMessage = String(state.last_message);
    afterAlert = String(state.last_alert);
    document.title = (state.awaiting > 0 ? "(" + state.awaiting + ") " : "") + baseTitle;
    const badge = document.getElementById("awaiting-count");
    if (badge) {
      badge.textContent = String(state.awaiting);
      badge.hidden = state.awaiting === 0;
    }
    setBell(state.unread_alerts);
    state.events.forEach((event) => {
      toast("t:" + event.number, "info", words[event.kind] + " " + event.number, event.subject, event.url);
    });
    state.alerts.forEach((alert) => {
      const key = alert.number ? "t:" + alert.number : "a:" + alert.id;
      const title = (alert.number || (alert.level === "error" ? words.system : words.sla)) + " · " + alert.at;
      toast(key, alert.level, title, alert.text, alert.url);
    });
    if (body.dataset.page === "inbox" && (state.events.length || state.alerts.length)) {
      await refreshInbox(state.events.map((event) => event.number));
    }
    if (body.dataset.page === "ticket") await refreshThread();
    if (body.dataset.page === "alerts" && state.alerts.length) await refreshPart(["#alert-list", "#alerts-unread"]);
  }

  function startPolling() {
    if (!body.dataset.liveUrl) return;
    poll();
    window.setInterval(poll, 5000);
  }

  // --- The ticket page: tabs, Ctrl+Enter, previous / next -----------------------------------------
  function showTab(name) {
    const button = document.querySelector('.tabs button[data-tab="' + name + '"]');
    if (!button) return null;
    document.querySelectorAll(".tabs button[data-tab]").forEach((other) => {
      const on = other === button;
      other.classList.toggle("on", on);
      other.setAttribute("aria-selected", on ? "true" : "false");
      const pane = document.getElementById(other.dataset.tab);
      if (pane) pane.hidden = !on;
    });
    return document.getElementById(name);
  }

  function setUpTabs() {
    document.querySelectorAll(".tabs button[data-tab]").forEach((button) => {
      button.addEventListener("click", () => showTab(button.dataset.tab));
    });
    document.querySelectorAll("textarea[data-ctrl-enter]").forEach((area) => {
      area.addEventListener("keydown", (event) => {
        const picker = area.form.querySelector("input[type=file]");
        const hasFiles = picker && picker.files && picker.files.length > 0;
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && (area.value.trim() || hasFiles)) {
          event.preventDefault();
          area.form.requestSubmit();
        }
      });
    });
  }

  // --- Files on a reply: picker or drop, checked here for count and size (the server checks again,
  // and reads the kind from the bytes) so a refusal never costs the typed text.
  function setUpReplyFiles() {
    const form = document.getElementById("reply-form");
    const picker = document.getElementById("reply-file-input");
    const list = document.getElementById("reply-files");
    const problem = document.getElementById("reply-files-error");
    if (!form || !picker || !list || !problem) return;
    const maxFiles = Number(form.dataset.maxFiles || 5);
    const maxBytes = Number(form.dataset.maxBytes || 20971520);
    const area = form.querySelector("textarea[name=body]");
    const say = th ? {
      tooMany: "แนบได้ครั้งละไม่เกิน " + maxFiles + " ไฟล์ / At most " + maxFiles + " files per reply",
      tooLarge: (name) => "ไฟล์ “" + name + "” ใหญ่เกิน " + Math.round(maxBytes / 1048576) + " MB",
      empty: (name) => "ไฟล์ “" + name + "” ว่างเปล่า",
      remove: "เอาออก",
    } : {
      tooMany: "At most " + maxFiles + " files per reply",
      tooLarge: (name) => "The file “" + name + "” is larger than " + Math.round(maxBytes / 1048576) + " MB",
      empty: (name) => "The file “" + name + "” is empty",
      remove: "Remove",
    };
    function kb(bytes) {
      return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
    }
    function setFiles(files) {
      const transfer = new DataTransfer();
      files.forEach((file) => transfer.items.add(file));
      picker.files = transfer.files;
      render();
    }
    function render() {
      list.textContent = "";
      Array.from(picker.files).forEach((file, index) => {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = file.name;
        item.className = file.type.startsWith("image/") ? "image" : "file";
        const size = document.createElement("span");
        size.className = "muted";
        size.textContent = kb(file.size);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn secondary small";
        remove.textContent = "✕";
        remove.setAttribute("aria-label", say.remove + " " + file.name);
        remove.addEventListener("click", () => setFiles(Array.from(picker.files).filter((_, i) => i !== index)));
        item.append(name, size, remove);
        list.appendChild(item);
      });
      // A reply may be files alone.
      if (area) area.required = picker.files.length === 0;
    }
    function add(incoming) {
      const kept = Array.from(picker.files);
      const refused = [];
      for (const file of Array.from(incoming)) {
        if (file.size > maxBytes) refused.push(say.tooLarge(file.name));
        else if (file.size === 0) refused.push(say.empty(file.name));
        else if (kept.length >= maxFiles) { refused.push(say.tooMany); break; }
        else kept.push(file);
      }
      problem.textContent = refused.join(" · ");
      problem.hidden = refused.length === 0;
      setFiles(kept);
    }
    let chosen = [];
    picker.addEventListener("click", () => { chosen = Array.from(picker.files); });
    picker.addEventListener("change", () => {
      const incoming = Array.from(picker.files);
      picker.files = new DataTransfer().files;
      setFiles(chosen);
      add(incoming);
    });
    form.addEventListener("dragover", (event) => {
      if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
        event.preventDefault();
        form.classList.add("dropping");
      }
    });
    form.addEventListener("dragleave", () => form.classList.remove("dropping"));
    form.addEventListener("drop", (event) => {
      form.classList.remove("dropping");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      add(event.dataTransfer.files);
    });
  }

  function storedList() {
    try {
      return JSON.parse(window.sessionStorage.getItem(LIST_KEY) || "[]");
    } catch (error) {
      return [];
    }
  }

  function neighbour(step) {
    const list = storedList();
    const at = list.indexOf(body.dataset.ticket);
    if (at < 0) return null;
    return list[at + step] || null;
  }

  function setUpTicketNav() {
    if (body.dataset.page !== "ticket") return;
    let inboxUrl = null;
    try { inboxUrl = window.sessionStorage.getItem(URL_KEY); } catch (error) { inboxUrl = null; }
    const back = document.getElementById("back-to-inbox");
    if (back && inboxUrl && inboxUrl.startsWith("/inbox")) back.href = inboxUrl;
    [["prev-ticket", -1], ["next-ticket", 1]].forEach(([id, step]) => {
      const link = document.getElementById(id);
      const number = neighbour(step);
      if (link && number) {
        link.href = "/tickets/" + encodeURIComponent(number);
        link.hidden = false;
      }
    });
  }

  function go(step) {
    const number = neighbour(step);
    if (number) window.location.href = "/tickets/" + encodeURIComponent(number);
    else toast("nav", "info", "", step > 0 ? words.noNext : words.noPrev);
  }

  // --- Keyboard shortcuts and their help ----------------------------------------------------------
  function helpOverlay() {
    let overlay = document.getElementById("shortcut-help");
    if (overlay) return overlay;
    overlay = document.createElement("div");
    overlay.id = "shortcut-help";
    overlay.className = "help-overlay";
    overlay.hidden = true;
    const panel = document.createElement("div");
    panel.className = "help-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "true");
    panel.setAttribute("aria-labelledby", "shortcut-help-title");
    const title = document.createElement("h2");
    title.id = "shortcut-help-title";
    title.textContent = words.help;
    const list = document.createElement("dl");
    words.shortcuts.forEach(([key, what]) => {
      const dt = document.createElement("dt");
      const kbd = document.createElement("kbd");
      kbd.textContent = key;
      dt.append(kbd);
      const dd = document.createElement("dd");
      dd.textContent = what;
      list.append(dt, dd);
    });
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn secondary small";
    close.textContent = words.close;
    close.addEventListener("click", () => { overlay.hidden = true; });
    panel.append(title, list, close);
    overlay.append(panel);
    overlay.addEventListener("click", (event) => { if (event.target === overlay) overlay.hidden = true; });
    document.body.append(overlay);
    return overlay;
  }

  function toggleHelp() {
    const overlay = helpOverlay();
    overlay.hidden = !overlay.hidden;
    if (!overlay.hidden) overlay.querySelector("button").focus();
  }

  function moveCursor(step) {
    const rows = Array.from(document.querySelectorAll("#inbox-rows tr[data-ticket]"));
    if (!rows.length) return;
    const at = rows.findIndex((row) => row.classList.contains("cursor"));
    const next = Math.min(rows.length - 1, Math.max(0, at < 0 ? 0 : at + step));
    rows.forEach((row, i) => row.classList.toggle("cursor", i === next));
    rows[next].scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function onKey(event) {
    const overlay = document.getElementById("shortcut-help");
    if (event.key === "Escape") {
      if (overlay && !overlay.hidden) overlay.hidden = true;
      else if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (overlay && !overlay.hidden) return;
    const page = body.dataset.page;
    if (page === "ticket") {
      const focusIn = (name) => {
        const pane = showTab(name);
        const area = pane && pane.querySelector("textarea");
        if (area) { event.preventDefault(); area.focus(); }
      };
      if (event.key === "j") go(1);
      else if (event.key === "k") go(-1);
      else if (event.key === "r") focusIn("reply-form");
      else if (event.key === "n") focusIn("note-form");
      else if (event.key === "u") document.getElementById("back-to-inbox").click();
    } else if (page === "inbox") {
      if (event.key === "j") moveCursor(1);
      else if (event.key === "k") moveCursor(-1);
      else if (event.key === "Enter" || event.key === "o") {
        const row = document.querySelector("#inbox-rows tr.cursor a");
        if (row) row.click();
      }
    }
  }

  function setUpShortcuts() {
    document.addEventListener("keydown", onKey);
    document.querySelectorAll("[data-help]").forEach((button) => button.addEventListener("click", toggleHelp));
  }

  // --- Canned answers ------------------------------------------------------------------------------
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

  // For tests and the console: the page's clock and a redraw of the countdowns.
  window.desk = { now: now, syncClock: syncClock, tick: tick, formatLeft: formatLeft };

  setUpTabs();
  setUpReplyFiles();
  setUpCanned();
  setUpRows();
  setUpBulk();
  setUpAutosubmit();
  setUpTicketNav();
  setUpShortcuts();
  tick();
  window.setInterval(tick, 1000);
  startPolling();
})();
