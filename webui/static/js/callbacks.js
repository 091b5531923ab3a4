/* Callback list: call back and close with an outcome, without leaving the page. */
(function () {
  "use strict";
  var cbx = window.cbx;
  document.addEventListener("click", function (event) {
    var target = event.target;
    var row = target.closest ? target.closest("tr") : null;
    var note = row ? row.querySelector(".row-message") : null;
    function show(reply) { if (note) { note.textContent = reply.ok ? cbx.t("saved") : reply.message; } return reply; }
    if (target.hasAttribute("data-call-url")) {
      target.disabled = true;
      cbx.post(target.getAttribute("data-call-url"), { station: target.getAttribute("data-station") })
        .then(show).then(function () { target.disabled = false; });
    } else if (target.hasAttribute("data-close-url")) {
      var select = document.getElementById(target.getAttribute("data-outcome-for"));
      cbx.post(target.getAttribute("data-close-url"), { outcome: select.value }).then(show).then(function (reply) {
        if (reply.ok && row) { row.classList.add("done"); target.disabled = true; }
      });
    }
  });
})();
