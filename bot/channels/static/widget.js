// CourseBot web widget: talks to the server it came from over Rasa's REST webhook.
// Bot text is always set with textContent (never innerHTML), so a reply cannot inject markup.
"use strict";

(() => {
  const SENDER_ITEM = "coursebot.sender";
  // The key the server gave this conversation: reading its history after a reload takes it.
  const KEY_ITEM = "coursebot.conversation-key";
  const KEY_HEADER = "X-CourseBot-Conversation-Key";
  const AUDIO_FILE = /\.(mp3|ogg|oga|opus|wav|m4a|aac|weba|webm)(\?|#|$)/i;

  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const typing = document.getElementById("typing");
  const restart = document.getElementById("restart");
  const token = new URLSearchParams(window.location.search).get("token");
  let sender = stored(SENDER_ITEM);
  let key = stored(KEY_ITEM);
  let busy = false;
  // A conversation whose history this browser cannot read (no key, no token) is not continued.
  if (!sender || (!key && !token)) newConversation();

  function stored(item) {
    try { return window.localStorage.getItem(item); } catch (e) { return null; /* storage blocked */ }
  }

  function remember(item, value) {
    try {
      if (value === null) window.localStorage.removeItem(item);
      else window.localStorage.setItem(item, value);
    } catch (e) { /* storage blocked: this visit only */ }
  }

  function newConversation() {
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    sender = "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    key = null;
    remember(SENDER_ITEM, sender);
    remember(KEY_ITEM, null);
  }

  // GET when there is no body, else POST JSON; throws an Error with the server's own message.
  async function api(path, body) {
    const init = { headers: { Accept: "application/json" } };
    if (token) init.headers.Authorization = "Bearer " + token;
    if (key) init.headers[KEY_HEADER] = key;
    if (body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new Error("CourseBot's server cannot be reached. Check your connection and try again.");
    }
    const given = response.headers.get(KEY_HEADER);
    if (given) {
      key = given;
      remember(KEY_ITEM, key);
    }
    let data = null;
    try { data = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const reason = data && data.error ? data.error : response.status + " " + response.statusText;
      const error = new Error("The server could not answer (" + reason + ").");
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function bubble(role, speaker) {
    const item = document.createElement("div");
    item.className = "msg msg-" + role;
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = speaker + ": ";
    item.appendChild(who);
    log.appendChild(item);
    return item;
  }

  function paragraph(parent, text) {
    const p = document.createElement("p");
    p.textContent = text;
    parent.appendChild(p);
    return p;
  }

  // A bot reply as the student reads it: "- " lines as a list, "1. " lines as a numbered
  // list, web links as links, and the last "From the course: ..." line as a small source
  // line. Every piece is a text node or an element made here; nothing is parsed as HTML.
  const SOURCE_PREFIX = "From the course: ";
  const BULLET = /^\s*[-\u2022]\s+/;
  const NUMBERED = /^\s*\d+\.\s+/;
  const URL_IN_TEXT = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g;

  function richText(parent, text) {
    const lines = text.split("\n");
    let source = null;
    if (lines.length > 1 && lines[lines.length - 1].startsWith(SOURCE_PREFIX)) source = lines.pop();
    let list = null;
    for (const line of lines) {
      const kind = BULLET.test(line) ? "ul" : NUMBERED.test(line) ? "ol" : null;
      if (!kind) {
        list = null;
        withLinks(paragraph(parent, ""), line);
        continue;
      }
      if (!list || list.tagName.toLowerCase() !== kind) {
        list = document.createElement(kind);
        parent.appendChild(list);
      }
      const item = document.createElement("li");
      const marker = line.match(kind === "ul" ? BULLET : NUMBERED)[0];
      item.dataset.marker = marker;  // the line as written: marker + item
      if (/^\s+/.test(marker)) item.className = "nested";  // an item of the item above it
      if (kind === "ol") item.value = parseInt(marker, 10);
      withLinks(item, line.slice(marker.length));
      list.appendChild(item);
    }
    if (source) {
      const small = paragraph(parent, "");
      small.className = "source";
      small.textContent = source;
    }
  }

  function withLinks(element, text) {
    let at = 0;
    for (const match of text.matchAll(URL_IN_TEXT)) {
      const href = safeUrl(match[0]);
      if (!href) continue;
      element.appendChild(document.createTextNode(text.slice(at, match.index)));
      const a = document.createElement("a");
      a.href = href;
      a.textContent = match[0];
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      element.appendChild(a);
      at = match.index + match[0].length;
    }
    element.appendChild(document.createTextNode(text.slice(at)));
  }

  function scrollToEnd() { log.scrollTop = log.scrollHeight; }

  // Only web URLs (or ones relative to this page) are shown; "javascript:" and the like are dropped.
  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      const url = new URL(value, window.location.href);
      return ["http:", "https:"].includes(url.protocol) || /^data:(image|audio)\//.test(value) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // An attachment as {kind, src}: a URL string, or Rasa's {type, payload: {src}} object.
  function attachmentMedia(attachment) {
    if (typeof attachment === "string") {
      const kind = AUDIO_FILE.test(attachment) || attachment.startsWith("data:audio/") ? "audio" : "link";
      return { kind, src: safeUrl(attachment) };
    }
    if (attachment && typeof attachment === "object") {
      const payload = attachment.payload || {};
      const src = safeUrl(payload.src || payload.url);
      return { kind: ["audio", "image"].includes(attachment.type) ? attachment.type : "link", src };
    }
    return { kind: "link", src: null };
  }

  function addImage(parent, src) {
    const img = document.createElement("img");
    img.src = src;
    img.alt = "Image from CourseBot";
    img.loading = "lazy";
    parent.appendChild(img);
  }

  function addAudio(parent, src) {
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = src;
    audio.setAttribute("aria-label", "Audio from CourseBot");
    parent.appendChild(audio);
  }

  function addLink(parent, src) {
    const a = document.createElement("a");
    a.href = src;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = "Open the attachment";
    parent.appendChild(a);
  }

  function showUser(text) {
    paragraph(bubble("user", "You"), text);
    scrollToEnd();
  }

  function showBot(message) {
    const item = bubble("bot", "CourseBot");
    if (message.text) richText(item, message.text);
    const image = safeUrl(message.image);
    if (image) addImage(item, image);
    if (message.attachment) {
      const media = attachmentMedia(message.attachment);
      if (media.src) ({ audio: addAudio, image: addImage, link: addLink })[media.kind](item, media.src);
    }
    const buttons = Array.isArray(message.buttons) ? message.buttons : [];
    if (buttons.length) {
      const group = document.createElement("div");
      group.className = "choices";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      for (const choice of buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "choice";
        button.textContent = choice.title || choice.payload;
        button.dataset.payload = choice.payload || choice.title || "";
        button.addEventListener("click", () => {
          if (busy) return;
          button.classList.add("chosen");
          converse(button.dataset.payload, { shown: button.textContent });
        });
        group.appendChild(button);
      }
      item.appendChild(group);
    }
    scrollToEnd();
  }

  function showError(text) {
    const item = bubble("error", "Problem");
    item.setAttribute("role", "alert");
    paragraph(item, text);
    scrollToEnd();
  }

  // Buttons answer only the message they came with: once the user says anything, they are used up.
  function retireButtons() {
    for (const button of log.querySelectorAll(".choice:enabled")) button.disabled = true;
  }

  function buttonTitleFor(payload) {
    const match = Array.from(log.querySelectorAll(".choice:enabled")).find((b) => b.dataset.payload === payload);
    if (match) match.classList.add("chosen");
    return match ? match.textContent : payload;
  }

  function setBusy(value) {
    busy = value;
    typing.hidden = !value;
    log.setAttribute("aria-busy", String(value));
  }

  // One message to the bot; `shown` is what the log shows as the user's message (none for /restart).
  async function converse(message, { shown = null, clear = false } = {}) {
    if (busy || !message.trim()) return;
    if (shown !== null) {
      retireButtons();
      showUser(shown);
    }
    setBusy(true);
    try {
      const replies = await api("webhooks/rest/webhook", { sender, message });
      if (clear) log.replaceChildren();
      for (const reply of replies) showBot(reply);
    } catch (error) {
      showError(error.message);
    } finally {
      setBusy(false);
      input.focus();
    }
  }

  function greet() {
    showBot({ text: "Hi! Ask me about the AWS machine-learning intro course, for example \"what is overfitting?\". "
      + "Type \"help\" to see what I can do." });
  }

  async function loadHistory() {
    if (!key && !token) {
      greet();  // a new conversation: nothing to load
      return;
    }
    setBusy(true);
    try {
      const { messages } = await api("conversations/" + encodeURIComponent(sender) + "/messages");
      for (const message of messages) {
        if (message.role === "user") {
          const shown = buttonTitleFor(message.text);
          retireButtons();
          showUser(shown);
        } else {
          showBot(message);
        }
      }
      if (!messages.length) greet();
    } catch (error) {
      if (error.status === 401 || error.status === 403) {
        newConversation();  // this browser may not read that one (any more): start afresh
        greet();
      } else {
        showError(error.message);
      }
    } finally {
      setBusy(false);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (busy || !text.trim()) return;
    input.value = "";
    converse(text, { shown: text });
  });
  restart.addEventListener("click", () => converse("/restart", { clear: true }));

  loadHistory();
})();
