// Extensions page: the registered state refreshed every 5 s while the page is visible.
(function () {
  "use strict";
  function refresh() {
    if (document.hidden) return;
    fetch("/admin/extensions/state", { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { (j && j.items || []).forEach(function (e) {
        var tr = document.querySelector('tr[data-extension="' + e.number + '"]'); if (!tr) return;
        var b = document.createElement("span"); b.className = "badge " + (e.registered ? "s-available" : "s-offline");
        b.textContent = e.registered ? window.REG.yes : window.REG.no;
        var cell = tr.querySelector(".reg"); cell.textContent = ""; cell.appendChild(b);
        tr.querySelector(".use").textContent = e.in_use_by || "—"; }); });
  }
  setInterval(refresh, 5000);
})();
