// The web chat: send what the user types or attaches, show what the bot and staff answer.
// Replies are read from the server with a cursor, so a reload shows the whole conversation
// and a staff reply written later appears by polling. While the tab is hidden, new replies
// are counted in the page title and, if the person allowed it, shown as a notification.
(function () {
  "use strict";
  const MAX_TEXT = 2000;          // the server's limit (bot/webchat.py MAX_TEXT), in code points
  const COUNT_FROM = 1800;        // the counter appears from here
  const MAX_FILES = 5;            // clinic/uploads.py MAX_FILES_PER_MESSAGE
  const MAX_BYTES = 20 * 1024 * 1024;
  const POLL_MS = 5000;
  const ACCEPTED = /\.(jpe?g|png|gif|webp|pdf|docx?|xlsx?|pptx?|od[tsp]|txt|csv|mp4|m4v|mov|m4a)$/i;
  const ASKED_KEY = "clinic-chat-notify-asked";

  const $ = (id) => document.getElementById(id);
  const log = $("log"), buttons = $("buttons"), form = $("composer"), input = $("text"), send = $("send");
  const error = $("error"), status = $("status"), counter = $("counter"), tray = $("tray");
  const attach = $("attach"), picker = $("file"), drop = $("drop"), notify = $("notify");
  const baseTitle = document.title;

  let cursor = "0.0";
  let busy = false;
  let files = [];          // File objects waiting to be sent
  let sendId = null;       // the client_id of what is being sent, kept for a retry of the same thing
  let unread = 0;
  let hasTicket = false;

  const length = (text) => Array.from(text).length;  // code points, as the server counts
  const number = (n) => n.toLocaleString("en-US");  // 2,000 (Thai writes the same digits and commas)

  function clientId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function showStatus(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return Math.round(bytes / 1024) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  // --- the conversation ----------------------------------------------------------------------

  const WHO = { user: "คุณ / You", bot: "ระบบ / Bot", staff: "เจ้าหน้าที่ / Staff" };

  function documentIcon() {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6zm4 18H6V4h7v5h5v11zM8 12h8v2H8zm0 4h8v2H8z");
    svg.appendChild(path);
    return svg;
  }

  function fileElement(file) {
    const link = document.createElement("a");
    link.href = file.url;
    if (file.image) {
      link.target = "_blank";
      link.rel = "noopener";
      const img = document.createElement("img");
      img.alt = file.name;
      // A picture arriving at the bottom grows the log after it was scrolled: follow it down.
      img.addEventListener("load", () => {
        if (log.scrollHeight - log.scrollTop - log.clientHeight < img.clientHeight + 120) log.scrollTop = log.scrollHeight;
      });
      img.src = file.url;
      link.appendChild(img);
    } else {
      link.className = "file-link";
      link.download = file.name;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      const bytes = document.createElement("span");
      bytes.className = "size";
      bytes.textContent = size(file.size);
      link.append(documentIcon(), name, bytes);
    }
    return link;
  }

  function bubble(message) {
    const item = document.createElement("div");
    item.className = "bubble " + message.from;
    item.dataset.id = message.id;
    const who = document.createElement("span");
    who.className = message.from === "staff" ? "who" : "who visually-hidden";
    who.textContent = WHO[message.from] || WHO.bot;
    item.appendChild(who);
    if (message.text) {
      const text = document.createElement("div");
      text.className = "text";
      text.textContent = message.text;
      item.appendChild(text);
    }
    if (message.files && message.files.length) {
      const list = document.createElement("div");
      list.className = "files";
      for (const file of message.files) list.appendChild(fileElement(file));
      item.appendChild(list);
    }
    if (message.at) {
      const time = document.createElement("time");
      time.dateTime = message.at;
      time.textContent = message.at_text;
      item.appendChild(time);
    }
    return item;
  }

  function render(messages, fromChoice) {
    const stick = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    for (const message of messages) {
      if (log.querySelector('[data-id="' + message.id + '"]')) continue;
      log.appendChild(bubble(message));
    }
    const last = messages[messages.length - 1];
    if (last) {
      buttons.replaceChildren();
      for (const reply of (last.from !== "user" && last.quick_replies) || []) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = reply.label;
        button.addEventListener("click", () => submit(reply.text, { fromChoice: true }));
        buttons.appendChild(button);
      }
      if (fromChoice) {
        // The pressed button is gone: keep keyboard users in the choices, or at the message box.
        (buttons.querySelector("button") || input).focus();
      }
    }
    if (stick || messages.some((m) => m.from === "user")) log.scrollTop = log.scrollHeight;
  }

  function announce(arrived) {
    // Counted only while the person is elsewhere: a reply they are looking at is not news.
    const news = arrived.filter((m) => m.from !== "user");
    if (!news.length || document.visibilityState !== "hidden") return;
    unread += news.length;
    document.title = "(" + unread + ") " + baseTitle;
    if ("Notification" in window && Notification.permission === "granted") {
      const staff = news.filter((m) => m.from === "staff");
      const latest = (staff.length ? staff : news)[(staff.length ? staff : news).length - 1];
      const note = new Notification(
        staff.length ? "เจ้าหน้าที่ตอบแล้ว / Staff replied" : "ข้อความใหม่จากคลินิก / New message",
        { body: (latest.text || "").slice(0, 160), tag: "clinic-chat", lang: "th" },
      );
      note.onclick = () => { window.focus(); note.close(); };
    }
  }

  function seen() {
    if (document.visibilityState === "visible" && unread) {
      unread = 0;
      document.title = baseTitle;
    }
  }
  document.addEventListener("visibilitychange", seen);
  window.addEventListener("focus", seen);

  async function refresh(options) {
    const response = await fetch("/chat/api/messages?after=" + encodeURIComponent(cursor), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    cursor = data.cursor;
    hasTicket = data.has_ticket;
    render(data.messages, options && options.fromChoice);
    if (options && options.polled) announce(data.messages);
    return data.messages.length;
  }

  // --- sending ---------------------------------------------------------------------------------

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      throw new Error(data.error || "HTTP " + response.status);
    }
  }

  function postFiles(text, id) {
    // XMLHttpRequest rather than fetch: it reports upload progress.
    return new Promise((resolve, reject) => {
      const body = new FormData();
      for (const file of files) body.append("files", file, file.name);
      if (text) body.append("text", text);
      body.append("client_id", id);
      const request = new XMLHttpRequest();
      request.open("POST", "/chat/api/uploads");
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-Clinic-Chat", "1");
      request.responseType = "json";
      request.upload.onprogress = (event) => {
        if (event.lengthComputable) {
          showStatus("กำลังส่งไฟล์ " + Math.round((100 * event.loaded) / event.total) + "% / Uploading");
        }
      };
      request.onload = () => {
        if (request.status >= 200 && request.status < 300) resolve();
        else reject(new Error((request.response && request.response.error) || "HTTP " + request.status));
      };
      request.onerror = () => reject(new Error("network error"));
      request.send(body);
    });
  }

  async function submit(text, options) {
    const fromChoice = Boolean(options && options.fromChoice);
    text = text.trim();
    const withFiles = !fromChoice && files.length > 0;
    if ((!text && !withFiles) || busy) return;
    if (length(text) > MAX_TEXT) {
      showError(
        "ข้อความยาว " + number(length(text)) + " ตัวอักษร ส่งได้ครั้งละไม่เกิน " + number(MAX_TEXT) +
        " ตัวอักษร กรุณาแบ่งส่ง / The message is over " + number(MAX_TEXT) + " characters; please send it in parts.",
      );
      input.focus();
      return;
    }
    busy = true;
    send.disabled = true;
    attach.disabled = true;
    buttons.replaceChildren();  // the choices belonged to the question just answered
    showError("");
    sendId = sendId || clientId();
    try {
      if (withFiles) {
        showStatus("กำลังส่งไฟล์… / Uploading…");
        await postFiles(text, sendId);
        setFiles([]);
      } else {
        await postJson("/chat/api/messages", { text: text, client_id: sendId });
      }
      sendId = null;
      if (!fromChoice) {
        input.value = "";
        composerChanged();
      }
      await refresh({ fromChoice: fromChoice });
      offerNotifications();
    } catch (exc) {
      showError("ส่งไม่สำเร็จ ลองอีกครั้ง / Not sent, please try again. (" + exc.message + ")");
    } finally {
      showStatus("");
      busy = false;
      send.disabled = false;
      attach.disabled = false;
      if (!fromChoice) input.focus();
    }
  }

  // --- the composer: grows, counts, refuses what is too long rather than cutting it -----------

  function grow() {
    input.style.height = "auto";
    const max = parseFloat(getComputedStyle(input).maxHeight);
    const wanted = input.scrollHeight + 2;  // + the borders
    input.style.height = Math.min(wanted, max) + "px";
    input.style.overflowY = wanted > max ? "auto" : "hidden";
  }

  function count() {
    const used = length(input.value);
    counter.hidden = used < COUNT_FROM;
    counter.textContent = number(used) + " / " + number(MAX_TEXT);
    counter.classList.toggle("near", used >= COUNT_FROM && used <= MAX_TEXT);
    counter.classList.toggle("over", used > MAX_TEXT);
    if (used > MAX_TEXT) {
      counter.textContent += " เกินแล้ว / too long";
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  }

  function composerChanged() {
    sendId = null;  // something new: not a retry of the last attempt
    grow();
    count();
  }

  input.addEventListener("input", composerChanged);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit(input.value);
    }
  });
  input.addEventListener("paste", (event) => {
    const data = event.clipboardData;
    if (!data) return;
    if (data.files && data.files.length && !data.getData("text/plain")) {
      event.preventDefault();  // a screenshot or copied file: attach it
      addFiles(data.files);
      return;
    }
    const pasted = data.getData("text/plain");
    const kept = length(input.value) - length(input.value.slice(input.selectionStart, input.selectionEnd));
    const total = kept + length(pasted);
    if (total > MAX_TEXT) {
      event.preventDefault();
      showError(
        "ไม่ได้วางข้อความ: ข้อความที่วางยาว " + number(length(pasted)) + " ตัวอักษร รวมแล้ว " + number(total) +
        " เกินที่ส่งได้ครั้งละ " + number(MAX_TEXT) + " ตัวอักษร กรุณาแบ่งวางทีละส่วน / Not pasted: that would make " +
        number(total) + " characters, over the " + number(MAX_TEXT) + "-character limit. Please paste and send it in parts.",
      );
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(input.value);
  });

  // --- files: picker, drag and drop, paste ---------------------------------------------------

  function setFiles(next) {
    for (const item of tray.querySelectorAll("img")) URL.revokeObjectURL(item.src);
    files = next;
    sendId = null;
    tray.replaceChildren();
    files.forEach((file, index) => {
      const row = document.createElement("li");
      if (/^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
        const preview = document.createElement("img");
        preview.alt = "";
        preview.addEventListener("error", () => preview.remove());  // not a picture after all: the name will do
        preview.src = URL.createObjectURL(file);
        row.appendChild(preview);
      }
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      name.title = file.name;
      const bytes = document.createElement("span");
      bytes.className = "size";
      bytes.textContent = size(file.size);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.setAttribute("aria-label", "เอาออก " + file.name + " / Remove " + file.name);
      remove.addEventListener("click", () => {
        setFiles(files.filter((_, i) => i !== index));
        (tray.querySelector("button") || input).focus();
      });
      row.append(name, bytes, remove);
      tray.appendChild(row);
    });
    tray.hidden = files.length === 0;
  }

  function addFiles(list) {
    const next = files.slice();
    const refused = [];
    for (const file of list) {
      if (next.length >= MAX_FILES) {
        refused.push("แนบได้ครั้งละไม่เกิน " + MAX_FILES + " ไฟล์ / at most " + MAX_FILES + " files at a time");
        break;
      }
      if (file.size > MAX_BYTES) {
        refused.push("“" + file.name + "” ใหญ่เกิน 20 MB / is larger than 20 MB");
      } else if (file.size === 0) {
        refused.push("“" + file.name + "” ว่างเปล่า / is empty");
      } else if (!ACCEPTED.test(file.name) && !/^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
        refused.push("“" + file.name + "” ไม่ใช่ชนิดที่รับได้ (รูปภาพ PDF Word Excel PowerPoint TXT CSV MP4) / not a kind we accept");
      } else {
        next.push(file);
      }
    }
    setFiles(next);
    showError(refused.join("\n"));
    if (next.length) showStatus("");
  }

  attach.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    addFiles(picker.files);
    picker.value = "";  // choosing the same file again still fires `change`
    input.focus();
  });

  let dragDepth = 0;
  const carriesFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth += 1;
    drop.hidden = false;
  });
  document.addEventListener("dragover", (event) => {
    if (carriesFiles(event)) event.preventDefault();
  });
  document.addEventListener("dragleave", () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) drop.hidden = true;
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    drop.hidden = true;
    addFiles(event.dataTransfer.files);
    input.focus();
  });

  // --- notifications: offered once, after the first question, never on load ------------------

  function offerNotifications() {
    if (!hasTicket || !("Notification" in window) || Notification.permission !== "default") return;
    try {
      if (localStorage.getItem(ASKED_KEY)) return;
    } catch (exc) { /* storage blocked: ask anyway */ }
    notify.hidden = false;
  }

  function answered() {
    try { localStorage.setItem(ASKED_KEY, "1"); } catch (exc) { /* storage blocked */ }
    notify.hidden = true;
    input.focus();
  }

  $("notify-yes").addEventListener("click", async () => {
    await Notification.requestPermission().catch(() => "denied");
    answered();
  });
  $("notify-no").addEventListener("click", answered);

  // --- start -----------------------------------------------------------------------------------

  async function start() {
    try {
      if ((await refresh()) === 0) {
        await postJson("/chat/api/start", {});
        await refresh();
      }
    } catch (exc) {
      showError("เชื่อมต่อไม่ได้ / Cannot connect. (" + exc.message + ")");
    }
    // Staff answers arrive later: look for them every few seconds, also while the tab is hidden.
    setInterval(() => { if (!busy) refresh({ polled: true }).catch(() => {}); }, POLL_MS);
  }
  grow();
  start();
})();
