// Alert monitoring board: open alerts from the page, then the live feed's
// alert.* events; the open list is fetched again after every (re)connection.
(function () {
  "use strict";
  var A = window.ALERTS, L = A.labels, board = document.getElementById("board");
  var csrf = board.dataset.csrf, alerts = {}, soundOn = localStorage.getItem("ccplane_alert_sound") === "1";
  var RANK = { red: 0, yellow: 1, green: 2 }, STATUS = { "new": 0, acknowledged: 1 }, audio = null;
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function put(a) {
    var old = alerts[a.id];
    if (old && (STATUS[old.status] || 0) > (STATUS[a.status] || 0) && a.status !== "closed") return;  // a late event
    if (a.status === "closed") delete alerts[a.id]; else alerts[a.id] = a;
  }
  function order() {
    return Object.keys(alerts).map(function (k) { return alerts[k]; }).sort(function (x, y) {
      return (STATUS[x.status] - STATUS[y.status]) || (RANK[x.level] - RANK[y.level]) ||
        (x.created_at < y.created_at ? -1 : x.created_at > y.created_at ? 1 : x.id - y.id);
    });
  }
  function clock(a) {
    // Until taken: the time waited so far; once taken, the time it took (frozen).
    var s = a.seconds_to_ack != null ? Math.round(a.seconds_to_ack) : Math.max(0, Math.round((Date.now() - Date.parse(a.created_at)) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    return (h ? h + ":" + ("0" + m).slice(-2) : m) + ":" + ("0" + (s % 60)).slice(-2);
  }
  function late(a) { var d = A.deadlines[a.level]; return a.status === "new" && d && (Date.now() - Date.parse(a.created_at)) / 1000 > d; }
  function take(id, button) {
    button.disabled = true;
    var body = new URLSearchParams(); body.set("csrf", csrf);
    fetch("/alerts/" + id + "/ack", { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (j) { if (r.ok) { put(j); draw(); } else { button.disabled = false; window.alert(j.error ? j.error.message : r.status); } }); });
  }
  function card(a) {
    var li = el("li", "alert-card lv-" + a.level + (a.status === "new" ? " is-new" : "") + (late(a) ? " is-late" : ""));
    li.dataset.alert = a.id; li.dataset.status = a.status;
    var head = el("div", "ac-head");
    head.appendChild(el("span", "lvl lvl-" + a.level, L[a.level]));
    head.appendChild(el("strong", "ac-name", a.person.name));
    var t = el("span", "sla" + (late(a) ? " late" : "") + (a.status !== "new" ? " met" : ""), clock(a)); t.title = late(a) ? L.late : ""; t.dataset.sla = a.id;
    head.appendChild(t); li.appendChild(head);
    if (a.escalations) { var esc = el("span", "esc", L.escalated + " " + a.escalations + "×"); li.appendChild(esc); }
    var meta = el("div", "ac-meta");
    meta.appendChild(el("span", null, a.person.phone));
    if (a.location) { var m = el("a", null, L.map); m.href = a.location.maps_url; m.target = "_blank"; m.rel = "noopener"; meta.appendChild(m); }
    else meta.appendChild(el("span", "noloc", L.no_location));
    li.appendChild(meta);
    var foot = el("div", "ac-foot");
    if (a.status === "new") {
      foot.appendChild(el("span", "who", L["new"]));
      var b = el("button", "primary small", L.take); b.type = "button"; b.onclick = function () { take(a.id, b); };
      b.setAttribute("aria-label", L.take + ": " + a.person.name); foot.appendChild(b);
    } else foot.appendChild(el("span", "who taken", L.taken_by + " " + (a.acknowledged_by || "")));
    var o = el("a", "button small", L.open); o.href = "/alerts/" + a.id; o.setAttribute("aria-label", L.open + ": " + a.person.name);
    foot.appendChild(o); li.appendChild(foot);
    return li;
  }
  // Screen readers (NVDA): the board is not a live region (its clocks tick every
  // second); one polite announcer says what changed, once.
  var say = document.getElementById("announce");
  function announce(text) { say.textContent = ""; setTimeout(function () { say.textContent = text; }, 50); }
  function draw() {
    var list = order(), focused = document.activeElement, keep = null;
    if (focused && board.contains(focused)) {
      var li = focused.closest("li[data-alert]");
      if (li) keep = { id: li.dataset.alert, cls: focused.tagName === "BUTTON" ? "button" : "a" };
    }
    board.textContent = "";
    if (!list.length) board.appendChild(el("li", "muted empty", L.none));
    list.forEach(function (a) { board.appendChild(card(a)); });
    document.getElementById("open-count").textContent = String(list.length);
    if (keep) {  // the same control of the same alert keeps the focus across redraws
      var again = board.querySelector('li[data-alert="' + keep.id + '"] ' + keep.cls) || board.querySelector('li[data-alert="' + keep.id + '"] a');
      if (again) again.focus();
    }
    board.dataset.ringing = String(soundOn && list.some(function (a) { return a.status === "new"; }));
  }
  function tick() {
    Object.keys(alerts).forEach(function (id) {
      var a = alerts[id], t = board.querySelector('[data-sla="' + id + '"]');
      if (t) { t.textContent = clock(a); if (late(a)) { t.classList.add("late"); t.parentNode.parentNode.classList.add("is-late"); } }
    });
  }
  // The sound: two tones every 2.5 s while an alert nobody has taken is open.
  function beep() {
    if (!soundOn) return;
    var untaken = Object.keys(alerts).some(function (k) { return alerts[k].status === "new"; });
    if (!untaken) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      [0, 0.22].forEach(function (at, i) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = i ? 660 : 880; g.gain.value = 0.15; o.connect(g); g.connect(audio.destination);
        o.start(audio.currentTime + at); o.stop(audio.currentTime + at + 0.18);
      });
    } catch (e) { /* no audio device: the colours still show */ }
  }
  // Browsers start audio only after a gesture on the page: the first click or key
  // (any, e.g. the sound button or "Assumir") wakes it, so a remembered "sound on" works.
  function wake() {
    try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); if (audio.state === "suspended") audio.resume(); }
    catch (e) { /* no audio device */ }
  }
  document.addEventListener("click", wake, { once: true }); document.addEventListener("keydown", wake, { once: true });
  var soundBtn = document.getElementById("sound");
  function showSound() { soundBtn.textContent = soundOn ? L.sound_on : L.sound_off; soundBtn.setAttribute("aria-pressed", soundOn ? "true" : "false"); }
  soundBtn.onclick = function () { soundOn = !soundOn; localStorage.setItem("ccplane_alert_sound", soundOn ? "1" : "0"); showSound(); draw(); beep(); };
  showSound();
  function status(text, ok) { var c = document.getElementById("conn"); c.textContent = text; c.className = "conn" + (ok ? " ok" : " down"); }
  function refresh() {
    return fetch("/alerts/open.json", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (j) {
      var seen = {}; j.items.forEach(function (a) { seen[a.id] = true; put(a); });
      Object.keys(alerts).forEach(function (k) { if (!seen[k] && alerts[k].status !== "new") delete alerts[k]; });
      draw();
    });
  }
  // The dashboard and the latest-alerts table are drawn by the server: fetch them
  // again (the page's own filters) a moment after alerts change, not per event.
  var again = null;
  function refreshTables() {
    clearTimeout(again);
    again = setTimeout(function () {
      fetch("/alerts/tables" + location.search, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["dash-body", "latest-body", "latest-count"].forEach(function (id) {
          var fresh = doc.getElementById(id), old = document.getElementById(id);
          if (fresh && old) old.innerHTML = fresh.innerHTML;
        });
      });
    }, 1500);
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live");
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.type === "snapshot") { status("● " + L.live, true); refresh(); }
      else if (m.type.indexOf("alert.") === 0 && m.data && m.data.level) {
        (m.data.alerts || [m.data]).forEach(put); draw(); refreshTables();
        if (m.type === "alert.new") { beep(); announce(L.announce_new + " " + L[m.data.level] + ": " + m.data.person.name); }
        else if (m.type === "alert.ack") announce(m.data.person.name + ": " + L.taken_by + " " + m.data.acknowledged_by);
      }
    };
    ws.onclose = function () { status(L.offline, false); setTimeout(connect, 1000); };
  }
  (A.open || []).forEach(put); draw();
  setInterval(tick, 1000); setInterval(beep, 2500);
  connect();
})();
