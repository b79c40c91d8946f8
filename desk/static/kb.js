// Agent assist on the ticket page. The similar closed tickets arrive after the page has loaded (they search
// every closed ticket). "Insert into reply" puts an article's answer with its reference line, or an earlier
// final answer, at the end of the reply box; the text comes from a data attribute and is only set as a value.
(function () {
  "use strict";
  const panel = document.getElementById("kb-assist");
  if (!panel) return;

  function replyBox() {
    const tab = document.querySelector('.tabs button[data-tab="reply-form"]');
    if (tab && !tab.classList.contains("on")) tab.click();
    return document.querySelector("#reply-form textarea");
  }

  panel.addEventListener("click", (event) => {
    const button = event.target.closest(".kb-insert");
    if (!button) return;
    const box = replyBox();
    if (!box) return;
    const text = button.dataset.text || "";
    box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    box.scrollIntoView({ block: "center", behavior: "smooth" });
  });

  async function loadSimilar() {
    const holder = document.getElementById("kb-similar");
    if (!holder || !holder.dataset.url) return;
    try {
      const response = await fetch(holder.dataset.url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      holder.innerHTML = await response.text();  // our own server-rendered, escaped fragment
    } catch (error) {
      holder.querySelector("p").textContent = document.body.dataset.lang === "en"
        ? "Could not load similar tickets." : "โหลดเรื่องที่คล้ายกันไม่สำเร็จ";
    }
  }
  loadSimilar();
})();
