// Supervisor panel: the live feed's snapshot, then agent.state / call.* / queue.* events.
(function () {
  "use strict";
  var L = window.LABELS, panel = document.getElementById("panel"), csrf = panel.dataset.csrf;
  var slSeconds = parseInt(panel.dataset.sl, 10) || 20, figures = window.FIGURES || {};
  var agents = {}, queues = {}, calls = {}, wrapAt = {}, retry = 500;
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function ago(iso) { if (!iso) return "";
    var t = typeof iso === "number" ? (iso > 1e9 ? iso * 1000 : NaN) : Date.parse(iso); if (isNaN(t)) return "";
    var s = Math.max(0, Math.round((Date.now() - t) / 1000));
    return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2); }
  function post(what, data) {
    var body = new URLSearchParams(data); body.set("csrf", csrf);
    return fetch("/supervisor/" + what, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) r.json().then(function (j) { alert(j.error ? j.error.message : r.status); }); });
  }
  function button(label, who, fn) { var b = el("button", "small", label); b.type = "button"; b.onclick = fn;
    b.setAttribute("aria-label", label + " " + who); return b; }
  function callOf(u) { for (var id in calls) if (calls[id].agent === u) return calls[id]; return null; }
  function renderAgents() {
    var tb = document.getElementById("agents"); tb.textContent = "";
    var names = Object.keys(agents).sort();
    if (!names.length) { var r = el("tr"); var c = el("td", "muted", L.none); c.colSpan = 5; r.appendChild(c); tb.appendChild(r); }
    names.forEach(function (u) {
      var a = agents[u], tr = el("tr"), call = callOf(u); tr.dataset.agent = u;
      tr.appendChild(el("td", null, u));
      var text = L[a.state] || a.state;
      if (a.state === "paused" && a.pause_reason) text += " — " + a.pause_reason;
      if (a.state === "wrapup" && wrapAt[u]) text += " " + Math.max(0, Math.ceil((wrapAt[u] - Date.now()) / 1000)) + " s";
      var td = el("td"); td.appendChild(el("span", "badge s-" + a.state, text)); tr.appendChild(td);
      // in call the board keeps no "since": the call's answer time is when it began
      var since = a.since || (a.state === "in_call" && call ? call.answered_at || call.started_at : null) || a.changed_at;
      tr.appendChild(el("td", "muted", ago(since)));
      var busy = (a.state === "in_call" || a.state === "ringing") && call;
      tr.appendChild(el("td", null, busy ? (call.caller || "") + " · " + (call.queue || L.direct) : ""));
      var cell = el("td"), act = el("div", "actions"); cell.appendChild(act);
      if (a.state === "paused") act.appendChild(button(L.unpause, u, function () { post("unpause", { username: u }); }));
      else if (a.state !== "offline") act.appendChild(button(L.pause, u, function () {
        var why = prompt(L.reason, ""); if (why !== null) post("pause", { username: u, reason: why || "supervisor" }); }));
      if (a.state !== "offline") act.appendChild(button(L.logout, u, function () {
        if (confirm(L.confirm_logout.replace("{u}", u))) post("logout", { username: u }); }));
      tr.appendChild(cell); tb.appendChild(tr);
    });
  }
  function serviceLevel(q) {
    var f = figures[q]; if (!f || !f.counted) return "—";
    return Math.round(100 * f.within / f.counted) + "%";
  }
  function renderQueues() {
    var tb = document.getElementById("queues"); tb.textContent = "";
    var names = {}; Object.keys(queues).forEach(function (q) { names[q] = 1; }); Object.keys(figures).forEach(function (q) { names[q] = 1; });
    var list = Object.keys(names).sort();
    if (!list.length) { var r = el("tr"); var c = el("td", "muted", L.no_queue); c.colSpan = 4; r.appendChild(c); tb.appendChild(r); }
    list.forEach(function (q) {
      var v = queues[q] || { waiting: 0, callers: [] }, tr = el("tr"); tr.dataset.queue = q;
      var oldest = v.callers && v.callers.length ? v.callers[0].since : null;
      tr.appendChild(el("td", null, q)); tr.appendChild(el("td", v.waiting ? "warn" : null, String(v.waiting || 0)));
      tr.appendChild(el("td", null, ago(oldest) || "—")); tr.appendChild(el("td", "sl", serviceLevel(q))); tb.appendChild(tr);
    });
  }
  function renderCalls() {
    var tb = document.getElementById("calls"); tb.textContent = "";
    var ids = Object.keys(calls);
    if (!ids.length) { var r = el("tr"); var c = el("td", "muted", L.no_calls); c.colSpan = 4; r.appendChild(c); tb.appendChild(r); }
    ids.forEach(function (id) {
      var c = calls[id], tr = el("tr"); tr.dataset.call = id;
      tr.appendChild(el("td", null, (c.caller_name ? c.caller_name + " " : "") + (c.caller || "")));
      tr.appendChild(el("td", null, c.queue || "")); tr.appendChild(el("td", null, c.agent || ""));
      var act = el("td"); act.appendChild(button(L.hangup, c.caller || id, function () { post("hangup", { call: id }); })); tr.appendChild(act);
      tb.appendChild(tr);
    });
  }
  function agentState(a, at) {
    var old = agents[a.username];
    a.changed_at = old && old.state === a.state ? old.changed_at : at;
    agents[a.username] = a;
    if (a.state === "wrapup" && a.wrapup_left != null) wrapAt[a.username] = Date.now() + a.wrapup_left * 1000;
  }
  function onMessage(m) {
    var d = m.data || {};
    if (m.type === "snapshot") {
      agents = {}; queues = {}; calls = {};
      (d.agents || []).forEach(function (a) { agentState(a, null); });
      (d.queues || []).forEach(function (q) { queues[q.queue] = q; });
      (d.calls || []).forEach(function (c) { calls[c.id] = c; });
    } else if (m.type === "agent.state") { if (d.state === "offline") delete agents[d.username]; else agentState(d, m.at); }
    else if (m.type === "call.new" || m.type === "call.answered" || m.type === "call.transferred") calls[d.id] = d;
    else if (m.type === "call.ended") delete calls[d.id];
    else if (m.type === "queue.caller_joined" || m.type === "queue.caller_left") {
      var q = queues[d.queue] || { queue: d.queue, callers: [] };
      q.callers = (q.callers || []).filter(function (c) { return c.call !== d.call; });
      if (m.type === "queue.caller_joined") q.callers.push({ call: d.call, caller: d.caller, since: m.at });
      q.waiting = d.count; queues[d.queue] = q;
      if (m.type === "queue.caller_left") {  // the service level counts answered, and abandoned after the target
        var f = figures[d.queue] = figures[d.queue] || { within: 0, counted: 0 };
        if (d.result === "answered") { f.counted += 1; if ((d.wait || 0) <= slSeconds) f.within += 1; }
        else if (d.result === "abandon" && (d.wait || 0) > slSeconds) f.counted += 1;
      }
    }
    renderAgents(); renderQueues(); renderCalls();
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live");
    var banner = document.getElementById("conn");
    ws.onopen = function () { retry = 500; if (banner) banner.hidden = true; };
    ws.onmessage = function (e) { onMessage(JSON.parse(e.data)); };
    ws.onclose = function () { if (banner) banner.hidden = false; setTimeout(connect, retry); retry = Math.min(retry * 2, 8000); };
  }
  setInterval(function () { renderAgents(); renderQueues(); }, 1000);  // countdowns and waits tick
  connect();
})();
