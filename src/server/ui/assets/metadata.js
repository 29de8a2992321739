// sohoa: the metadata fieldset's script. While the operator types (after a pause) and when a field
// is left, the whole form is sent to POST /station/check, which answers every field's error in the
// page's language with the same check as the ingest; the errors of the fields the operator has
// already touched are shown beside them, so nobody is scolded for a field not reached yet. The
// dossier button allocates a code (POST /api/dossiers) for the unit typed beside it and fills the
// dossier field; the unit is remembered in this browser. Without the script the form still works:
// the page shows the same errors when it is sent.
"use strict";
(function () {
  var NAMES = ["owner", "type", "name", "number", "issued", "issuer", "summary", "valid_until", "scope", "dossier", "procedure"];
  var UNIT_KEY = "sohoa-dossier-unit";

  function language() {
    return document.documentElement.getAttribute("lang") || "vi";
  }

  function show(fieldset, name, message) {
    var input = fieldset.querySelector("#" + name);
    var slot = fieldset.querySelector("#" + name + "-error");
    if (!input || !slot) return;
    slot.textContent = message || "";
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function values(fieldset) {
    var body = {};
    NAMES.forEach(function (name) {
      var input = fieldset.querySelector("#" + name);
      body[name] = input ? input.value : "";
    });
    return body;
  }

  function attach(fieldset) {
    var url = fieldset.getAttribute("data-check");
    var touched = {};
    var timer = null;
    var asked = 0;

    function check() {
      var mine = ++asked;
      window.sohoaFetch(url + "?lang=" + language(), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(values(fieldset))
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (answer) {
        // An older answer that arrives after a newer question is stale.
        if (!answer || mine !== asked) return;
        NAMES.forEach(function (name) {
          if (touched[name]) show(fieldset, name, answer.errors[name]);
        });
      }).catch(function () { /* The page's own check still runs when the form is sent. */ });
    }

    NAMES.forEach(function (name) {
      var input = fieldset.querySelector("#" + name);
      if (!input) return;
      // A field that came back from the server with an error counts as touched.
      if (input.getAttribute("aria-invalid") === "true") touched[name] = true;
      input.addEventListener("input", function () {
        touched[name] = true;
        window.clearTimeout(timer);
        timer = window.setTimeout(check, 400);
      });
      input.addEventListener("blur", function () {
        if (!input.value && !touched[name]) return;
        touched[name] = true;
        window.clearTimeout(timer);
        check();
      });
    });

    var button = fieldset.querySelector("[data-allocate]");
    var unit = fieldset.querySelector("#dossier-unit");
    if (!button || !unit) return;
    try { unit.value = unit.value || window.localStorage.getItem(UNIT_KEY) || ""; } catch (e) { /* storage off */ }
    button.addEventListener("click", function () {
      var slot = fieldset.querySelector("#dossier-unit-error");
      slot.textContent = "";
      unit.removeAttribute("aria-invalid");
      button.disabled = true;
      window.sohoaFetch(button.getAttribute("data-allocate"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ unit: unit.value.trim() })
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (answer) {
        if (!answer.ok) {
          slot.textContent = button.getAttribute("data-failed");
          unit.setAttribute("aria-invalid", "true");
          return;
        }
        try { window.localStorage.setItem(UNIT_KEY, unit.value.trim()); } catch (e) { /* storage off */ }
        var dossier = fieldset.querySelector("#dossier");
        dossier.value = answer.body.code;
        touched.dossier = true;
        check();
        dossier.focus();
      }).catch(function () {
        slot.textContent = button.getAttribute("data-failed");
      }).then(function () {
        button.disabled = false;
      });
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("fieldset.metadata[data-check]"), attach);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
