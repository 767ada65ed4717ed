// The alert app (PWA): CPF + password through the app API, the three buttons
// with the organisation's texts, the confirmation, "Ligar agora" as a tel: link.
(function () {
  "use strict";
  var L = window.APP.labels, slug = document.getElementById("app").dataset.slug;
  var api = "/api/v1/app/" + slug, key = "ccplane_app_token_" + slug, config = null, busy = false;
  function $(id) { return document.getElementById(id); }
  function show(view) {
    ["v-login", "v-buttons", "v-done", "v-error"].forEach(function (v) { $(v).hidden = v !== view; });
    $("logout").hidden = view === "v-login";
    var h = $(view).querySelector("h1"); if (h && view !== "v-login") h.focus();
  }
  function token() { return localStorage.getItem(key); }
  function loginError(text) {
    var e = $("login-error"); e.textContent = text; e.hidden = !text;
    var cpf = $("cpf"); cpf.setAttribute("aria-invalid", text ? "true" : "false");
    cpf.setAttribute("aria-describedby", text ? "login-error cpf-hint" : "cpf-hint");
  }
  function out(message) { localStorage.removeItem(key); config = null; show("v-login"); loginError(message || ""); }
  function request(method, path, body) {
    var h = { "Content-Type": "application/json" }; if (token()) h.Authorization = "Bearer " + token();
    return fetch(api + path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined });
  }
  function tel(a, number) {
    a.hidden = !number; if (!number) return;
    a.href = "tel:" + number; a.textContent = ((config && config.texts.call_now && config.texts.call_now.button) || L.call_now) + " · " + number;
  }
  function loadConfig() {
    return request("GET", "/config").then(function (r) {
      if (r.status === 401) { out(L.logged_out); return; }
      return r.json().then(function (c) {
        config = c;
        document.querySelectorAll("[data-text]").forEach(function (s) { s.textContent = c.texts[s.dataset.text].button; });
        show("v-buttons");
      });
    }, function () { show("v-buttons"); });
  }
  $("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var cpf = $("cpf").value.trim(), password = $("password").value;
    if (!/^[0-9]*$/.test(cpf)) { loginError(L.cpf_digits); $("cpf").focus(); return; }
    if (cpf.length !== 11) { loginError(L.cpf_len); $("cpf").focus(); return; }
    request("POST", "/login", { cpf: cpf, password: password }).then(function (r) {
      return r.json().then(function (j) {
        if (r.ok) { localStorage.setItem(key, j.access_token); $("password").value = ""; loginError(""); return loadConfig(); }
        loginError(r.status === 429 ? L.throttled : r.status === 422 ? L.cpf_digits : L.login_failed);
      });
    }, function () { loginError(L.offline); });
  });
  function position() {
    // Resolves with a location, or null when the person denies it (or there is none in time).
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: Math.min(p.coords.accuracy || 0, 100000) });
      }, function () { resolve(null); }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 });
    });
  }
  function send(level, button) {
    if (busy) return; busy = true; button.classList.add("pressed");
    $("loc-state").textContent = L.locating;
    position().then(function (loc) {
      $("loc-state").textContent = L.sending;
      return request("POST", "/alerts", { level: level, location: loc }).then(function (r) {
        if (r.status === 401) { out(L.logged_out); return; }
        return r.json().then(function (j) {
          if (!r.ok) throw new Error(j.error ? j.error.message : String(r.status));
          $("done-message").textContent = j.message;
          $("done-location").textContent = loc ? L.with_location : L.no_location;
          tel($("call-now"), level === "green" ? null : j.call_number);
          show("v-done");
        });
      });
    }).catch(function (e) {
      $("error-message").textContent = (config && config.texts.unavailable && config.texts.unavailable.message) || L.offline;
      tel($("call-fallback"), config && config.call_number);
      show("v-error");
    }).then(function () { busy = false; button.classList.remove("pressed"); $("loc-state").textContent = ""; });
  }
  document.querySelectorAll(".alert-btn").forEach(function (b) { b.addEventListener("click", function () { send(b.dataset.level, b); }); });
  $("back").onclick = function () { show("v-buttons"); };
  $("retry").onclick = function () { show("v-buttons"); };
  $("logout").onclick = function () { out(""); };
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/" + slug + "/sw.js", { scope: "/app/" + slug }).catch(function () {});
  if (token()) loadConfig(); else show("v-login");
})();
