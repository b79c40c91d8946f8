// The web chat: send what the user types, show what the bot and staff answer.
// Replies are read from the server with a cursor, so a reload shows the whole conversation
// and a staff reply written later appears by polling.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const buttons = document.getElementById("buttons");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const send = document.getElementById("send");
  const error = document.getElementById("error");
  let cursor = "0.0";
  let busy = false;

  function clientId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function render(messages) {
    for (const message of messages) {
      const bubble = document.createElement("div");
      bubble.className = "bubble " + message.from;
      bubble.dataset.id = message.id;
      bubble.textContent = message.text;
      log.appendChild(bubble);
    }
    const last = messages[messages.length - 1];
    if (last) {
      buttons.replaceChildren();
      for (const reply of (last.from !== "user" && last.quick_replies) || []) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = reply.label;
        button.addEventListener("click", () => submit(reply.text));
        buttons.appendChild(button);
      }
    }
    log.scrollTop = log.scrollHeight;
  }

  async function refresh() {
    const response = await fetch("/chat/api/messages?after=" + encodeURIComponent(cursor), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    cursor = data.cursor;
    render(data.messages);
    return data.messages.length;
  }

  async function post(url, body) {
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

  async function submit(text) {
    text = text.trim();
    if (!text || busy) return;
    busy = true;
    send.disabled = true;
    // The choices belonged to the question just answered; the reply brings new ones.
    buttons.replaceChildren();
    showError("");
    try {
      await post("/chat/api/messages", { text: text, client_id: clientId() });
      input.value = "";
      await refresh();
    } catch (exc) {
      showError("ส่งไม่สำเร็จ ลองอีกครั้ง / Not sent, please try again. (" + exc.message + ")");
    } finally {
      busy = false;
      send.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(input.value);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit(input.value);
    }
  });

  async function start() {
    try {
      if ((await refresh()) === 0) {
        await post("/chat/api/start", {});
        await refresh();
      }
    } catch (exc) {
      showError("เชื่อมต่อไม่ได้ / Cannot connect. (" + exc.message + ")");
    }
    // Staff answers arrive later: look for them every few seconds.
    setInterval(() => { if (!busy) refresh().catch(() => {}); }, 5000);
  }
  start();
})();
