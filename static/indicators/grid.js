/* perfplan: results entered in a grid, the way officers use Excel.
 *
 * Keys: arrow keys move between cells (left/right once the caret is at the edge of the
 * text), Enter saves and moves down, Shift+Enter up, Tab / Shift+Tab save and move right /
 * left (wrapping to the next / previous row), Escape puts back the saved value, F2 edits
 * without selecting. Pasting cells copied from Excel fills the cells to the right and below.
 * A changed cell is saved when it is left; a pasted block is saved as one request, all of it
 * or none (workflow.save_results decides; a refusal is shown under its cell, and the other
 * cells say they were held back). Every save sends the version each cell was loaded at and
 * an idempotency key; when the answer is lost (network error, gateway timeout) the same
 * request is sent again with the same key, and the server answers what it did the first time.
 *
 * Review steps (제출, 승인, 반려, 다시 열기, a department's whole period) are forms the script
 * posts with fetch (a typed value is saved first) and whose changed rows it puts in place; a
 * cell's 제출 button appears once it holds a saved value. A refused value keeps the focus.
 * The header row and the indicator names stay in place (CSS position: sticky in the scroll
 * box) and each table opens at the current period.
 *
 * Plain JavaScript, no library and no request outside our own server.
 */
(function () {
  "use strict";

  var root = document.getElementById("tracking-grid");
  if (!root) { return; }
  var saveUrl = root.getAttribute("data-save-url");
  var csrfInput = root.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";
  var texts = {
    saving: root.getAttribute("data-text-saving") || "…",
    failed: root.getAttribute("data-text-failed") || "!",
    readonly: root.getAttribute("data-text-readonly") || ""
  };

  // ------------------------------------------------------------ the cells' data

  // The server writes each cell's value and id only (a national page has thousands of
  // cells); what the script reads of a cell is set here, for the page and for rows it
  // puts back after a review step.
  function prepareCells(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("input.cell-input"), function (input) {
      if (input.hasAttribute("data-saved")) { return; }
      var parts = input.id.split("-");  // cell-<indicator>-<period>
      input.setAttribute("data-indicator", parts[1]);
      input.setAttribute("data-period", parts.slice(2).join("-"));
      input.setAttribute("data-saved", input.value);
    });
  }
  prepareCells(root);

  // A read-only cell's reason is written once on the page (aria-describedby): the mouse
  // sees it as the cell's tooltip.
  root.addEventListener("mouseover", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("cell-input") || input.title) { return; }
    var reason = document.getElementById(input.getAttribute("aria-describedby") || "");
    if (reason) { input.title = reason.textContent; }
  });

  // ------------------------------------------------------------ geometry

  function rowsOf(table) {
    return Array.prototype.slice.call(table.querySelectorAll("tr[data-row]"));
  }

  function inputsOf(tr) {
    return Array.prototype.slice.call(tr.querySelectorAll("input.cell-input"));
  }

  function place(input) {
    var tr = input.closest("tr[data-row]");
    var table = input.closest("table[data-grid]");
    return { table: table, rows: rowsOf(table), r: rowsOf(table).indexOf(tr), c: inputsOf(tr).indexOf(input) };
  }

  function focusCell(input) {
    if (!input) { return false; }
    input.focus();
    input.select();
    return true;
  }

  function moveBy(input, dr, dc, wrap) {
    var p = place(input);
    var r = p.r, c = p.c;
    if (dr) {
      r += dr;
      if (r < 0 || r >= p.rows.length) { return false; }
      var cells = inputsOf(p.rows[r]);
      return focusCell(cells[Math.min(c, cells.length - 1)]);
    }
    var row = inputsOf(p.rows[r]);
    c += dc;
    if (c >= 0 && c < row.length) { return focusCell(row[c]); }
    if (!wrap) { return false; }
    r += dc > 0 ? 1 : -1;
    if (r < 0 || r >= p.rows.length) { return false; }
    var next = inputsOf(p.rows[r]);
    return focusCell(dc > 0 ? next[0] : next[next.length - 1]);
  }

  // ------------------------------------------------------------ state of a cell

  function tdOf(input) { return input.closest("td.cell"); }

  function setMessage(input, text) {
    var td = tdOf(input);
    var box = td.querySelector(".cell-msg");
    if (!box && text) {
      box = document.createElement("span");
      box.className = "cell-msg";
      box.setAttribute("role", "status");
      td.appendChild(box);
    }
    if (box) { box.textContent = text || ""; }
  }

  function setState(input, state) {
    var td = tdOf(input);
    ["dirty", "saving", "saved", "error"].forEach(function (name) {
      td.classList.toggle(name, name === state);
    });
  }

  function changed(input) {
    return !input.readOnly && input.value.trim() !== (input.getAttribute("data-saved") || "").trim()
      && input.value.trim() !== input.getAttribute("data-pending");
  }

  function payload(input) {
    return {
      indicator: Number(input.getAttribute("data-indicator")),
      period: input.getAttribute("data-period"),
      value: input.value.trim(),
      // Always sent: 0 means "there was no result yet"; the server refuses a save without it.
      version: input.hasAttribute("data-version") ? Number(input.getAttribute("data-version")) : null
    };
  }

  // ------------------------------------------------------------ saving

  var pending = 0;
  var inflight = Promise.resolve();

  function save(inputs) {
    inputs = inputs.filter(changed);
    if (!inputs.length) { return Promise.resolve(); }
    pending += 1;
    var request = send(inputs);
    var settled = request.then(function () { pending -= 1; });
    inflight = Promise.all([inflight, settled]);
    return request;
  }

  var RETRIES = 3;
  var RETRY_AFTER_MS = 800;

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // One save request, sent again with the same key while its answer is lost: the server
  // stores the outcome with the key, so a retry never saves twice nor reads as "stale".
  function post(body, key, attempt) {
    return fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json",
        "X-Idempotency-Key": key
      },
      body: body
    }).then(function (response) {
      if ([502, 503, 504].indexOf(response.status) >= 0 && attempt < RETRIES) {
        return later(function () { return post(body, key, attempt + 1); });
      }
      return response.json().catch(function () { return { error: texts.failed + " (" + response.status + ")" }; });
    }, function (error) {
      if (attempt < RETRIES) { return later(function () { return post(body, key, attempt + 1); }); }
      throw error;
    });
  }

  function later(next) {
    return new Promise(function (resolve) { window.setTimeout(resolve, RETRY_AFTER_MS); }).then(next);
  }

  function send(inputs) {
    inputs.forEach(function (input) {
      input.setAttribute("data-pending", input.value.trim());
      setState(input, "saving");
      setMessage(input, "");
    });
    var body = JSON.stringify({ cells: inputs.map(payload) });
    return post(body, newKey(), 0).then(function (data) {
      var byKey = {};
      (data.cells || []).forEach(function (cell) { byKey[cell.indicator + ":" + cell.period] = cell; });
      inputs.forEach(function (input) {
        var cell = byKey[input.getAttribute("data-indicator") + ":" + input.getAttribute("data-period")];
        applyCell(input, cell || { ok: false, error: data.error || texts.failed });
      });
      Object.keys(data.rows || {}).forEach(function (id) { applyRow(id, data.rows[id]); });
      root.dispatchEvent(new CustomEvent("grid:saved", { detail: data }));
    }).catch(function (error) {
      inputs.forEach(function (input) {
        input.removeAttribute("data-pending");
        setState(input, "error");
        setMessage(input, texts.failed + " " + String(error));
      });
    });
  }

  function applyCell(input, cell) {
    var typed = input.value.trim();
    var pending = input.getAttribute("data-pending");
    input.removeAttribute("data-pending");
    if (cell.version !== undefined && cell.version !== null) { input.setAttribute("data-version", cell.version); }
    if (cell.ok) {
      input.setAttribute("data-saved", cell.value);
      if (typed === pending) { input.value = cell.value; }
      setState(input, "saved");
      setMessage(input, "");
      var td = tdOf(input);
      td.setAttribute("data-state", cell.state || "");
      var stateBox = td.querySelector(".cell-state");
      if (stateBox) {
        var sample = stateBox.querySelector(".sample-mark");
        stateBox.textContent = cell.state_label || "";
        if (sample && cell.is_sample) { stateBox.appendChild(sample); }
        stateBox.className = "cell-state " + (cell.state || "");
      }
      showSubmit(input, cell);
      td.classList.toggle("missing", false);
      window.setTimeout(function () { td.classList.remove("saved"); }, 1500);
    } else {
      // The newer value someone else saved becomes the value Escape goes back to; what was
      // typed stays, so pressing Enter again overwrites it knowingly.
      if (cell.current !== undefined && cell.current !== null) { input.setAttribute("data-saved", cell.current); }
      setState(input, "error");
      setMessage(input, cell.error || texts.failed);
      refocus(input);
    }
  }

  // A saved value in a draft or returned result may be submitted: show the cell's 제출 button
  // and its department's period button (the server decides when they are pressed).
  function showSubmit(input, cell) {
    var key = input.getAttribute("data-indicator") + "-" + input.getAttribute("data-period");
    var may = cell.value !== "" && !cell.is_sample && (cell.state === "draft" || cell.state === "returned");
    var button = document.getElementById("submit-" + key);
    if (button) { button.hidden = !may; }
    var tr = input.closest("tr[data-row]");
    var period = document.getElementById(
      "submit-period-" + tr.getAttribute("data-department") + "-" + input.getAttribute("data-period"));
    if (period && may) { period.hidden = false; }
  }

  function applyRow(id, row) {
    var tr = document.getElementById("row-" + id);
    if (!tr) { return; }
    tr.setAttribute("data-status", row.status);
    ["ytd_actual", "ytd_target", "rate", "last_update"].forEach(function (name) {
      var box = tr.querySelector("[data-field=" + name + "]");
      if (box) { box.textContent = row[name] || ""; }
    });
    var status = tr.querySelector("[data-field=status]");
    if (status) {
      status.innerHTML = "";
      var badge = document.createElement("span");
      badge.className = "status-badge status-" + row.status;
      badge.textContent = row.status_label;
      status.appendChild(badge);
    }
    var spark = tr.querySelector("[data-field=sparkline]");
    if (spark && row.sparkline) { spark.innerHTML = row.sparkline; }  // drawn by our server
  }

  // A refused value keeps the focus: Enter or Tab has moved on before the server answered,
  // so the focus comes back to the refused cell unless something was typed meanwhile.
  function refocus(input) {
    var active = document.activeElement;
    if (active === input) { return; }
    if (active && active.classList && active.classList.contains("cell-input") && changed(active)) { return; }
    if (active && active !== document.body && !(active.classList && active.classList.contains("cell-input"))) { return; }
    focusCell(input);
  }

  function commit(input) {
    if (changed(input)) { return save([input]); }
    return Promise.resolve();
  }

  // ------------------------------------------------------------ keys

  function caretAtStart(input) { return input.selectionStart === 0 && input.selectionEnd === 0; }
  function caretAtEnd(input) {
    var n = input.value.length;
    return input.selectionStart === n && input.selectionEnd === n;
  }
  function allSelected(input) {
    return input.selectionStart === 0 && input.selectionEnd === input.value.length;
  }

  root.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("cell-input")) { return; }
    var key = event.key;
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (key === "ArrowUp" || key === "ArrowDown") {
      event.preventDefault();
      commit(input);
      moveBy(input, key === "ArrowUp" ? -1 : 1, 0);
    } else if (key === "ArrowLeft" && (caretAtStart(input) || allSelected(input))) {
      event.preventDefault();
      commit(input);
      moveBy(input, 0, -1, false);
    } else if (key === "ArrowRight" && (caretAtEnd(input) || allSelected(input))) {
      event.preventDefault();
      commit(input);
      moveBy(input, 0, 1, false);
    } else if (key === "Enter") {
      event.preventDefault();
      commit(input);
      moveBy(input, event.shiftKey ? -1 : 1, 0);
    } else if (key === "Tab") {
      commit(input);
      if (moveBy(input, 0, event.shiftKey ? -1 : 1, true)) { event.preventDefault(); }
    } else if (key === "Escape") {
      event.preventDefault();
      input.value = input.getAttribute("data-saved") || "";
      setState(input, null);
      setMessage(input, "");
      input.select();
    } else if (key === "F2") {
      event.preventDefault();
      var n = input.value.length;
      input.setSelectionRange(n, n);
    }
  });

  root.addEventListener("focusin", function (event) {
    var input = event.target;
    if (input.classList && input.classList.contains("cell-input")) {
      // Select the whole value so that typing replaces it, as in Excel; after the click that
      // focused it (which would undo the selection), and not once something has been typed.
      var before = input.value;
      input.select();
      window.setTimeout(function () {
        if (document.activeElement === input && input.value === before) { input.select(); }
      }, 0);
    }
  });

  root.addEventListener("focusout", function (event) {
    var input = event.target;
    if (input.classList && input.classList.contains("cell-input")) { commit(input); }
  });

  root.addEventListener("input", function (event) {
    var input = event.target;
    if (input.classList && input.classList.contains("cell-input")) {
      setState(input, changed(input) ? "dirty" : null);
    }
  });

  // A block copied from Excel: tab-separated cells, one line per row.
  root.addEventListener("paste", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("cell-input")) { return; }
    var text = (event.clipboardData || window.clipboardData).getData("text");
    if (!text || (text.indexOf("\t") < 0 && text.replace(/\r?\n$/, "").indexOf("\n") < 0)) { return; }
    event.preventDefault();
    var lines = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
    var p = place(input);
    // The whole block is one save: all of it is written, or none (each refusal is shown).
    var block = [];
    lines.forEach(function (line, i) {
      var tr = p.rows[p.r + i];
      if (!tr) { return; }
      var cells = inputsOf(tr);
      line.split("\t").forEach(function (value, j) {
        var target = cells[p.c + j];
        if (target && !target.readOnly) {
          target.value = value.trim();
          if (changed(target)) { setState(target, "dirty"); block.push(target); }
        }
      });
    });
    save(block);
  });

  // ------------------------------------------------------------ review steps

  // A review form (제출, 승인, 반려, 다시 열기, a department's whole period) is posted once
  // every typed value is saved (what is submitted is what is on screen), with fetch: the
  // server answers its messages and the changed rows, whose cells are put in place; the
  // page is not reloaded and stays where it was scrolled. Without the script the forms post
  // and the server redirects back to the grid.
  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("review-form")) { return; }
    event.preventDefault();
    var submitter = event.submitter || null;
    var inputs = Array.prototype.slice.call(root.querySelectorAll("input.cell-input"));
    var typed = inputs.filter(changed);
    var waiting = typed.concat(inputs.filter(function (input) { return input.hasAttribute("data-pending"); }));
    save(typed).then(function () { return inflight; }).then(function () {
      var failed = waiting.some(function (input) { return tdOf(input).classList.contains("error"); });
      if (failed) { return; }  // the refusal is shown under the cell; nothing is posted
      return sendReview(form, submitter);
    });
  });

  function sendReview(form, submitter) {
    var body = new FormData(form, submitter);
    if (submitter) { submitter.disabled = true; }
    return fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json", "X-CSRFToken": csrf },
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, messages: [{ level: "error", text: texts.failed + " (" + response.status + ")" }] }; });
    }).then(function (data) {
      if (submitter) { submitter.disabled = false; }
      if (data.rows) { putRows(data.rows); }
      notify(data.messages || []);
      root.dispatchEvent(new CustomEvent("grid:reviewed", { detail: data }));
    }, function (error) {
      if (submitter) { submitter.disabled = false; }
      notify([{ level: "error", text: texts.failed + " " + String(error) }]);
    });
  }

  // The rows the server rendered again: each cell of theirs that this page shows (a period
  // filter shows one) and the row's figures replace the page's, in place.
  function putRows(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;  // rendered by our own server, escaped there
    Array.prototype.forEach.call(holder.querySelectorAll("tr[data-row]"), function (fresh) {
      var tr = document.getElementById(fresh.id);
      if (!tr) { return; }
      tr.setAttribute("data-status", fresh.getAttribute("data-status"));
      Array.prototype.forEach.call(fresh.querySelectorAll("td.cell, td[data-field]"), function (td) {
        var selector = td.hasAttribute("data-field")
          ? "td[data-field=" + td.getAttribute("data-field") + "]"
          : "td.cell[data-period=" + td.getAttribute("data-period") + "]";
        var old = tr.querySelector(selector);
        if (old) { old.replaceWith(td); }
      });
      prepareCells(tr);
    });
    var reasons = document.getElementById("grid-lock-reasons");
    Array.prototype.forEach.call(holder.querySelectorAll("#grid-lock-reasons li"), function (li) {
      if (reasons && !document.getElementById(li.id)) { reasons.appendChild(li); }
    });
    recountPeriods();
  }

  // A department's period buttons count the cells on the page: 기간 일괄 승인 the submitted
  // ones, 제출 those with a submit button shown; a button with nothing left is hidden.
  function recountPeriods() {
    Array.prototype.forEach.call(root.querySelectorAll(".review-row .review-button"), function (button) {
      var target = button.value.split(":");
      var rows = root.querySelectorAll("tr[data-row][data-department='" + target[0] + "']");
      var count = 0;
      Array.prototype.forEach.call(rows, function (tr) {
        var td = tr.querySelector("td.cell[data-period='" + target[1] + "']");
        if (!td) { return; }
        if (button.classList.contains("approve")) {
          if (td.getAttribute("data-state") === "submitted") { count += 1; }
        } else {
          var submit = td.querySelector(".review-button.submit");
          if (submit && !submit.hidden) { count += 1; }
        }
      });
      button.setAttribute("data-count", count);
      var n = button.querySelector(".n");
      if (n) { n.textContent = count; }
      button.hidden = count === 0;
    });
  }

  // Messages of a step, where they are seen without scrolling (and read out: role=status).
  var notice = null;
  function notify(list) {
    if (!notice) {
      notice = document.createElement("ul");
      notice.className = "grid-notice";
      notice.id = "grid-notice";
      notice.setAttribute("role", "status");
      document.body.appendChild(notice);
    }
    notice.innerHTML = "";
    list.forEach(function (message) {
      var li = document.createElement("li");
      li.className = message.level;
      li.textContent = message.text;
      notice.appendChild(li);
    });
    window.clearTimeout(notify.timer);
    if (!list.some(function (m) { return m.level === "error"; })) {
      notify.timer = window.setTimeout(function () { notice.innerHTML = ""; }, 6000);
    }
  }

  // ------------------------------------------------------------ the current period

  // Each table opens scrolled sideways to the column of the period today falls in (with
  // the one before it), beside the indicator names that stay at the left.
  function openAtCurrentPeriod() {
    Array.prototype.forEach.call(root.querySelectorAll("table[data-grid]"), scrollToCurrent);
  }

  function scrollToCurrent(table) {
    var key = table.getAttribute("data-current-period");
    var box = table.parentElement;
    if (!key || !box || !box.classList.contains("grid-scroll")) { return; }
    var th = table.querySelector("thead th[data-period='" + key + "']");
    var names = table.querySelector("thead th.ind-name-head");
    if (!th || !names) { return; }
    var previous = th.previousElementSibling;
    var before = previous && previous.hasAttribute("data-period") ? previous.offsetWidth : 0;
    // (offsetLeft would be the page's: a sticky header cell is its own offset parent's child)
    var left = th.getBoundingClientRect().left - table.getBoundingClientRect().left;
    box.scrollLeft = Math.max(0, left - names.offsetWidth - before);
  }

  // once laid out with its styles and fonts (the columns' widths are known then)
  if (document.readyState === "complete") { openAtCurrentPeriod(); } else {
    window.addEventListener("load", openAtCurrentPeriod);
  }

  // ------------------------------------------------------------ a cell's note and evidence

  var dialog = document.getElementById("cell-dialog");

  function loadDetail(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.text(); })
      .then(function (html) { dialog.querySelector(".cell-dialog-body").innerHTML = html; });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".cell-more") : null;
    if (!button || !dialog || typeof dialog.showModal !== "function") { return; }
    event.preventDefault();
    dialog.setAttribute("data-url", button.getAttribute("href"));
    dialog.setAttribute("data-button", button.id);
    loadDetail(button.getAttribute("href") + "?partial=1").then(function () { dialog.showModal(); });
  });

  if (dialog) {
    dialog.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("[data-close]")) { dialog.close(); }
    });
    dialog.addEventListener("submit", function (event) {
      var form = event.target;
      event.preventDefault();
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf },
        body: new FormData(form)
      }).then(function (response) {
        return response.json();
      }).then(function (data) {
        var url = dialog.getAttribute("data-url");
        return loadDetail(url + "?partial=1").then(function () {
          var box = dialog.querySelector(".dialog-message");
          if (box) {
            box.textContent = data.ok ? (data.message || "") : (data.error || texts.failed);
            box.className = "dialog-message " + (data.ok ? "" : "form-error");
          }
          var button = document.getElementById(dialog.getAttribute("data-button"));
          if (button && data.evidence_count !== undefined) {
            var n = button.querySelector(".n");
            if (n) { n.textContent = data.evidence_count; }
          }
          if (data.row) { applyRow(data.row.id, data.row); }
          (data.cells || []).forEach(function (cell) {
            var input = document.getElementById("cell-" + cell.indicator + "-" + cell.period);
            if (input && cell.ok) {
              input.value = cell.value;
              input.setAttribute("data-saved", cell.value);
              input.setAttribute("data-version", cell.version);
              setState(input, "saved");
            }
          });
        });
      });
    });
  }
})();
