// The agent screen's phone (issue 15): JsSIP over WSS to Asterisk, registered while
// the page is open. Rings in the page (tone, visual alert, a desktop notification
// when the tab is hidden); answer, reject (603 Decline: a reject, not a no-answer),
// hang up, mute, hold, DTMF, blind transfer (SIP REFER), call timer; reconnects
// after a network loss (ICE restart for a call in progress); reports call quality
// (getStats) to ccplane every few seconds. window.ccplanePhone is its small API.
(function () {
  "use strict";
  var P = window.PHONE, L = window.PHONE_LABELS, JsSIP = window.JsSIP;
  var card = document.getElementById("phone");
  if (!P || !card || !JsSIP) return;
  function $(id) { return document.getElementById(id); }
  function fmt(text, values) { return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k] != null ? values[k] : ""; }); }
  function show(id, on) { $(id).hidden = !on; }

  var ua = null, session = null, startedAt = null, ringer = null, notice = null, lostSocket = false;
  var reported = null, statsTimer = null, lastStats = null, muted = false, held = false, finalSent = false;

  // ---------------------------------------------------------------- states
  function setReg(state) {
    var el = $("phone-reg");
    el.textContent = L[state] || state;
    el.className = "badge r-" + state;
    card.dataset.registration = state;
  }
  function setCall(state, text) {
    card.dataset.state = state;
    $("phone-status").textContent = text || "";
    var ringing = state === "ringing", talking = state === "in_call";
    show("phone-incoming", ringing);
    show("phone-answer", ringing); show("phone-reject", ringing);
    show("phone-hangup", talking); show("phone-mute", talking); show("phone-hold", talking);
    show("phone-keypad", talking); show("phone-transfer", talking); show("phone-timer", talking);
    if (!talking) { muted = held = false; paintToggles(); consult(null); }
  }
  function paintToggles() {
    $("phone-mute").setAttribute("aria-pressed", String(muted));
    $("phone-mute").textContent = muted ? L.unmute : L.mute;
    $("phone-hold").setAttribute("aria-pressed", String(held));
    $("phone-hold").textContent = held ? L.unhold : L.hold;
  }
  function error(text) { $("phone-error").textContent = text || ""; show("phone-error", !!text); }

  // ------------------------------------------------------- ring: tone, notification
  function startRinging(from) {
    stopRinging();
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var gain = ctx.createGain(); gain.gain.value = 0; gain.connect(ctx.destination);
      var osc = ctx.createOscillator(); osc.frequency.value = 440; osc.connect(gain); osc.start();
      var on = false, beat = setInterval(function () { on = !on; gain.gain.value = on ? 0.15 : 0; }, 1000);
      ringer = { stop: function () { clearInterval(beat); try { osc.stop(); ctx.close(); } catch (e) { /* closed */ } } };
    } catch (e) { ringer = null; }
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      notice = new Notification(fmt(L.incoming_from, { from: from }), { tag: "ccplane-call", requireInteraction: true });
      notice.onclick = function () { window.focus(); notice.close(); };
    }
  }
  function stopRinging() {
    if (ringer) { ringer.stop(); ringer = null; }
    if (notice) { notice.close(); notice = null; }
  }

  // ------------------------------------------------------------ microphone
  function micDenied(on) { show("phone-mic", on); }
  if (navigator.permissions && navigator.permissions.query) {
    navigator.permissions.query({ name: "microphone" }).then(function (st) {
      micDenied(st.state === "denied");
      st.onchange = function () { micDenied(st.state === "denied"); };
    }).catch(function () { /* not supported */ });
  }
  function microphone() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      micDenied(true); return Promise.reject(new Error("getUserMedia unavailable"));
    }
    return navigator.mediaDevices.getUserMedia({ audio: true, video: false }).then(function (stream) {
      micDenied(false); return stream;
    }, function (e) { micDenied(true); throw e; });
  }

  // ------------------------------------------------------------------ calls
  function pcConfig() { return { iceServers: P.ice_servers || [] }; }
  function onSession(e) {
    var s = e.session;
    if (e.originator !== "remote") return;
    if (session) { s.terminate({ status_code: 486, reason_phrase: "Busy Here" }); return; }  // one call at a time
    session = s; reported = null; lastStats = null; delete card.dataset.transfer;
    var from = (s.remote_identity.display_name ? s.remote_identity.display_name + " · " : "") + s.remote_identity.uri.user;
    $("phone-from").textContent = from;
    setCall("ringing", fmt(L.incoming_from, { from: from }));
    startRinging(from);
    s.on("peerconnection", function (ev) { watchMedia(ev.peerconnection); });
    s.on("confirmed", function () {
      stopRinging(); startedAt = Date.now(); $("phone-timer").textContent = "0:00"; setCall("in_call", L.in_call);
      if (s.connection) watchMedia(s.connection);
      statsTimer = setInterval(function () { report(false); }, Math.max(1, P.stats_interval || 5) * 1000);
    });
    s.on("ended", function () { finished(s); });
    s.on("failed", function (ev) {
      if (ev.cause === JsSIP.C.causes.USER_DENIED_MEDIA_ACCESS) micDenied(true);
      finished(s);
    });
    s.on("hold", function (ev) { if (ev.originator === "local") { held = true; paintToggles(); } });
    s.on("unhold", function (ev) { if (ev.originator === "local") { held = false; paintToggles(); } });
  }
  function watchMedia(pc) {
    if (!pc || pc.__ccplane) return;
    pc.__ccplane = true;
    pc.addEventListener("track", function (ev) {
      var audio = $("phone-remote");
      audio.srcObject = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
      var played = audio.play(); if (played && played.catch) played.catch(function () { /* autoplay */ });
    });
    pc.addEventListener("iceconnectionstatechange", function () {
      // the network came back under a call in progress: ask for new ICE candidates
      if ((pc.iceConnectionState === "failed" || pc.iceConnectionState === "disconnected") && ua && ua.isRegistered()) restartIce();
    });
  }
  function restartIce() {
    var pc = session && session.isEstablished() ? session.connection : null;
    if (!pc || (pc.iceConnectionState !== "failed" && pc.iceConnectionState !== "disconnected")) return;
    try { session.renegotiate({ rtcOfferConstraints: { iceRestart: true } }); } catch (e) { /* a re-offer under way */ }
  }
  function finished(s) {
    if (s !== session) return;
    var completed = card.dataset.transfer === "completed";
    stopRinging();
    if (statsTimer) { clearInterval(statsTimer); statsTimer = null; }
    if (startedAt && !finalSent) report(true);
    finalSent = false;
    session = null; startedAt = null;
    setCall("idle", completed ? L.completed : L.ended);
  }

  $("phone-answer").addEventListener("click", function () {
    var s = session; if (!s) return;
    error("");
    microphone().then(function (stream) {
      if (s !== session || s.isEnded()) { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
      s.answer({ mediaStream: stream, pcConfig: pcConfig(), rtcOfferConstraints: { offerToReceiveAudio: true } });
    }, function (e) { error(fmt(L.answer_failed, { cause: e && e.name || String(e) })); });
  });
  $("phone-reject").addEventListener("click", function () {
    if (session && !session.isEnded()) session.terminate({ status_code: 603, reason_phrase: "Decline" });
  });
  $("phone-hangup").addEventListener("click", function () {
    if (!session) return;
    var s = session;
    finalSent = true;  // the last figures, taken before the hangup tears the media down
    report(true).then(function () { if (!s.isEnded()) s.terminate(); });
  });
  $("phone-mute").addEventListener("click", function () {
    if (!session) return;
    muted = !muted; if (muted) session.mute({ audio: true }); else session.unmute({ audio: true });
    paintToggles();
  });
  $("phone-hold").addEventListener("click", function () {
    if (!session) return;
    if (held) session.unhold(); else session.hold();
  });
  Array.prototype.forEach.call(document.querySelectorAll("#phone-keypad .key"), function (b) {
    b.addEventListener("click", function () {
      if (session && session.isEstablished()) session.sendDTMF(b.dataset.key, { transportType: "RFC2833", duration: 120 });
    });
  });
  $("phone-transfer").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!session || !session.isEstablished()) return;
    var to = $("phone-transfer-to").value.replace(/[^0-9*#]/g, "");
    if (!to) return;
    // Blind transfer by SIP REFER: Asterisk sends the caller to `to` in the domain's
    // context. Attended transfer goes through the transfer API (agent.js's form).
    var s = session;
    s.refer("sip:" + to + "@" + P.uri.split("@")[1], {
      eventHandlers: {
        requestSucceeded: function () { $("phone-transfer-msg").textContent = L.transfer_sent; },
        requestFailed: function (ev) { $("phone-transfer-msg").textContent = fmt(L.transfer_failed, { cause: ev.cause || "" }); },
        // Asterisk reports the outcome by NOTIFY. On success the caller is with the target and
        // Asterisk hangs the agent's leg up; should its BYE not arrive (a connection that dropped
        // and came back under the call), the phone ends the leg itself, as RFC 5589 has the
        // transferor do. On failure the call stays with the agent, who is told why.
        accepted: function () {
          setTimeout(function () { if (s === session && !s.isEnded()) s.terminate(); }, 1500);
        },
        failed: function (ev) {
          var line = ev && ev.status_line;
          $("phone-transfer-msg").textContent = fmt(L.transfer_failed,
            { cause: line ? line.status_code + " " + (line.reason_phrase || "") : "" });
        }
      }
    });
  });

  // ------------------------------------------- attended transfer (the transfer API)
  // The agent consults the target while the caller waits on hold (Asterisk's Atxfer on
  // the agent's channel); "Concluir" leaves the caller with the target, "Cancelar" hangs
  // the target up and brings the caller back. The call is the one ccplane names this agent on.
  var xferCall = null;
  function callApi(path, body) {
    return fetch("/api/v1/domains/" + encodeURIComponent(P.domain) + path, {
      method: body === undefined ? "GET" : "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": P.csrf },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) {
      if (!r.ok) throw new Error((j.error && j.error.message) || String(r.status));
      return j; }); });
  }
  function myCall() {
    return callApi("/calls?limit=100").then(function (page) {
      var mine = (page.items || []).filter(function (c) { return c.agent === P.username; });
      if (!mine.length) throw new Error(L.no_call);
      return mine[mine.length - 1].id;
    });
  }
  function consult(to, text) {
    var box = $("phone-consult");
    if (to == null) { xferCall = null; box.hidden = true; return; }
    box.hidden = false; $("phone-consult-to").textContent = to;
    $("phone-consult-msg").textContent = text || "";
    $("phone-xfer-complete").disabled = $("phone-xfer-cancel").disabled = false;
    show("phone-transfer", false);
  }
  function consultBusy(on) { $("phone-xfer-complete").disabled = $("phone-xfer-cancel").disabled = on; }
  $("phone-attended").addEventListener("click", function () {
    if (!session || !session.isEstablished()) return;
    var to = $("phone-transfer-to").value.replace(/[^0-9a-z*#-]/g, "");
    if (!to) { $("phone-transfer-msg").textContent = L.need_target; $("phone-transfer-to").focus(); return; }
    $("phone-transfer-msg").textContent = "";
    myCall().then(function (id) {
      return callApi("/calls/" + encodeURIComponent(id) + "/transfer", { mode: "attended", to: to }).then(function () {
        xferCall = id; consult(to, fmt(L.consulting, { to: to })); card.dataset.transfer = "consulting";
        $("phone-xfer-complete").focus();
      });
    }).catch(function (e) { $("phone-transfer-msg").textContent = fmt(L.transfer_failed, { cause: e.message }); });
  });
  $("phone-xfer-complete").addEventListener("click", function () {
    if (!xferCall) return;
    consultBusy(true); $("phone-consult-msg").textContent = L.completing;
    callApi("/calls/" + encodeURIComponent(xferCall) + "/transfer/complete", {}).then(function () {
      card.dataset.transfer = "completed"; $("phone-status").textContent = L.completed;
      // the agent's leg is hung up by Asterisk: the session ends and the card goes idle
    }, function (e) { consultBusy(false); $("phone-consult-msg").textContent = fmt(L.transfer_failed, { cause: e.message }); });
  });
  $("phone-xfer-cancel").addEventListener("click", function () {
    if (!xferCall) return;
    consultBusy(true);
    callApi("/calls/" + encodeURIComponent(xferCall) + "/transfer/cancel", {}).then(function () {
      card.dataset.transfer = "cancelled"; consult(null);
      if (session && session.isEstablished()) show("phone-transfer", true);
      $("phone-transfer-msg").textContent = L.cancelled;
    }, function (e) { consultBusy(false); $("phone-consult-msg").textContent = fmt(L.transfer_failed, { cause: e.message }); });
  });

  // ------------------------------------------------------------ call quality
  function stats() {
    var pc = session && session.connection;
    if (!pc || pc.connectionState === "closed") return Promise.resolve(lastStats);  // the last figures of an ended call
    return pc.getStats().then(function (report) {
      var out = { packets_sent: 0, packets_received: 0, packets_lost: 0, jitter_ms: 0, rtt_ms: null,
                  dtls: null, ice: pc.iceConnectionState, bytes_received: 0 };
      report.forEach(function (r) {
        if (r.type === "outbound-rtp" && r.kind === "audio") out.packets_sent += r.packetsSent || 0;
        else if (r.type === "inbound-rtp" && r.kind === "audio") {
          out.packets_received += r.packetsReceived || 0; out.packets_lost += Math.max(0, r.packetsLost || 0);
          out.jitter_ms = Math.max(out.jitter_ms, (r.jitter || 0) * 1000); out.bytes_received += r.bytesReceived || 0;
        } else if (r.type === "remote-inbound-rtp" && r.kind === "audio" && r.roundTripTime != null) out.rtt_ms = r.roundTripTime * 1000;
        else if (r.type === "transport" && r.dtlsState) out.dtls = r.dtlsState;
        else if (r.type === "candidate-pair" && r.nominated && r.currentRoundTripTime != null && out.rtt_ms == null) out.rtt_ms = r.currentRoundTripTime * 1000;
      });
      if (lastStats && out.packets_sent + out.packets_received === 0) return lastStats;  // torn down meanwhile
      lastStats = out;
      return out;
    });
  }
  function report(final, retried) {
    return stats().then(function (st) {
      if (!st) return null;
      var body = { packets_sent: st.packets_sent, packets_received: st.packets_received, packets_lost: st.packets_lost,
                   jitter_ms: Math.round(st.jitter_ms * 100) / 100 };
      if (st.rtt_ms != null) body.rtt_ms = Math.round(st.rtt_ms * 100) / 100;
      if (reported) body.call = reported;
      return fetch("/api/v1/domains/" + encodeURIComponent(P.domain) + "/agents/" + encodeURIComponent(P.username) + "/call-quality", {
        method: "POST", credentials: "same-origin", keepalive: !!final,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": P.csrf }, body: JSON.stringify(body)
      }).then(function (r) {
        // the last report of a call the caller ended may beat the journey's write: once more, shortly
        if (r.status === 404 && final && !retried) return new Promise(function (ok) { setTimeout(ok, 2000); })
          .then(function () { return report(true, true); }).then(function () { return null; });
        return r.ok ? r.json() : null;
      }).then(function (q) {
        if (!q) return null;
        reported = q.call;
        $("phone-quality").textContent = fmt(L.quality, { mos: q.mos.toFixed(2), loss: q.loss_percent,
          jitter: Math.round(q.jitter_ms), rtt: q.rtt_ms == null ? "—" : Math.round(q.rtt_ms) });
        return q;
      });
    }).catch(function () { return null; });  // a report lost is not worth disturbing the call
  }

  // ------------------------------------------------------------ user agent
  function start() {
    var socket = new JsSIP.WebSocketInterface(P.wss_url);
    ua = new JsSIP.UA({
      sockets: [socket], uri: P.uri, authorization_user: P.authorization_user, password: P.password,
      display_name: P.display_name, register: true, register_expires: 120, session_timers: false,
      connection_recovery_min_interval: 1, connection_recovery_max_interval: 8, user_agent: "ccplane-agent-screen"
    });
    ua.on("connecting", function () { if (!ua.isRegistered()) setReg("connecting"); });
    ua.on("connected", function () { if (lostSocket) { lostSocket = false; error(""); } });
    ua.on("disconnected", function () { lostSocket = true; setReg("connecting"); error(L.lost); });
    ua.on("registered", function () { setReg("registered"); error(""); restartIce(); });
    ua.on("unregistered", function () { setReg("unregistered"); });
    ua.on("registrationFailed", function (e) { setReg("failed"); error(L.failed + (e.cause ? ": " + e.cause : "")); });
    ua.on("newRTCSession", onSession);
    setReg("connecting");
    ua.start();
  }
  // back online: JsSIP's transport reconnects by itself (1-8 s back-off); register again
  // at once when the socket survived
  // (never a new UA: stopping this one would end the call in progress)
  window.addEventListener("online", function () { if (ua && ua.isConnected()) ua.register(); });
  // closing the tab: unregister at once (the qualify also notices a vanished browser)
  window.addEventListener("pagehide", function () { if (ua) { try { ua.stop(); } catch (e) { /* closing */ } } });
  // the desktop notification needs a permission the agent grants once
  document.addEventListener("click", function ask() {
    document.removeEventListener("click", ask);
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  });

  window.ccplanePhone = {
    ua: function () { return ua; }, session: function () { return session; },
    stats: stats, report: report
  };
  setInterval(function () {  // the call timer
    if (!startedAt) return;
    var sec = Math.floor((Date.now() - startedAt) / 1000);
    $("phone-timer").textContent = Math.floor(sec / 60) + ":" + ("0" + (sec % 60)).slice(-2);
  }, 250);
  setCall("idle", L.idle);
  start();
})();
