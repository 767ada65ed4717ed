// IVR tree editor: the tree as nested fieldsets (each carries its API path, e.g.
// root.options.1); Save posts the tree, and a 422 shows its message at the node
// whose path the API names.
(function () {
  "use strict";
  var box = document.getElementById("ivr-editor"), L = window.IVR_L, tree = window.IVR.root;
  var TYPES = ["menu", "collect", "play", "queue", "extension", "ivr", "hangup"];
  var FIELDS = { menu: ["prompt", "input_timeout", "max_retries", "invalid_prompt", "timeout_prompt"],
    collect: ["prompt", "digits", "check"], play: ["prompt"], queue: ["target"], extension: ["target"], ivr: ["target"], hangup: [] };
  var CHILDREN = { menu: ["invalid", "timeout"], collect: ["next", "failed"], play: ["next"] };
  var INTS = { input_timeout: 1, max_retries: 1, digits: 1 }, seq = 0, prompts = [];
  function el(tag, attrs, text) { var e = document.createElement(tag); for (var k in attrs || {}) e.setAttribute(k, attrs[k]); if (text != null) e.textContent = text; return e; }
  function field(node, key, path) {
    var id = "n" + (++seq), wrap = el("div", { "class": "field", "data-path": path + "." + key });
    wrap.appendChild(el("label", { "for": id }, L[key] || key));
    var input;
    if (key === "check") {
      input = el("select", { id: id }); [["", L.none], ["cpf_registered", "cpf_registered"]].forEach(function (o) {
        var opt = el("option", { value: o[0] }, o[1]); if ((node.check || "") === o[0]) opt.selected = true; input.appendChild(opt); });
      input.onchange = function () { node.check = input.value || null; };
    } else if (key === "target" && node.type === "queue" && window.IVR.queues.length) {
      input = el("input", { id: id, list: "ivr-queues" }); input.value = node.target || "";
      input.oninput = function () { node.target = input.value; };
    } else {
      input = el("input", { id: id }); if (INTS[key]) input.setAttribute("inputmode", "numeric");
      if (/prompt$/.test(key)) input.setAttribute("list", "ivr-prompts");  // the domain's uploaded prompts
      input.value = node[key] != null ? node[key] : "";
      input.oninput = function () { var v = input.value.trim();
        if (v === "") delete node[key]; else node[key] = INTS[key] && /^\d+$/.test(v) ? parseInt(v, 10) : v; };
    }
    wrap.appendChild(input); return wrap;
  }
  function nodeBox(node, path, title, onRemove) {
    var fs = el("fieldset", { "class": "node t-" + node.type, "data-path": path });
    var lg = el("legend"); lg.appendChild(el("span", { "class": "node-title" }, title)); fs.appendChild(lg);
    var err = el("p", { "class": "error node-error", role: "alert", hidden: "" }); fs.appendChild(err);
    var row = el("div", { "class": "row" }), id = "n" + (++seq), tw = el("div", { "class": "field" });
    tw.appendChild(el("label", { "for": id }, L.type));
    var sel = el("select", { id: id });
    TYPES.forEach(function (t) { var o = el("option", { value: t }, L[t] || t); if (node.type === t) o.selected = true; sel.appendChild(o); });
    sel.onchange = function () {
      Object.keys(node).forEach(function (k) { delete node[k]; }); node.type = sel.value;
      if (sel.value === "menu") node.options = { "1": { type: "hangup" } };
      draw();
    };
    tw.appendChild(sel); row.appendChild(tw);
    (FIELDS[node.type] || []).forEach(function (k) { row.appendChild(field(node, k, path)); });
    fs.appendChild(row);
    if (onRemove) { var rm = el("button", { type: "button", "class": "small danger" }, L.remove + " " + title); rm.onclick = onRemove; fs.appendChild(rm); }
    var kids = el("div", { "class": "children" });
    if (node.type === "menu") {
      node.options = node.options || {};
      Object.keys(node.options).sort().forEach(function (k) {
        kids.appendChild(nodeBox(node.options[k], path + ".options." + k, L.option + " " + k,
          function () { delete node.options[k]; draw(); }));
      });
      var add = el("div", { "class": "row add" }), kid = "n" + (++seq);
      add.appendChild(el("label", { "for": kid }, L.key));
      var key = el("input", { id: kid, size: "2", maxlength: "1", "class": "short" }); add.appendChild(key);
      var ab = el("button", { type: "button", "class": "small" }, L.add_option);
      ab.onclick = function () { var k = key.value.trim(); if (/^[0-9*#]$/.test(k) && !node.options[k]) { node.options[k] = { type: "hangup" }; draw(); } else key.focus(); };
      add.appendChild(ab); kids.appendChild(add);
    }
    (CHILDREN[node.type] || []).forEach(function (k) {
      if (!node[k]) node[k] = { type: "hangup" };
      kids.appendChild(nodeBox(node[k], path + "." + k, L[k], null));
    });
    fs.appendChild(kids); return fs;
  }
  function draw() {
    box.textContent = "";
    var dl = el("datalist", { id: "ivr-queues" });
    window.IVR.queues.forEach(function (q) { dl.appendChild(el("option", { value: q })); });
    box.appendChild(dl);
    var pl = el("datalist", { id: "ivr-prompts" });
    prompts.forEach(function (name) { pl.appendChild(el("option", { value: name })); });
    box.appendChild(pl);
    box.appendChild(nodeBox(tree, "root", L.root, null));
  }
  function showError(fieldPath, message) {
    if (fieldPath && message.indexOf(fieldPath + ": ") === 0) message = message.slice(fieldPath.length + 2);
    var status = document.getElementById("ivr-status");
    status.hidden = false; status.textContent = (fieldPath ? fieldPath + ": " : "") + message;
    var best = null, bestLen = -1;
    box.querySelectorAll("[data-path]").forEach(function (n) { var p = n.getAttribute("data-path");
      if ((fieldPath === p || fieldPath.indexOf(p + ".") === 0) && p.length > bestLen) { best = n; bestLen = p.length; } });
    if (!best) return;
    var node = best.tagName === "FIELDSET" ? best : best.closest("fieldset");
    node.classList.add("has-error"); best.classList.add("has-error");
    var p = node.querySelector(":scope > .node-error"); p.hidden = false; p.textContent = L.error_at + ": " + message;
    var input = best.querySelector("input,select"); if (input) input.setAttribute("aria-invalid", "true");
    node.scrollIntoView({ block: "center" });
  }
  document.getElementById("ivr-save").onclick = function () {
    box.querySelectorAll(".has-error").forEach(function (n) { n.classList.remove("has-error"); });
    box.querySelectorAll(".node-error").forEach(function (n) { n.hidden = true; });
    document.getElementById("ivr-status").hidden = true; document.getElementById("ivr-saved").hidden = true;
    fetch("/admin/ivrs/" + encodeURIComponent(box.dataset.name), { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf }, body: JSON.stringify({ root: tree }) })
      .then(function (r) { return r.json().then(function (j) {
        if (r.ok) { document.getElementById("ivr-saved").hidden = false; history.replaceState(null, "", "/admin/ivrs/" + encodeURIComponent(box.dataset.name)); }
        else showError((j.error && j.error.field) || "", (j.error && j.error.message) || String(r.status)); }); });
  };
  draw();
  // The uploaded prompts (/admin/prompts), offered in every prompt field.
  fetch("/admin/prompts.json", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : { items: [] }; })
    .then(function (j) { prompts = j.items || []; var pl = document.getElementById("ivr-prompts");
      if (pl) { pl.textContent = ""; prompts.forEach(function (name) { pl.appendChild(el("option", { value: name })); }); }
      box.dataset.prompts = String(prompts.length); });
})();
