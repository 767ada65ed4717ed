// Agent screen: my state, my current call and the wrap-up countdown from the live
// feed; a banner while the feed is down, and a fresh snapshot on reconnect.
(function () {
  "use strict";
  var root = document.getElementById("agent");
  if (!root) return;
  var L = window.LABELS, A = window.AGENT, me = root.dataset.username;
  var myQueues = (root.dataset.queues || "").split(",").filter(Boolean);
  var state = { state: root.dataset.state, pause_reason: null }, wrapAt = null, calls = {}, waiting = {};
  var pathOf = {}, shownCall = null, lastCall = null, retry = 500;
  if (root.dataset.wrapup) wrapAt = Date.now() + parseFloat(root.dataset.wrapup) * 1000;
  function $(id) { return document.getElementById(id); }
  function secs(iso) { if (!iso) return null; var t = Date.parse(iso); return isNaN(t) ? null : Math.max(0, Math.round((Date.now() - t) / 1000)); }
  function mmss(s) { return s == null ? "—" : Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2); }

  function myCall() {
    var id, c;
    for (id in calls) { c = calls[id]; if (c.agent === me) return c; }
    if (state.state === "ringing") {  // the feed names the agent once answered: while ringing, the caller offered first
      var oldest = null;
      myQueues.forEach(function (q) { (waiting[q] || []).forEach(function (w) {
        if (!oldest || w.since < oldest.since) oldest = { id: w.call, caller: w.caller, queue: q, started_at: w.since, ringing: true }; }); });
      if (oldest) return Object.assign({}, calls[oldest.id] || {}, oldest);
    }
    return null;
  }
  function renderState() {
    var summary = $("error-summary");  // "not while in a call" is stale once the call is over
    if (summary && summary.dataset.error === "in_call" && state.state !== "in_call") summary.hidden = true;
    var el = $("state"), text = L[state.state] || state.state;
    if (state.state === "paused" && state.pause_reason) text += " — " + state.pause_reason;
    el.textContent = text; el.className = "badge big s-" + state.state;
    $("unpause-form").hidden = state.state !== "paused"; $("pause-form").hidden = state.state === "paused";
    var w = $("wrapup");
    if (state.state === "wrapup" && wrapAt) {
      w.hidden = false; w.textContent = L.wrapup_left.replace("{s}", Math.max(0, Math.ceil((wrapAt - Date.now()) / 1000)));
    } else { w.hidden = true; }
  }
  function renderCall() {
    var c = myCall();
    if (c) lastCall = c;
    var show = c || (state.state === "wrapup" ? lastCall : null);
    $("no-call").hidden = !!show; $("call").hidden = !show;
    $("transfer").hidden = !(c && !c.ringing && state.state === "in_call");
    if (consulting && (!c || c.id !== consulting)) consult(null);
    var qualifying = state.state === "wrapup" && lastCall && lastCall.protocol;
    if (qualifying && $("qualify").hidden) dispositionField(lastCall.queue);
    $("qualify").hidden = !qualifying;
    var cb = $("callback"), cbShown = !!(show && !show.ringing && (state.state === "in_call" || state.state === "wrapup"));
    if (cbShown && cb.hidden) callbackDefaults(show);
    cb.hidden = !cbShown;
    if (!show) { shownCall = null; return; }
    $("call-caller").textContent = (show.caller_name ? show.caller_name + " · " : "") + (show.caller || "—");
    $("call-queue").textContent = show.queue || L.direct;
    var wait = show.wait_time != null ? Math.round(show.wait_time) : (show.ringing ? secs(show.started_at) : null);
    $("call-wait").textContent = mmss(wait);
    $("call-talk").textContent = show.answered_at && !show.ringing ? mmss(secs(show.answered_at)) : "—";
    $("call-protocol").textContent = show.protocol || "—";
    if (show.id && show.id !== shownCall) { shownCall = show.id; loadPath(show.id); }
    $("call-ivr").textContent = pathOf[show.id] || L.ivr_none;
  }
  function dispositionField(queue) {  // the queue's qualification list, or free text when it has none
    var list = (A.dispositions || {})[queue] || [], sel = $("disposition"), text = $("disposition-text");
    sel.textContent = "";
    if (list.length) {
      var none = document.createElement("option"); none.value = ""; none.textContent = L.choose; sel.appendChild(none);
      list.forEach(function (d) { var o = document.createElement("option"); o.value = d; o.textContent = d; sel.appendChild(o); });
    }
    sel.hidden = sel.disabled = !list.length; text.hidden = text.disabled = !!list.length;
    document.querySelector("label[for=disposition]").htmlFor = list.length ? "disposition" : "disposition-text";
    $("qualify-msg").textContent = "";
  }
  function pad(n) { return ("0" + n).slice(-2); }
  // Callback times are typed on the domain's wall clock (A.zone), whatever the browser's zone.
  var zone = A.zone || "America/Sao_Paulo";
  function wallClock(ms) {  // the domain's wall clock at an instant: {y, mo, d, h, mi, s}
    var p = {};
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
    return { y: +p.year, mo: +p.month, d: +p.day, h: +p.hour % 24, mi: +p.minute, s: +p.second };
  }
  function offsetAt(ms) {  // minutes east of UTC of the domain's zone at an instant
    var w = wallClock(ms);
    return Math.round((Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000) / 60000);
  }
  function callbackDefaults(call) {
    $("callback-number").value = (call.caller || "").replace(/[^0-9+]/g, "");
    var w = wallClock(Date.now() + 3600 * 1000);  // in an hour, the agent adjusts it
    $("callback-at").value = w.y + "-" + pad(w.mo) + "-" + pad(w.d) + "T" + pad(w.h) + ":" + pad(w.mi);
    $("callback-msg").textContent = "";
  }
  function isoWithOffset(local) {  // "2026-12-07T14:30" on the domain's wall clock -> with that zone's offset
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local || ""); if (!m) return null;
    var wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    var off = offsetAt(wall - offsetAt(wall) * 60000), sign = off >= 0 ? "+" : "-"; off = Math.abs(off);
    return local + ":00" + sign + pad(Math.floor(off / 60)) + ":" + pad(off % 60);
  }
  function loadPath(id) {
    if (pathOf[id] !== undefined) return;
    fetch("/agent/calls/" + encodeURIComponent(id) + "/ivr-path", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (j) { pathOf[id] = (j.items || []).map(function (s) { return s.node + (s.digits ? " [" + s.digits + "]" : ""); }).join(" › ") || "";
        renderCall(); });
  }
  function mine(a) {
    state = a;
    wrapAt = a.state === "wrapup" && a.wrapup_left != null ? Date.now() + a.wrapup_left * 1000 : null;
  }
  function onMessage(m) {
    var d = m.data || {};
    if (m.type === "snapshot") {
      calls = {}; waiting = {};
      (d.calls || []).forEach(function (c) { calls[c.id] = c; });
      (d.queues || []).forEach(function (q) { waiting[q.queue] = q.callers || []; });
      var found = (d.agents || []).filter(function (a) { return a.username === me; })[0];
      if (found) mine(found);  // absent: not applied to Asterisk yet, keep what the page was rendered with
    } else if (m.type === "agent.state" && d.username === me) {
      if (d.state === "offline") { location.reload(); return; }  // logged out elsewhere (a supervisor, another tab)
      mine(d);
    }
    else if (m.type === "call.new" || m.type === "call.answered" || m.type === "call.transferred") calls[d.id] = d;
    else if (m.type === "call.ended") { if (lastCall && lastCall.id === d.id) lastCall = Object.assign({}, lastCall, d); delete calls[d.id]; }
    else if (m.type === "queue.caller_joined") { (waiting[d.queue] = waiting[d.queue] || []).push({ call: d.call, caller: d.caller, since: m.at }); }
    else if (m.type === "queue.caller_left") { waiting[d.queue] = (waiting[d.queue] || []).filter(function (w) { return w.call !== d.call; }); }
    renderState(); renderCall();
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live");
    ws.onopen = function () { retry = 500; $("conn").hidden = true; };
    ws.onmessage = function (e) { onMessage(JSON.parse(e.data)); };
    ws.onclose = function () { $("conn").hidden = false; setTimeout(connect, retry); retry = Math.min(retry * 2, 8000); };
  }
  function api(path, body, msg, done) {
    return fetch("/api/v1/domains/" + A.domain + path, { method: path.indexOf("qualification") >= 0 ? "PUT" : "POST",
      credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRF-Token": A.csrf },
      body: JSON.stringify(body) }).then(function (r) { return r.json().then(function (j) {
        $(msg).textContent = r.ok ? (done ? done(j) : "✓ " + L.saved) : (j.error && j.error.message) || String(r.status);
        $(msg).className = r.ok ? "ok" : "error"; }); });
  }
  // An attended transfer: the agent talks to the target, then completes it (the
  // caller goes to the target) or cancels it (the caller comes back).
  var consulting = null;
  function consult(id) { consulting = id; $("transfer-consult").hidden = !id; }
  $("transfer").addEventListener("submit", function (e) {
    e.preventDefault(); var c = myCall(); if (!c) return;
    var mode = (e.submitter && e.submitter.value) || "blind";
    api("/calls/" + encodeURIComponent(c.id) + "/transfer", { mode: mode, to: $("transfer-to").value }, "transfer-msg",
        function (j) {
          if (j.state === "consulting") { consult(c.id); return L.transfer_consulting; }
          return "✓ " + L.transfer_blind; });
  });
  ["complete", "cancel"].forEach(function (what) {
    $("transfer-" + what).addEventListener("click", function () {
      if (!consulting) return;
      var id = consulting;
      api("/calls/" + encodeURIComponent(id) + "/transfer/" + what, {}, "transfer-msg",
          function () { consult(null); return "✓ " + L["transfer_" + what]; });
    });
  });
  $("qualify").addEventListener("submit", function (e) {
    e.preventDefault(); if (!lastCall || !lastCall.protocol) return;
    var field = $("disposition").disabled ? $("disposition-text") : $("disposition");
    api("/attendances/" + encodeURIComponent(lastCall.protocol) + "/qualification",
        { disposition: field.value, description: $("description").value }, "qualify-msg");
  });
  $("callback").addEventListener("submit", function (e) {
    e.preventDefault(); var c = lastCall; if (!c) return;
    var at = isoWithOffset($("callback-at").value);
    if (!at || Date.parse(at) <= Date.now()) { $("callback-msg").textContent = L.callback_past; $("callback-msg").className = "error"; return; }
    var body = { number: $("callback-number").value, at: at, agent: me, note: $("callback-note").value };
    if (c.queue) body.queue = c.queue;
    api("/callbacks", body, "callback-msg", function (j) {
      return L.callback_saved.replace("{at}", new Date(j.at).toLocaleString(document.documentElement.lang, { timeZone: zone })); });
  });
  setInterval(function () { renderState(); renderCall(); }, 1000);  // countdown and timers tick
  renderState();
  connect();
})();
