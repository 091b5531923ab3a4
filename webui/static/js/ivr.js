/* IVR step editor: show only the fields the chosen step type uses. */
(function () {
  "use strict";
  var form = document.getElementById("ivr-node-form");
  if (!form) { return; }
  var typeFields = JSON.parse(document.getElementById("ivr-type-fields").textContent || "{}");
  var type = form.elements.type;
  var prompt = form.elements.prompt;
  if (prompt) { prompt.setAttribute("list", "prompt-keys"); }
  function update() {
    var used = typeFields[type.value] || [];
    Array.prototype.forEach.call(form.querySelectorAll("[data-field]"), function (field) {
      var name = field.getAttribute("data-field");
      field.hidden = name !== "type" && used.indexOf(name) < 0;
    });
  }
  type.addEventListener("change", update);
  update();
})();
