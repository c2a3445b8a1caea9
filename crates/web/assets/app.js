// Recado web UI: live updates over server-sent events, the session
// countdown, the composer and the template picker. Pages work without it;
// this only saves reloads.
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const conversation = $("#conversation");
  const listPane = $("#list-pane");
  const threadId = conversation ? conversation.dataset.thread : null;

  function activeView() {
    const a = $("#view-nav a.active");
    return a ? a.dataset.view : "";
  }

  async function fetchHtml(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
    if (!r.ok) return null;
    return { html: await r.text(), response: r };
  }

  function toast(text, href) {
    const box = $("#toasts");
    if (!box) return;
    const t = document.createElement(href ? "a" : "div");
    t.className = "toast";
    t.textContent = text;
    if (href) t.href = href;
    box.appendChild(t);
    setTimeout(() => t.remove(), 8000);
  }

  function notify(text, href) {
    toast(text, href);
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    if (!document.hidden && href === null) return;
    const n = new Notification("Recado", { body: text, tag: "recado-" + (href || "") });
    n.onclick = () => { window.focus(); if (href) window.location.href = href; };
  }

  async function refreshNav() {
    const got = await fetchHtml("/inbox/nav?view=" + encodeURIComponent(activeView()));
    if (got) $("#view-nav").innerHTML = got.html;
  }

  async function refreshList() {
    if (!listPane) return;
    const q = new URLSearchParams({ view: listPane.dataset.view, q: listPane.dataset.q });
    const got = await fetchHtml("/inbox/list?" + q.toString());
    if (got) $("#thread-list").innerHTML = got.html;
  }

  function scrollToEnd() {
    const m = $("#messages");
    if (m) m.scrollTop = m.scrollHeight;
  }

  async function refreshMessages() {
    const got = await fetchHtml("/inbox/threads/" + threadId + "/messages");
    if (!got) return;
    const open = got.response.headers.get("x-session-open");
    if (open !== null && open !== conversation.dataset.sessionOpen) {
      // The composer changes (template picker ⇄ free text): load the page anew.
      window.location.reload();
      return;
    }
    const before = new Set($$("#messages > li").map((li) => li.dataset.id));
    $("#messages").innerHTML = got.html;
    const fresh = $$("#messages > li.in").filter((li) => !before.has(li.dataset.id));
    if (fresh.length) {
      fresh.forEach((li) => li.classList.add("fresh"));
      const text = fresh[fresh.length - 1].querySelector(".text");
      notify("New message: " + (text ? text.textContent.slice(0, 80) : "(media)"), null);
    }
    scrollToEnd();
  }

  async function onMessage(data) {
    if (threadId && data.thread_id === threadId) {
      await refreshMessages();
    } else {
      await refreshList();
      const row = $('li.thread[data-thread="' + data.thread_id + '"] .who');
      const href = "/inbox/threads/" + data.thread_id;
      if (!threadId && row) notify("New message from " + row.textContent, href);
      else if (threadId) notify("New message in another conversation", href);
    }
    await refreshNav();
  }

  function connect() {
    if (!window.EventSource || !(conversation || listPane)) return;
    let opened = false;
    const es = new EventSource("/inbox/events");
    es.addEventListener("ready", () => {
      // A reconnect may have missed messages: refresh what is shown.
      if (opened) { if (threadId) refreshMessages(); refreshList(); refreshNav(); }
      opened = true;
      document.body.dataset.live = "on";
    });
    es.addEventListener("resync", () => { if (threadId) refreshMessages(); refreshList(); refreshNav(); });
    es.addEventListener("message", (e) => {
      try { onMessage(JSON.parse(e.data)); } catch (_) { /* a malformed event changes nothing */ }
    });
  }

  function countdown() {
    const el = $("#countdown");
    if (!conversation || !el) return;
    const end = Date.now() + Number(conversation.dataset.remainingMs || 0);
    const tick = () => {
      const left = end - Date.now();
      if (left <= 0) { window.location.reload(); return; }
      const minutes = Math.floor(left / 60000);
      const h = Math.floor(minutes / 60), m = minutes % 60;
      el.textContent = h > 0 ? h + " h " + m + " min" : (m > 0 ? m + " min" : "less than a minute");
    };
    tick();
    setInterval(tick, 30000);
  }

  function composer() {
    const form = $("#reply-form");
    if (form) {
      const text = $("#reply-text");
      const chars = $("#reply-chars");
      const meterUrl = form.dataset.meter;
      if (meterUrl) {
        // SMS: the server fills the text for this contact and measures it.
        const out = $("#sms-meter");
        let timer = null;
        const measure = async () => {
          const body = new URLSearchParams({ csrf: form.elements.csrf.value, text: text.value });
          const r = await fetch(meterUrl, { method: "POST", credentials: "same-origin", body });
          if (!r.ok) return;
          const m = await r.json();
          out.textContent = text.value.length ? m.summary : "";
          out.classList.toggle("over", m.too_long);
        };
        text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(measure, 150); });
      } else {
        const count = () => { chars.textContent = text.value.length ? text.value.length + " / 4096" : ""; };
        text.addEventListener("input", count);
      }
      text.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
      });
      form.addEventListener("submit", () => { $("#send-reply").disabled = true; });
    }
    const picker = $("#template-form");
    const select = $("#template-select");
    if (picker && select) {
      const show = () => {
        $$(".template-fields", picker).forEach((fs) => {
          const on = fs.dataset.template === select.value;
          fs.hidden = !on;
          $$("input", fs).forEach((i) => { i.disabled = !on; });
        });
      };
      const preview = (fs) => {
        const p = $(".preview", fs);
        let body = p.dataset.body;
        $$('input[data-part="body"]', fs).forEach((i) => {
          body = body.split("{{" + i.dataset.var + "}}").join(i.value || "{{" + i.dataset.var + "}}");
        });
        p.textContent = body;
      };
      select.addEventListener("change", show);
      $$(".template-fields", picker).forEach((fs) => fs.addEventListener("input", () => preview(fs)));
      picker.addEventListener("submit", () => { $("#send-template").disabled = true; });
      show();
    }
  }

  function dialogs() {
    const open = $("#open-subscribe");
    const dialog = $("#subscribe-dialog");
    if (open && dialog && dialog.showModal) {
      open.addEventListener("click", (e) => { e.preventDefault(); dialog.showModal(); });
      const cancel = $("#cancel-subscribe");
      if (cancel) cancel.addEventListener("click", (e) => { e.preventDefault(); dialog.close(); });
    }
  }

  // Forms that meter an SMS text as it is typed (the broadcast composer).
  function meters() {
    $$("form[data-meter]").forEach((form) => {
      const text = $("[data-meter-text]", form);
      const out = $("#sms-meter", form);
      if (!text || !out) return;
      let timer = null;
      // The whole form goes: channel, links and UTM change the count too.
      const measure = async () => {
        const body = new URLSearchParams(new FormData(form));
        const r = await fetch(form.dataset.meter, { method: "POST", credentials: "same-origin", body });
        if (!r.ok) return;
        const m = await r.json();
        out.textContent = text.value.length ? m.summary : "";
        out.classList.toggle("over", m.too_long);
      };
      text.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(measure, 150); });
      form.addEventListener("change", (e) => { if (e.target !== text && text.value.length) measure(); });
      if (text.value.length) measure();
    });
    // Forms that ask before doing something that cannot be undone.
    $$("form[data-confirm]").forEach((form) => {
      form.addEventListener("submit", (e) => { if (!window.confirm(form.dataset.confirm)) e.preventDefault(); });
    });
  }

  // The contacts list: a box that ticks every contact of the page; the
  // import page: a chosen file fills the text the form sends.
  function contactTools() {
    const all = $("#select-page");
    if (all) {
      all.hidden = false;
      all.addEventListener("change", () => {
        $$("#contact-list input[name=id]").forEach((box) => { box.checked = all.checked; });
      });
    }
    const count = $("#matching-count[data-count-url]");
    if (count) {
      fetch(count.dataset.countUrl, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.text() : ""))
        .then((n) => { if (n) count.textContent = n; });
    }
    $$("input[type=file][data-fills]").forEach((input) => {
      const target = document.getElementById(input.dataset.fills);
      if (!target) return;
      input.hidden = false;
      input.addEventListener("change", () => {
        const file = input.files && input.files[0];
        if (file) file.text().then((text) => { target.value = text; });
      });
    });
  }

  // Listen buttons: the narration's fields go to /voice/listen, which
  // renders it as the call plays it (for the page's contact, if any); the
  // audio plays in place. Without scripts the button opens the WAV.
  function listenButtons() {
    document.addEventListener("click", async (e) => {
      const button = e.target.closest("button[data-listen]");
      if (!button || !button.form) return;
      e.preventDefault();
      const row = button.closest(".listen-row");
      const player = row ? $("audio.listen-player", row) : null;
      const status = row ? $(".listen-status", row) : null;
      const body = new URLSearchParams(new FormData(button.form));
      body.set("listen", button.value);
      if (status) { status.textContent = "Rendering…"; status.classList.remove("error"); }
      button.disabled = true;
      try {
        const r = await fetch("/voice/listen", {
          method: "POST", credentials: "same-origin", body, headers: { "Accept": "application/json" },
        });
        const answer = await r.json().catch(() => ({}));
        if (!r.ok) {
          if (status) { status.textContent = (answer.field ? answer.field + ": " : "") + (answer.message || "Cannot play it."); status.classList.add("error"); }
          return;
        }
        if (status) status.textContent = "";
        if (player) {
          player.src = answer.url;
          player.hidden = false;
          player.play().catch(() => {});
        }
      } finally {
        button.disabled = false;
      }
    });
  }

  // The IVR simulator: each press posts the form and swaps in the page's
  // new state, then plays the new narrations in the order they happen.
  function simulator() {
    const form = $("#simulator");
    if (!form) return;
    let busy = false;
    const playFresh = () => {
      // The log is newest first: the call's order is the reverse.
      const queue = $$("audio[data-fresh]", form).reverse();
      const next = () => {
        const audio = queue.shift();
        $$(".entry.playing", form).forEach((el) => el.classList.remove("playing"));
        if (!audio) return;
        const entry = audio.closest(".entry");
        if (entry) entry.classList.add("playing");
        audio.addEventListener("ended", next, { once: true });
        audio.addEventListener("error", next, { once: true });
        audio.play().catch(next);
      };
      next();
    };
    form.addEventListener("submit", async (e) => {
      const submitter = e.submitter;
      e.preventDefault();
      if (busy) return;
      busy = true;
      $$("audio", form).forEach((a) => a.pause());
      const body = new URLSearchParams(new FormData(form));
      if (submitter && submitter.name) body.set(submitter.name, submitter.value);
      $$("button", form).forEach((b) => { b.disabled = true; });
      try {
        const r = await fetch(form.action, { method: "POST", credentials: "same-origin", body, headers: { "Accept": "text/html" } });
        const html = await r.text();
        const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("#simulator");
        if (fresh) { form.innerHTML = fresh.innerHTML; playFresh(); }
        else window.location.reload();
      } finally {
        busy = false;
      }
    });
    // The keyboard's digits, * and # press the keypad.
    document.addEventListener("keydown", (e) => {
      if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
      const id = { "*": "key-star", "#": "key-hash" }[e.key] || (/^[0-9]$/.test(e.key) ? "key-" + e.key : null);
      const button = id ? document.getElementById(id) : null;
      if (button && !button.disabled) { e.preventDefault(); button.click(); }
    });
  }

  function notifications() {
    const b = $("#enable-notifications");
    if (!b || !("Notification" in window) || Notification.permission !== "default") return;
    b.hidden = false;
    b.addEventListener("click", () => Notification.requestPermission().then(() => { b.hidden = true; }));
  }

  document.addEventListener("DOMContentLoaded", () => {
    scrollToEnd();
    countdown();
    composer();
    meters();
    dialogs();
    contactTools();
    listenButtons();
    simulator();
    notifications();
    connect();
  });
})();
