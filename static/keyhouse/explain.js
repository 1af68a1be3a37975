/* "Explain access" (templates/admin/access/explain.html): choosing another property reloads the
   page with that property's locks and time zone; the lock picked before belongs elsewhere. */
(function () {
  "use strict";
  var form = document.getElementById("explain-form");
  var property = form && form.querySelector("select[name=property]");
  if (!property) return;
  property.addEventListener("change", function () {
    var lock = form.querySelector("select[name=lock]");
    if (lock) lock.value = "";
    var at = form.querySelector("input[name=at]");
    if (at) at.value = "";  // "now" in the new property's zone
    form.submit();  // without the "explain" button: only reloads the choices
  });
})();
