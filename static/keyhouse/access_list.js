/* Access-list editor on the area page (templates/admin/access/area/change_form.html).
   Each row shows the picker its type needs (a group, an area, or for "anyone" the schedule of
   the free passage) and clears the other; "Add another entry" copies the empty row of the
   Django formset and counts it in TOTAL_FORMS. Without JavaScript every picker shows and the
   server says which one a type needs. */
(function () {
  "use strict";

  var HINTS = {
    group: "optional: only during this schedule",
    area: "optional: only during this schedule",
    schedule: "required: open to anyone during it"
  };

  function setUp(row) {
    var type = row.querySelector("select[name$='-access_type']");
    if (!type) return;
    function show() {
      var kind = type.value;
      row.setAttribute("data-type", kind);
      [["group", "user_group"], ["area", "area"]].forEach(function (pair) {
        var cell = row.querySelector(".field-" + pair[1]);
        var select = cell.querySelector("select");
        var used = kind === pair[0];
        select.hidden = !used;
        if (!used) select.value = "";
        cell.setAttribute("aria-hidden", used ? "false" : "true");
      });
      var hint = row.querySelector(".keyhouse-schedule-hint");
      if (hint) hint.textContent = HINTS[kind] || "";
    }
    type.addEventListener("change", show);
    show();
  }

  function init() {
    var body = document.querySelector(".keyhouse-access-table tbody");
    if (!body) return;
    var prefix = body.getAttribute("data-prefix");
    body.querySelectorAll(".keyhouse-access-row").forEach(setUp);
    var template = document.getElementById("access-list-empty-row");
    var button = document.querySelector("[data-add-access-row]");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    if (!template || !button || !total) return;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.querySelector("tr");
      row.querySelector(".keyhouse-access-number").textContent = "#" + index;
      body.appendChild(row);
      total.value = String(index + 1);
      setUp(row);
      row.querySelector("select").focus();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
