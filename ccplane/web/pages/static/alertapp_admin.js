// Alert-app customisation: the preview iframe (/admin/alert-app/preview, the app's own
// markup and CSS) is restyled on every keystroke; nothing is saved until "Salvar".
(function () {
  "use strict";
  var form = document.getElementById("app-form"), frame = document.getElementById("preview");
  if (!form || !frame) return;
  var COLOR = /^#[0-9a-fA-F]{6}$/, VARS = { primary: "--primary", background: "--bg", red: "--red", yellow: "--yellow", green: "--green" };
  function val(key) { var el = document.getElementById("f-" + key); return el ? el.value.trim() : ""; }
  function apply() {
    var doc = frame.contentDocument;
    if (!doc || !doc.body) return;
    Object.keys(VARS).forEach(function (name) {
      var v = val("colors." + name); if (COLOR.test(v)) doc.documentElement.style.setProperty(VARS[name], v); });
    var name = doc.querySelector(".bar .name"); if (name) name.textContent = val("app_name") || name.textContent;
    var logo = doc.querySelector(".bar .logo"); if (logo) logo.hidden = !document.getElementById("f-show_logo").checked;
    ["red", "yellow", "green"].forEach(function (lv) {
      var b = doc.querySelector("[data-text=" + lv + "]"), t = val("texts." + lv + ".button");
      if (b) b.textContent = t || b.dataset.default || b.textContent;
    });
    var call = doc.getElementById("call-now"), ct = val("texts.call_now.button"), num = val("call_number");
    if (call) call.textContent = (ct || call.dataset.default || "") + (num ? " · " + num : "");
    frame.dataset.applied = String((+frame.dataset.applied || 0) + 1);
  }
  function remember() {  // the saved texts, to fall back on when a field is emptied
    var doc = frame.contentDocument; if (!doc) return;
    doc.querySelectorAll("[data-text], #call-now").forEach(function (e) { e.dataset.default = e.textContent; });
    apply();
  }
  form.addEventListener("input", function (e) {
    var t = e.target;
    if (t.classList.contains("swatch")) { var text = document.getElementById(t.dataset.for); text.value = t.value; }
    else if (t.classList.contains("color-text") && COLOR.test(t.value.trim())) {
      var sw = form.querySelector(".swatch[data-for='" + t.id + "']"); if (sw) sw.value = t.value.trim().toLowerCase(); }
    apply();
  });
  form.addEventListener("change", apply);
  frame.addEventListener("load", remember);
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") remember();
})();
