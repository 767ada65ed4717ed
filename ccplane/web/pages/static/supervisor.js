// Supervisor panel (and its TV/kiosk view): the live feed's snapshot, then agent.state /
// call.* / queue.* events; a monitoring-group filter, colour thresholds per figure with a
// tone when one is crossed, listen/whisper/barge, and the call quality of busy agents.
// The service level is the server's sliding-window figure (queue.service_level events) and
// the call quality is pushed (call.quality): the page asks the server nothing per call.
(function () {
  "use strict";
  var L = window.LABELS, panel = document.getElementById("panel"), csrf = panel.dataset.csrf;
  var kiosk = panel.dataset.kiosk === "1", domain = panel.dataset.domain;
  var figures = window.FIGURES || {};
  var groups = window.GROUPS || [], group = panel.dataset.group || "", thresholds = window.THRESHOLDS || [];
  var agentQueues = window.AGENT_QUEUES || {}, asking = null, recent = window.RECENT_AGENTS || {};
  Object.keys(recent).forEach(function (u) { if (!agentQueues[u]) agentQueues[u] = recent[u]; });
  var agents = {}, queues = {}, calls = {}, wrapAt = {}, retry = 500, quality = {}, levels = null;
  var WORSE = { ok: 0, yellow: 1, red: 2 }, audio = null;
  var soundOn = localStorage.getItem("ccplane.sound") !== "off";
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function secsSince(iso) { if (!iso) return null;
    var t = typeof iso === "number" ? (iso > 1e9 ? iso * 1000 : NaN) : Date.parse(iso); if (isNaN(t)) return null;
    return Math.max(0, Math.round((Date.now() - t) / 1000)); }
  function mmss(s) { return s == null ? "" : Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2); }
  function ago(iso) { return mmss(secsSince(iso)); }
  function post(what, data) {
    var body = new URLSearchParams(data); body.set("csrf", csrf);
    return fetch("/supervisor/" + what, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok && what !== "spy") alert(j.error ? j.error.message : r.status); return { ok: r.ok, body: j }; }); });
  }
  function button(label, who, fn, cls) { var b = el("button", "small" + (cls ? " " + cls : ""), label); b.type = "button"; b.onclick = fn;
    b.setAttribute("aria-label", label + " " + who); return b; }
  function callOf(u) { for (var id in calls) if (calls[id].agent === u) return calls[id]; return null; }

  // -- the monitoring-group filter ---------------------------------------------------
  function groupQueues() {
    if (!group) return null;
    var g = groups.filter(function (x) { return x.name === group; })[0];
    var set = {}; (g ? g.queues : []).forEach(function (q) { set[q] = 1; }); return set;
  }
  function queueShown(q) { var set = groupQueues(); return !set || !!set[q]; }
  function agentShown(a) { var set = groupQueues(); if (!set) return true;
    return (agentQueues[a.username] || []).some(function (q) { return set[q]; }); }
  function learnQueues() {  // an agent the page does not know logged in: which queues (only with groups)
    if (asking || !groups.length) return;
    asking = fetch("/api/v1/domains/" + encodeURIComponent(domain) + "/agents?limit=500",
                   { credentials: "same-origin", headers: { "X-CSRF-Token": csrf } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (j) { (j.items || []).forEach(function (a) { if (a.queues && a.queues.length) agentQueues[a.username] = a.queues; });
        asking = null; renderAll(); }, function () { asking = null; });
  }
  function callShown(c) { var set = groupQueues(); return !set || !!set[c.queue]; }

  // -- thresholds and the tone -------------------------------------------------------
  function threshold(q, figure) {
    var own = null, all = null;
    thresholds.forEach(function (t) { if (t.figure === figure) { if (t.queue === q) own = t; else if (!t.queue) all = t; } });
    return own || all;
  }
  function level(q, figure, value) {
    var t = threshold(q, figure); if (!t || value == null) return "ok";
    if (figure === "service_level") return value < t.red ? "red" : value < t.yellow ? "yellow" : "ok";
    return value >= t.red ? "red" : value >= t.yellow ? "yellow" : "ok";
  }
  function tone(lvl) {
    panel.dataset.beeps = String((parseInt(panel.dataset.beeps || "0", 10)) + 1);
    panel.dataset.lastBeep = lvl;
    if (!soundOn) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      var freqs = lvl === "red" ? [880, 660, 880] : [660];
      freqs.forEach(function (f, i) {
        var o = audio.createOscillator(), g = audio.createGain(), at = audio.currentTime + i * 0.22;
        o.type = "sine"; o.frequency.value = f; g.gain.setValueAtTime(0.0001, at);
        g.gain.exponentialRampToValueAtTime(0.25, at + 0.02); g.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
        o.connect(g); g.connect(audio.destination); o.start(at); o.stop(at + 0.21);
      });
    } catch (e) { /* no audio device: the colour still says it */ }
  }
  function queueFigures(q) {
    var v = queues[q] || { waiting: 0, callers: [] }, f = figures[q];
    var oldest = v.callers && v.callers.length ? v.callers[0].since : null;
    return { waiting: v.waiting || 0, longest_wait: oldest ? secsSince(oldest) : null,
             service_level: f && f.counted ? Math.round(100 * f.within / f.counted) : null };
  }
  function checkCrossings(list) {  // a tone once when a figure goes past yellow or red
    var now = {}, worst = null;
    list.forEach(function (q) { var v = queueFigures(q);
      ["waiting", "longest_wait", "service_level"].forEach(function (fig) {
        var key = q + "|" + fig, lvl = level(q, fig, v[fig]); now[key] = lvl;
        if (levels && WORSE[lvl] > WORSE[levels[key] || "ok"]) {
          if (!worst || WORSE[lvl] > WORSE[worst.lvl]) worst = { lvl: lvl, q: q, fig: fig };
        }
      }); });
    if (levels !== null && worst) {
      tone(worst.lvl);
      var live = $("panel-announce");
      if (live) live.textContent = L["fig_" + worst.fig] + " · " + worst.q + ": " + L["level_" + worst.lvl];
    }
    levels = now;
  }

  // -- rendering ---------------------------------------------------------------------
  function qualityText(call, u) {
    var items = (quality[call.id] || []).filter(function (x) { return x.agent === u; });
    if (!items.length) return null;
    var x = items[items.length - 1];
    return { text: L.quality.replace("{mos}", x.mos.toFixed(1)).replace("{loss}", x.loss_percent.toFixed(1))
                           .replace("{jitter}", Math.round(x.jitter_ms)), poor: x.mos < 3.6 };
  }
  function spy(mode, call, u) {
    var ext = ($("spy-ext") || {}).value || "", msg = $("spy-msg");
    if (!ext) { msg.textContent = L.spy_no_extension; $("spy-ext").focus(); $("spy-ext").setAttribute("aria-invalid", "true"); return; }
    $("spy-ext").removeAttribute("aria-invalid"); localStorage.setItem("ccplane.spy-ext", ext);
    post("spy", { call: call.id, mode: mode, extension: ext }).then(function (r) {
      msg.textContent = r.ok ? L.spy_ringing.replace("{e}", ext).replace("{m}", L[mode]).replace("{a}", u)
                             : (r.body.error ? r.body.error.message : "");
      msg.className = r.ok ? "ok" : "error";
    });
  }
  function renderAgents() {
    var tb = $("agents"); tb.textContent = "";
    var names = Object.keys(agents).filter(function (u) { return agentShown(agents[u]); }).sort(function (x, y) {
      var ox = agents[x].state === "offline" ? 1 : 0, oy = agents[y].state === "offline" ? 1 : 0;  // logged out: last
      return ox - oy || (x < y ? -1 : x > y ? 1 : 0); });
    if (!names.length) { var r = el(kiosk ? "div" : "tr"); var c = el(kiosk ? "p" : "td", "muted", L.none); if (!kiosk) c.colSpan = 5; r.appendChild(c); tb.appendChild(r); }
    names.forEach(function (u) {
      var a = agents[u], call = callOf(u);
      var text = L[a.state] || a.state;
      if (a.state === "paused" && a.pause_reason) text += " — " + a.pause_reason;
      if (a.state === "wrapup" && wrapAt[u]) text += " " + Math.max(0, Math.ceil((wrapAt[u] - Date.now()) / 1000)) + " s";
      var since = a.since || (a.state === "in_call" && call ? call.answered_at || call.started_at : null) || a.changed_at;
      var busy = (a.state === "in_call" || a.state === "ringing") && call;
      var q = busy ? qualityText(call, u) : null;
      if (kiosk) {
        var card = el("div", "tile agent s-" + a.state); card.dataset.agent = u;
        card.appendChild(el("div", "who", a.name || u)); card.appendChild(el("div", "state", text));
        card.appendChild(el("div", "since", ago(since)));
        if (busy) card.appendChild(el("div", "caller", (call.caller || "") + " · " + (call.queue || L.direct)));
        tb.appendChild(card); return;
      }
      var tr = el("tr", a.state === "offline" ? "offline" : null); tr.dataset.agent = u;
      tr.appendChild(el("td", null, u));
      var td = el("td"); td.appendChild(el("span", "badge s-" + a.state, text)); tr.appendChild(td);
      tr.appendChild(el("td", "muted", ago(since)));
      var cc = el("td"); cc.appendChild(el("span", null, busy ? (call.caller || "") + " · " + (call.queue || L.direct) : ""));
      if (q) { var qs = el("small", "quality" + (q.poor ? " poor" : ""), q.text); qs.title = L.quality_title; cc.appendChild(el("br")); cc.appendChild(qs); }
      tr.appendChild(cc);
      var cell = el("td"), act = el("div", "actions"); cell.appendChild(act);
      if (a.state === "in_call" && call) ["listen", "whisper", "barge"].forEach(function (m) {
        act.appendChild(button(L[m], u, function () { spy(m, call, u); }, "spy spy-" + m)); });
      if (a.state === "paused") act.appendChild(button(L.unpause, u, function () { post("unpause", { username: u }); }));
      else if (a.state !== "offline") act.appendChild(button(L.pause, u, function () {
        var why = prompt(L.reason, ""); if (why !== null) post("pause", { username: u, reason: why || "supervisor" }); }));
      if (a.state !== "offline") act.appendChild(button(L.logout, u, function () {
        if (confirm(L.confirm_logout.replace("{u}", u))) post("logout", { username: u }); }));
      tr.appendChild(cell); tb.appendChild(tr);
    });
  }
  function queueList() {
    var names = {}; Object.keys(queues).forEach(function (q) { names[q] = 1; }); Object.keys(figures).forEach(function (q) { names[q] = 1; });
    var set = groupQueues(); if (set) Object.keys(set).forEach(function (q) { names[q] = 1; });
    return Object.keys(names).filter(queueShown).sort();
  }
  function figureCell(tag, q, fig, value, text, cls) {
    var lvl = level(q, fig, value), c = el(tag, (cls || "") + " lvl-" + lvl, text);
    c.dataset.figure = fig; c.dataset.level = lvl;
    if (lvl !== "ok") c.setAttribute("title", L["level_" + lvl]);
    return c;
  }
  function renderQueues(list) {
    var tb = $("queues"); tb.textContent = "";
    if (!list.length) { var r = el(kiosk ? "div" : "tr"); var c = el(kiosk ? "p" : "td", "muted", L.no_queue); if (!kiosk) c.colSpan = 4; r.appendChild(c); tb.appendChild(r); }
    list.forEach(function (q) {
      var v = queueFigures(q), sl = v.service_level == null ? "—" : v.service_level + "%";
      if (kiosk) {
        var card = el("div", "tile queue"); card.dataset.queue = q; card.appendChild(el("div", "qname", q));
        var row = el("div", "figs");
        [["waiting", String(v.waiting), L.fig_waiting], ["longest_wait", mmss(v.longest_wait) || "—", L.fig_longest_wait],
         ["service_level", sl, L.fig_service_level]].forEach(function (f) {
          var box = figureCell("div", q, f[0], v[f[0]], null, "fig"); box.appendChild(el("span", "value", f[1]));
          box.appendChild(el("span", "label", f[2])); row.appendChild(box); });
        card.appendChild(row); tb.appendChild(card); return;
      }
      var tr = el("tr"); tr.dataset.queue = q;
      tr.appendChild(el("td", null, q));
      tr.appendChild(figureCell("td", q, "waiting", v.waiting, String(v.waiting), v.waiting ? "warn" : ""));
      tr.appendChild(figureCell("td", q, "longest_wait", v.longest_wait, mmss(v.longest_wait) || "—"));
      tr.appendChild(figureCell("td", q, "service_level", v.service_level, sl, "sl"));
      tb.appendChild(tr);
    });
  }
  function renderTiles(list) {
    var box = $("tiles"); if (!box) return;
    var waiting = 0, longest = null, within = 0, counted = 0, worst = { waiting: "ok", longest_wait: "ok", service_level: "ok" };
    list.forEach(function (q) { var v = queueFigures(q), f = figures[q];
      waiting += v.waiting; if (v.longest_wait != null && (longest == null || v.longest_wait > longest)) longest = v.longest_wait;
      if (f) { within += f.within; counted += f.counted; }
      ["waiting", "longest_wait", "service_level"].forEach(function (fig) { var l = level(q, fig, v[fig]);
        if (WORSE[l] > WORSE[worst[fig]]) worst[fig] = l; }); });
    var busy = Object.keys(agents).filter(function (u) { return agentShown(agents[u]) && agents[u].state === "in_call"; }).length;
    var free = Object.keys(agents).filter(function (u) { return agentShown(agents[u]) && agents[u].state === "available"; }).length;
    var values = { waiting: String(waiting), longest_wait: mmss(longest) || "—",
                   service_level: counted ? Math.round(100 * within / counted) + "%" : "—",
                   in_call: String(busy), available: String(free) };
    ["waiting", "longest_wait", "service_level", "in_call", "available"].forEach(function (fig) {
      var t = box.querySelector("[data-figure=" + fig + "]"); if (!t) return;
      var lvl = worst[fig] || "ok";
      t.className = "tile lvl-" + lvl; t.dataset.level = lvl;
      t.querySelector(".value").textContent = values[fig];
      var state = t.querySelector(".lvl-text"); if (state) state.textContent = lvl === "ok" ? "" : L["level_" + lvl];
    });
  }
  function renderCalls() {
    var tb = $("calls"); if (!tb) return; tb.textContent = "";
    var ids = Object.keys(calls).filter(function (id) { return callShown(calls[id]); });
    if (!ids.length) { var r = el("tr"); var c = el("td", "muted", L.no_calls); c.colSpan = 4; r.appendChild(c); tb.appendChild(r); }
    ids.forEach(function (id) {
      var c = calls[id], tr = el("tr"); tr.dataset.call = id;
      tr.appendChild(el("td", null, (c.caller_name ? c.caller_name + " " : "") + (c.caller || "")));
      tr.appendChild(el("td", null, c.queue || "")); tr.appendChild(el("td", null, c.agent || ""));
      var act = el("td"); act.appendChild(button(L.hangup, c.caller || id, function () { post("hangup", { call: id }); })); tr.appendChild(act);
      tb.appendChild(tr);
    });
  }
  function renderAll() {
    var list = queueList();
    checkCrossings(list); renderTiles(list); renderAgents(); renderQueues(list); renderCalls();
  }
  function agentState(a, at) {
    var old = agents[a.username];
    if ((!old || old.state === "offline") && a.state !== "offline" && at) learnQueues();  // logged in (again: maybe to other queues)
    a.changed_at = old && old.state === a.state ? old.changed_at : at;
    agents[a.username] = a;
    if (a.state === "wrapup" && a.wrapup_left != null) wrapAt[a.username] = Date.now() + a.wrapup_left * 1000;
  }
  function onMessage(m) {
    var d = m.data || {};
    if (m.type === "snapshot") {
      var gone = agents; agents = {}; queues = {}; calls = {};
      (d.agents || []).forEach(function (a) { agentState(a, null); });
      Object.keys(recent).forEach(function (u) {  // took calls of these queues in the last 24 h, not logged in
        if (!agents[u] && !gone[u]) agents[u] = { username: u, state: "offline", changed_at: null }; });
      Object.keys(gone).forEach(function (u) {  // seen before, not logged in now: still a (logged-out) row
        if (!agents[u]) agents[u] = { username: u, name: gone[u].name, state: "offline",
                                      changed_at: gone[u].state === "offline" ? gone[u].changed_at : m.at }; });
      (d.queues || []).forEach(function (q) { queues[q.queue] = q; });
      (d.calls || []).forEach(function (c) { calls[c.id] = c; });
      (d.service_levels || []).forEach(function (f) { figures[f.queue] = { within: f.within, counted: f.counted }; });
    } else if (m.type === "agent.state") agentState(d, m.at);  // logged out: the row stays, "Desconectado"
    else if (m.type === "queue.service_level") figures[d.queue] = { within: d.within, counted: d.counted };
    else if (m.type === "call.quality") {
      quality[d.id] = (quality[d.id] || []).filter(function (x) { return x.agent !== d.agent; }).concat([d]);
      renderAgents(); return;
    }
    else if (m.type === "call.new" || m.type === "call.answered" || m.type === "call.transferred") calls[d.id] = d;
    else if (m.type === "call.ended") { delete calls[d.id]; delete quality[d.id]; }
    else if (m.type === "queue.caller_joined" || m.type === "queue.caller_left") {
      var q = queues[d.queue] || { queue: d.queue, callers: [] };
      q.callers = (q.callers || []).filter(function (c) { return c.call !== d.call; });
      if (m.type === "queue.caller_joined") q.callers.push({ call: d.call, caller: d.caller, since: m.at });
      q.waiting = d.count; queues[d.queue] = q;
    }
    renderAll();
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live");
    var banner = $("conn");
    ws.onopen = function () { retry = 500; if (banner) banner.hidden = true; };
    ws.onmessage = function (e) { onMessage(JSON.parse(e.data)); };
    ws.onclose = function () { if (banner) banner.hidden = false; setTimeout(connect, retry); retry = Math.min(retry * 2, 8000); };
  }
  var sel = $("group");
  if (sel) sel.addEventListener("change", function () {  // the form works without JavaScript; this spares the click
    group = sel.value; var u = new URL(location.href);
    if (group) u.searchParams.set("group", group); else u.searchParams.delete("group");
    history.replaceState(null, "", u.toString()); levels = null;
    var tv = $("kiosk-link"); if (tv) tv.href = "/supervisor?kiosk=1" + (group ? "&group=" + encodeURIComponent(group) : "");
    renderAll(); });
  var ext = $("spy-ext"); if (ext && !ext.value) ext.value = localStorage.getItem("ccplane.spy-ext") || "";
  var snd = $("sound");
  function soundLabel() { if (!snd) return; snd.setAttribute("aria-pressed", soundOn ? "true" : "false");
    snd.textContent = soundOn ? L.sound_on : L.sound_off; }
  if (snd) snd.addEventListener("click", function () {
    soundOn = !soundOn; localStorage.setItem("ccplane.sound", soundOn ? "on" : "off"); soundLabel();
    if (soundOn) { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); audio.resume(); } });
  soundLabel();
  setInterval(renderAll, 1000);  // countdowns and waits tick (and cross thresholds)
  connect();
})();
