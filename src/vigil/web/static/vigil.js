// vigil's only script of its own (the CSP allows no inline script): CSRF header for htmx requests,
// "select all" for bulk actions, and showing the status form's fields the chosen status needs.
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("input[data-select-all]")) {
      var name = box.getAttribute("data-select-all");
      var form = box.form || document;
      form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (other) {
        other.checked = box.checked;
      });
    }
    if (box.matches && box.matches("select[data-status-select]")) {
      showFieldsFor(box);
    }
  });
  function showFieldsFor(select) {
    var scope = select.closest("form") || document;
    scope.querySelectorAll("label[data-for]").forEach(function (label) {
      var wanted = label.getAttribute("data-for").split(" ");
      label.hidden = wanted.indexOf(select.value) < 0;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-status-select]").forEach(showFieldsFor);
  });
})();

// Uploads (imports page): the chosen file is the body of a POST to the API (data-upload), with the other
// fields as query parameters; the answer names a job, whose progress fragment then polls itself via htmx.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var api = form.getAttribute && form.getAttribute("data-upload");
    if (!api) { return; }
    event.preventDefault();
    var target = document.querySelector(form.getAttribute("data-target"));
    var input = form.querySelector('input[type="file"]');
    var file = input && input.files[0];
    if (!file) { return; }
    var params = new URLSearchParams({ filename: file.name });
    form.querySelectorAll("select, input:not([type=file])").forEach(function (field) {
      if (field.type === "checkbox" && !field.checked) { return; }
      if (field.name) { params.set(field.name, field.value); }
    });
    var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    target.textContent = "Uploading " + file.name + "…";
    fetch(api + "?" + params.toString(), {
      method: "POST",
      body: file,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": token, "Content-Type": file.type || "application/octet-stream", "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (!answer.ok || !/^[0-9a-f]{32}$/.test(answer.body.id || "")) {
        target.textContent = "Refused: " + (answer.body.detail || "the upload failed");
        return;
      }
      htmx.ajax("GET", "/imports/jobs/" + answer.body.id, { target: target, swap: "innerHTML" });
    }).catch(function () {
      target.textContent = "The upload failed: check the connection and try again.";
    });
  });
})();
