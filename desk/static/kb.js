// Agent assist: "Insert into reply" puts an article's answer (with its reference line) or an earlier
// final answer into the reply box. The text comes from a data attribute and is only ever set as a value.
(function () {
  "use strict";
  function replyBox() {
    const tab = document.querySelector('.tabs button[data-tab="reply-form"]');
    if (tab && !tab.classList.contains("on")) tab.click();
    return document.querySelector("#reply-form textarea");
  }

  document.querySelectorAll("#kb-assist .kb-insert").forEach((button) => {
    button.addEventListener("click", () => {
      const box = replyBox();
      if (!box) return;
      const text = button.dataset.text || "";
      box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
      box.scrollIntoView({ block: "center", behavior: "smooth" });
    });
  });
})();
