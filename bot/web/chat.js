/* The web chat page: mounts rasa-webchat (bot/web/static/rasa-webchat.js, window.WebChat) on #chat,
 * connected to Rasa's socket.io channel, and adds the few things the widget does not do itself:
 * the privacy notice, the connection status in the page header, and a typing indicator while the
 * assistant works on an answer (the widget's own one only covers the pause between its messages). */
(function () {
  "use strict";

  var config = window.CHAT_CONFIG || {};
  var ACK_KEY = "xf_privacy_ack"; // the citizen has read the privacy notice
  var WIDGET_KEY = "chat_session"; // rasa-webchat's own storage: session id and conversation
  var REPLY_TIMEOUT_MS = 60000;

  var chat = document.getElementById("chat");
  var privacy = document.getElementById("privacy");
  var toggle = document.getElementById("privacy-toggle");
  var status = document.getElementById("status");
  var idleStatus = status.textContent;

  function stored(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function store(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) {
      /* private mode: the notice shows again next time, nothing else changes */
    }
  }

  // --- privacy notice: open until read; the header button shows it again
  function showPrivacy(open) {
    privacy.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    document.body.classList.toggle("privacy-open", open);
  }

  showPrivacy(!stored(ACK_KEY));
  toggle.addEventListener("click", function () {
    showPrivacy(privacy.hidden);
  });
  document.getElementById("privacy-ok").addEventListener("click", function () {
    store(ACK_KEY, "1");
    showPrivacy(false);
  });
  document.getElementById("forget").addEventListener("click", function () {
    if (!window.confirm("清除这台设备上保存的对话记录？清除后会开始一段新的对话。")) return;
    store(WIDGET_KEY, null);
    store(ACK_KEY, null);
    try {
      window.sessionStorage.removeItem(WIDGET_KEY);
    } catch (e) {
      /* nothing stored there */
    }
    window.location.reload();
  });

  // --- connection status in the header
  function setStatus(text, state) {
    status.textContent = text;
    status.setAttribute("data-state", state);
  }

  // --- typing indicator while waiting for the assistant's answer
  var typing = null;
  var waitingSince = 0;

  function messagesBox() {
    return chat.querySelector(".rw-messages-container");
  }

  function typingNode() {
    if (!typing) {
      typing = document.createElement("div");
      typing.className = "rw-message rw-typing-indication xf-waiting";
      typing.setAttribute("role", "status");
      typing.setAttribute("aria-label", "智能助手正在输入");
      var bubble = document.createElement("div");
      bubble.className = "rw-response";
      var wave = document.createElement("div");
      wave.className = "xf-wave";
      for (var i = 0; i < 3; i += 1) {
        var dot = document.createElement("span");
        dot.className = "rw-dot";
        wave.appendChild(dot);
      }
      bubble.appendChild(wave);
      typing.appendChild(bubble);
    }
    return typing;
  }

  function hideTyping() {
    waitingSince = 0;
    if (typing && typing.parentNode) typing.parentNode.removeChild(typing);
  }

  function showTyping() {
    var box = messagesBox();
    if (!box) return;
    var node = typingNode();
    if (node.parentNode !== box || box.lastElementChild !== node) box.appendChild(node);
    if (!waitingSince) waitingSince = Date.now();
    box.scrollTop = box.scrollHeight;
  }

  // The citizen's message is the last one shown and the widget shows no typing of its own: an answer
  // is on its way. (Covers typed messages and tapped buttons alike.)
  function awaitingAnswer() {
    var box = messagesBox();
    if (!box) return false;
    var groups = box.querySelectorAll(".rw-group-message");
    var last = groups[groups.length - 1];
    if (!last || !last.classList.contains("rw-from-client")) return false;
    return !box.querySelector(".rw-typing-indication:not(.xf-waiting)");
  }

  var answerExpected = false; // the citizen has sent something on this page (not: a reloaded history)
  var mounted = false; // the widget has drawn the stored history

  function refreshTyping() {
    if (answerExpected && waitingSince && Date.now() - waitingSince > REPLY_TIMEOUT_MS) {
      answerExpected = false; // no answer: stop pretending, the status line tells about the connection
    }
    if (answerExpected && awaitingAnswer()) showTyping();
    else hideTyping();
  }

  new MutationObserver(function (mutations) {
    for (var i = 0; i < mutations.length; i += 1) {
      var added = mutations[i].addedNodes;
      for (var j = 0; j < added.length; j += 1) {
        var node = added[j];
        if (mounted && node.nodeType === 1 && node !== typing && node.classList.contains("rw-group-message") &&
            node.classList.contains("rw-from-client")) {
          answerExpected = true;
        }
      }
    }
    refreshTyping();
    enhance();
  }).observe(chat, { childList: true, subtree: true });

  setInterval(refreshTyping, 5000);

  // --- links: the widget's Markdown renderer turns a bare address into a link, but runs it on into
  // the Chinese text after it ("https://www.example.gov.cn。手机上…" becomes one link). Bare addresses
  // are made Markdown links of their ASCII part before the widget renders (and stores) the message.
  var BARE_URL = /(^|[^(\[<\w/])(https?:\/\/[A-Za-z0-9\-._~:\/?#@!$&'*+,;=%]+)/g;
  var TRAILING = /[.,;:!?'*]+$/;

  function linkify(text) {
    return text.replace(BARE_URL, function (match, before, url) {
      var trailing = (url.match(TRAILING) || [""])[0];
      url = url.slice(0, url.length - trailing.length);
      return before + "[" + url + "](" + url + ")" + trailing;
    });
  }

  // --- accessibility: the widget's quick replies are <div>s; make them buttons for keyboards and
  // screen readers, and name the send button.
  function enhance() {
    var replies = chat.querySelectorAll(".rw-reply:not([role])");
    for (var i = 0; i < replies.length; i += 1) {
      replies[i].setAttribute("role", "button");
      replies[i].setAttribute("tabindex", "0");
    }
    var send = chat.querySelector(".rw-send:not([aria-label])");
    if (send) send.setAttribute("aria-label", "发送");
  }

  chat.addEventListener("keydown", function (event) {
    var target = event.target;
    if ((event.key === "Enter" || event.key === " ") && target.classList && target.classList.contains("rw-reply")) {
      event.preventDefault();
      target.click();
    }
  });

  // --- the widget
  if (!window.WebChat || typeof window.WebChat.default !== "function") {
    chat.innerHTML = "";
    var missing = document.createElement("p");
    missing.className = "notice";
    missing.textContent = "聊天组件没有加载成功，请稍后刷新页面再试。";
    chat.appendChild(missing);
    setStatus("暂时无法使用", "error");
    return;
  }

  var socketUrl =
    config.socketUrl ||
    window.location.protocol + "//" + window.location.hostname + ":" + (config.rasaPort || 5005);

  setStatus("正在连接…", "connecting");
  window.WebChat.default(
    {
      socketUrl: socketUrl,
      socketPath: config.socketPath || "/socket.io/",
      initPayload: config.initPayload || "/greet",
      title: config.title || "智能助手",
      inputTextFieldHint: "请输入您想问的事",
      connectingText: "正在连接…",
      embedded: true,
      withRules: false,
      showCloseButton: false,
      showFullScreenButton: false,
      hideWhenNotConnected: false,
      displayUnreadCount: false,
      params: { storage: "local" },
      // The widget pauses between the assistant's messages (with its typing dots); keep it short.
      customMessageDelay: function (message) {
        return Math.min(1000, Math.max(300, 8 * String(message || "").length));
      },
      mainColor: "#1d4f91",
      userBackgroundColor: "#1d4f91",
      userTextColor: "#ffffff",
      onSocketEvent: {
        connect: function () {
          setStatus(idleStatus, "connected");
        },
        disconnect: function () {
          setStatus("连接中断，正在重新连接…", "connecting");
        },
        connect_error: function () {
          setStatus("暂时连不上，正在重试…", "error");
        },
        // Registered on the socket before the widget's own handler, so it sees each message first.
        bot_uttered: function (message) {
          answerExpected = false;
          hideTyping();
          if (message && typeof message.text === "string") message.text = linkify(message.text);
        }
      }
    },
    chat
  );
  // The widget draws the stored history synchronously while mounting; messages added after this are new.
  window.setTimeout(function () {
    mounted = true;
  }, 0);
})();
