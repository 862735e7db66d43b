/* Industrie. Neu. Denken. – a little of our own JavaScript. Every page works without it; with it:
   uploads go straight to the object store with a progress bar, entry drafts save themselves (and
   are kept in this browser until saved), the score form shows its weighted total live, and pages
   that wait for the worker reload when it is done. Texts come from data attributes, so they are
   translated with the page. */
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)ind_csrf=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : "";
    });
  }

  function api(method, url, body, headers) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrfToken() }, headers || {})
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }

  function reason(result) {
    if (result.data && result.data.fields && result.data.fields.length) {
      return result.data.fields.map(function (f) { return f.message; }).join(" ");
    }
    return (result.data && result.data.detail) || ("HTTP " + result.status);
  }

  /* Attachments: announce, PUT to the presigned URL with progress, complete, watch the check. */

  function setStatus(row, status, form) {
    row.setAttribute("data-status", status);
    var badge = row.querySelector("[data-status-label]");
    if (badge) {
      badge.className = "badge " + status;
      badge.textContent = form.getAttribute("data-label-" + status) || status;
    }
  }

  function addRow(list, form, file, id) {
    var empty = list.querySelector("[data-empty]");
    if (empty) { empty.remove(); }
    var row = document.createElement("li");
    row.setAttribute("data-attachment", id);
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    var badge = document.createElement("span");
    badge.setAttribute("data-status-label", "");
    row.appendChild(name);
    row.appendChild(badge);
    list.appendChild(row);
    setStatus(row, "pending", form);
    return row;
  }

  function addOpenLink(row, form, id) {
    if (row.querySelector("a")) { return; }
    var link = document.createElement("a");
    link.href = "/anhaenge/" + id;
    link.textContent = form.getAttribute("data-msg-open");
    row.appendChild(link);
  }

  function watch(row, form, id, name, announce) {
    var tries = 0;
    function poll() {
      api("GET", "/api/v1/attachments/" + id).then(function (result) {
        var status = result.data && result.data.status;
        if (status && status !== row.getAttribute("data-status")) { setStatus(row, status, form); }
        if (status === "verified" || status === "rejected") {
          addOpenLink(row, form, id);
          if (status === "rejected" && result.data.reject_reason) {
            var why = document.createElement("span");
            why.className = "error";
            why.textContent = result.data.reject_reason;
            row.appendChild(why);
          }
          if (announce) {
            announce(fill(form.getAttribute("data-msg-" + status), { name: name }));
          }
          return;
        }
        tries += 1;
        if (tries < 120) { window.setTimeout(poll, tries < 10 ? 500 : 2000); }
      });
    }
    poll();
  }

  function upload(form, file, list, bar, say) {
    return new Promise(function (resolve) {
      var max = parseInt(form.getAttribute("data-max-bytes"), 10);
      var fail = function (text) {
        say(fill(form.getAttribute("data-msg-failed"), { name: file.name, reason: text }));
        resolve(false);
      };
      if (max && file.size > max) { fail(form.getAttribute("data-msg-too-big")); return; }
      api("POST", form.getAttribute("data-upload"), {
        filename: file.name,
        content_type: file.type || "application/octet-stream",
        size_bytes: file.size
      }).then(function (created) {
        if (!created.ok) { fail(reason(created)); return; }
        var id = created.data.id;
        var row = addRow(list, form, file, id);
        var xhr = new XMLHttpRequest();
        xhr.open(created.data.upload.method, created.data.upload.url);
        Object.keys(created.data.upload.headers).forEach(function (header) {
          // Browsers set Content-Length themselves (and refuse to let scripts do it).
          if (header.toLowerCase() !== "content-length") {
            xhr.setRequestHeader(header, created.data.upload.headers[header]);
          }
        });
        var lastSaid = -1;
        xhr.upload.addEventListener("progress", function (event) {
          if (!event.lengthComputable) { return; }
          var percent = Math.round((100 * event.loaded) / event.total);
          bar.value = percent;
          if (percent === 100 || percent - lastSaid >= 25) {
            lastSaid = percent;
            say(fill(form.getAttribute("data-msg-progress"), { name: file.name, percent: percent }));
          }
        });
        xhr.addEventListener("error", function () { fail("network"); });
        xhr.addEventListener("load", function () {
          if (xhr.status < 200 || xhr.status >= 300) { fail("HTTP " + xhr.status); return; }
          bar.value = 100;
          api("POST", "/api/v1/attachments/" + id + "/complete").then(function (done) {
            if (!done.ok) { fail(reason(done)); return; }
            setStatus(row, done.data.status, form);
            say(fill(form.getAttribute("data-msg-checking"), { name: file.name }));
            watch(row, form, id, file.name, say);
            resolve(true);
          });
        });
        xhr.send(file);
      }, function () { fail("network"); });
    });
  }

  function initUpload(form) {
    var input = form.querySelector("input[type=file]");
    var list = document.querySelector("[data-attachment-list]");
    var progress = form.querySelector("[data-upload-progress]");
    var bar = progress.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var say = function (text) { status.textContent = text; };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) { input.focus(); return; }
      progress.hidden = false;
      var next = function () {
        var file = files.shift();
        if (!file) { input.value = ""; return; }
        bar.value = 0;
        upload(form, file, list, bar, say).then(next);
      };
      next();
    });
    // Rows still being checked when the page loaded.
    Array.prototype.forEach.call(list.querySelectorAll("[data-attachment]"), function (row) {
      var state = row.getAttribute("data-status");
      if (state === "uploaded") {
        watch(row, form, row.getAttribute("data-attachment"), "", null);
      }
    });
  }

  /* Entry drafts: a copy in this browser on every keystroke, autosave after a pause. */

  function initAutosave(form) {
    var fields = ["category", "title", "summary", "description"];
    var key = "ind-entry-draft:" + form.getAttribute("data-entry");
    var version = form.querySelector("[data-version]");
    var status = form.querySelector("[data-autosave-status]");
    var timer = null;
    var stopped = false;
    var saving = false;
    var dirty = false;

    function current() {
      var data = {};
      fields.forEach(function (name) { data[name] = form.elements[name].value; });
      return data;
    }
    function same(a, b) {
      return fields.every(function (name) { return (a[name] || "") === (b[name] || ""); });
    }
    function keep() {
      try { window.localStorage.setItem(key, JSON.stringify(current())); } catch (e) { /* full or off */ }
    }
    function forget() {
      try { window.localStorage.removeItem(key); } catch (e) { /* off */ }
    }

    var lastSaved = current();
    var saved = null;
    try { saved = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    var restore = form.querySelector("[data-restore]");
    if (saved && !same(saved, current())) {
      restore.hidden = false;
      form.querySelector("[data-restore-apply]").addEventListener("click", function () {
        fields.forEach(function (name) { if (saved[name] !== undefined) { form.elements[name].value = saved[name]; } });
        restore.hidden = true;
        schedule();
      });
      form.querySelector("[data-restore-discard]").addEventListener("click", function () {
        forget();
        restore.hidden = true;
      });
    } else if (saved) {
      forget();
    }

    function save() {
      timer = null;
      if (stopped || saving) { return; }
      var data = current();
      if (!data.title.trim() || !data.summary.trim()) {
        status.textContent = form.getAttribute("data-msg-invalid");
        return;
      }
      saving = true;
      api("PATCH", form.getAttribute("data-autosave"), data, { "If-Match": version.value })
        .then(function (result) {
          saving = false;
          if (result.ok) {
            version.value = String(result.data.version);
            lastSaved = data;
            if (same(data, current())) { dirty = false; forget(); }
            var time = new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
            status.textContent = fill(form.getAttribute("data-msg-saved"), { time: time });
          } else if (result.status === 412) {
            stopped = true;
            status.textContent = form.getAttribute("data-msg-conflict");
          } else if (result.status === 422) {
            status.textContent = form.getAttribute("data-msg-invalid");
          } else {
            status.textContent = reason(result);
          }
        }, function () {
          saving = false;
          status.textContent = form.getAttribute("data-msg-offline");
        });
    }
    function schedule() {
      if (same(current(), lastSaved)) {
        // Back to what is stored (or a change event after the save): nothing to do.
        dirty = false;
        if (timer) { window.clearTimeout(timer); timer = null; }
        forget();
        return;
      }
      dirty = true;
      keep();
      status.textContent = form.getAttribute("data-msg-unsaved");
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(save, 2500);
    }
    fields.forEach(function (name) {
      form.elements[name].addEventListener("input", schedule);
      form.elements[name].addEventListener("change", schedule);
    });
    form.addEventListener("submit", function () {
      stopped = true;
      dirty = false;
      if (timer) { window.clearTimeout(timer); }
    });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  /* Score form: the weighted total as the juror types (the server computes the one that counts). */

  function initScore(form) {
    var output = form.querySelector("[data-total]");
    var note = form.querySelector("[data-total-note]");
    var inputs = Array.prototype.slice.call(form.querySelectorAll("[data-weight]"));
    var format = new Intl.NumberFormat(document.documentElement.lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    function update() {
      var acc = 0;
      var weights = 0;
      var filled = 0;
      inputs.forEach(function (input) {
        var raw = input.value.replace(",", ".");
        var weight = parseFloat(input.getAttribute("data-weight"));
        var min = parseFloat(input.getAttribute("data-min"));
        var max = parseFloat(input.getAttribute("data-max"));
        var value = parseFloat(raw);
        weights += weight;
        if (raw !== "" && isFinite(value) && value >= min && value <= max) {
          filled += 1;
          acc += (weight * (value - min)) / (max - min);
        }
      });
      if (filled === inputs.length && weights > 0) {
        output.value = format.format((100 * acc) / weights);
      } else {
        output.value = "–";
      }
      note.textContent = fill(form.getAttribute("data-msg-filled"), { n: filled, total: inputs.length });
    }
    inputs.forEach(function (input) { input.addEventListener("input", update); });
    update();
  }

  /* Pages waiting for the worker (assignment and result runs) reload once it has finished. */

  function initPoll(element) {
    var url = element.getAttribute("data-poll");
    var waiting = element.getAttribute("data-waiting").split(" ");
    var tries = 0;
    function poll() {
      api("GET", url).then(function (result) {
        if (result.ok && waiting.indexOf(result.data.status) === -1) {
          window.location.reload();
          return;
        }
        tries += 1;
        if (tries < 200) { window.setTimeout(poll, tries < 20 ? 700 : 3000); }
      });
    }
    window.setTimeout(poll, 700);
  }

  function each(selector, init) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), init);
  }

  document.addEventListener("DOMContentLoaded", function () {
    each("form[data-upload]", initUpload);
    each("form[data-autosave]", initAutosave);
    each("form[data-score]", initScore);
    each("[data-poll]", initPoll);
    var problems = document.getElementById("problems");
    if (problems) { problems.focus(); }
  });
})();
