/* Weekly grid editor for a schedule's windows (apps/access/admin.py ScheduleGridWidget).

   The textarea holding the windows JSON stays the source of truth and is what the form
   submits. This script draws a grid (7 day columns x time rows) above it:

   - click a cell, or drag a rectangle, to open or close cells (the first cell decides which);
     click a day or time heading to flip that whole column or row; arrows + space work too;
   - every change rewrites the JSON: the windows the grid can draw become one window per
     (start, stop) run with all the days that share it, and every window the grid cannot draw
     (crossing midnight, with seconds, off the cell size, or not understood) is kept exactly
     as it was, after them. Those windows show hatched, and are edited in the JSON;
   - editing the JSON by hand redraws the grid; JSON that does not parse disables the grid
     until it does (the server's validation names the field, e.g. windows[1].stop).

   No dependencies and no build step. */
(function () {
  "use strict";

  var DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  var LABELS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var STEPS = [15, 30, 60];
  var MINUTES_PER_DAY = 1440;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(minutes) { return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60); }

  // "HH:MM" or "HH:MM:SS" -> seconds of the day (24:00 -> 86400), or null.
  function seconds(text) {
    var m = typeof text === "string" && /^([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?$/.exec(text);
    if (!m) return null;
    var h = +m[1], min = +m[2], s = m[3] ? +m[3] : 0;
    if (h === 24 && min === 0 && s === 0) return 86400;
    if (h > 23 || min > 59 || s > 59) return null;
    return h * 3600 + min * 60 + s;
  }

  // Day numbers of a window (0 = Monday), or null when the list is not a clean set of names.
  function dayNumbers(window) {
    if (!Array.isArray(window.days) || !window.days.length) return null;
    var out = [];
    for (var i = 0; i < window.days.length; i++) {
      var d = DAYS.indexOf(window.days[i]);
      if (d < 0 || out.indexOf(d) >= 0) return null;
      out.push(d);
    }
    return out;
  }

  function plainWindow(w) {
    if (!w || typeof w !== "object" || Array.isArray(w)) return false;
    var keys = Object.keys(w);
    return keys.length === 3 && "days" in w && "start" in w && "stop" in w;
  }

  // {days, from, to} in cells when the grid can draw the window at this cell size, else null.
  function drawable(w, step) {
    if (!plainWindow(w)) return null;
    var days = dayNumbers(w), start = seconds(w.start), stop = seconds(w.stop);
    if (!days || start === null || stop === null || start >= 86400) return null;
    if (start % (step * 60) || stop % (step * 60)) return null;
    if (stop <= start) return null; // crosses midnight: kept in the JSON
    return { days: days, from: start / 60 / step, to: stop / 60 / step };
  }

  // Where a window the grid cannot draw falls, as [day, fromMinute, toMinute) pieces.
  function footprint(w) {
    if (!plainWindow(w)) return [];
    var days = dayNumbers(w), start = seconds(w.start), stop = seconds(w.stop);
    if (!days || start === null || stop === null) return [];
    var a = start / 60, b = stop / 60, pieces = [];
    days.forEach(function (d) {
      if (b > a) pieces.push([d, a, b]);
      else {
        pieces.push([d, a, MINUTES_PER_DAY]);
        if (b > 0) pieces.push([(d + 1) % 7, 0, b]);
      }
    });
    return pieces;
  }

  function describeDays(days) {
    if (days.length === 7) return "every day";
    var runs = [], parts = [];
    days.slice().sort().forEach(function (d) {
      var last = runs[runs.length - 1];
      if (last && last[last.length - 1] === d - 1) last.push(d);
      else runs.push([d]);
    });
    runs.forEach(function (run) {
      if (run.length >= 3) parts.push(LABELS[run[0]] + "–" + LABELS[run[run.length - 1]]);
      else run.forEach(function (d) { parts.push(LABELS[d]); });
    });
    return parts.join(", ");
  }

  function describe(w) {
    var days = dayNumbers(w);
    var text = (days ? describeDays(days) : "?") + " " + w.start + "–" + w.stop;
    var a = seconds(w.start), b = seconds(w.stop);
    return a !== null && b !== null && b <= a ? text + " (+1 day)" : text;
  }

  function windowText(w) {
    if (!plainWindow(w) || !Array.isArray(w.days)) return JSON.stringify(w);
    return '{"days": [' + w.days.map(function (d) { return JSON.stringify(d); }).join(", ") + '], "start": ' +
      JSON.stringify(w.start) + ', "stop": ' + JSON.stringify(w.stop) + "}";
  }

  function jsonText(windows) {
    if (!windows.length) return "[]";
    return "[\n" + windows.map(function (w) { return "  " + windowText(w); }).join(",\n") + "\n]";
  }

  function Editor(textarea) {
    this.textarea = textarea;
    this.step = parseInt(textarea.getAttribute("data-schedule-grid"), 10) || 30;
    this.build();
    this.load(true);
  }

  Editor.prototype.build = function () {
    var self = this, textarea = this.textarea;
    var root = document.createElement("div");
    root.className = "keyhouse-schedule";
    textarea.parentNode.insertBefore(root, textarea);

    var toolbar = document.createElement("div");
    toolbar.className = "keyhouse-schedule-toolbar";
    var label = document.createElement("label");
    label.textContent = "Cell ";
    var select = document.createElement("select");
    select.setAttribute("aria-label", "Cell size");
    STEPS.forEach(function (step) {
      var option = document.createElement("option");
      option.value = String(step);
      option.textContent = step + " min";
      select.appendChild(option);
    });
    label.appendChild(select);
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "button";
    clear.textContent = "Clear grid";
    var summary = document.createElement("span");
    summary.className = "keyhouse-schedule-summary";
    summary.setAttribute("aria-live", "polite");
    toolbar.appendChild(label);
    toolbar.appendChild(clear);
    toolbar.appendChild(summary);
    root.appendChild(toolbar);

    var notice = document.createElement("div");
    notice.className = "keyhouse-schedule-notice";
    root.appendChild(notice);

    var table = document.createElement("table");
    table.className = "keyhouse-schedule-grid";
    table.setAttribute("role", "grid");
    root.appendChild(table);

    var details = document.createElement("details");
    details.className = "keyhouse-windows-json";
    var caption = document.createElement("summary");
    caption.textContent = "Windows as JSON (what is saved)";
    details.appendChild(caption);
    root.appendChild(details);
    details.appendChild(textarea);

    this.root = root;
    this.select = select;
    this.summary = summary;
    this.notice = notice;
    this.table = table;
    this.details = details;

    select.addEventListener("change", function () {
      self.step = parseInt(select.value, 10);
      self.load(false);
    });
    clear.addEventListener("click", function () {
      self.cells.forEach(function (column) { column.fill(false); });
      self.write();
    });
    var timer = null;
    textarea.addEventListener("input", function () {
      if (self.writing) return;
      clearTimeout(timer);
      timer = setTimeout(function () { self.load(false); }, 250);
    });
    this.bindPointer();
    this.bindKeys();
  };

  // Read the textarea; on first load pick the finest cell size the drawable windows need.
  Editor.prototype.load = function (first) {
    var windows;
    try {
      windows = JSON.parse(this.textarea.value || "[]");
      if (windows === null) windows = [];
      if (!Array.isArray(windows)) throw new Error("not a list");
    } catch (error) {
      this.invalid("The JSON below does not parse, so the grid is off until it does.");
      return;
    }
    if (first) {
      var self = this;
      var needs15 = windows.some(function (w) { return !drawable(w, 30) && drawable(w, 15); });
      if (needs15) self.step = 15;
    }
    this.select.value = String(this.step);
    var rows = MINUTES_PER_DAY / this.step;
    var cells = [], kept = [], marks = [];
    for (var d = 0; d < 7; d++) {
      cells.push(new Array(rows).fill(false));
      marks.push(new Array(rows).fill(null));
    }
    var step = this.step;
    windows.forEach(function (w) {
      var cellWindow = drawable(w, step);
      if (cellWindow) {
        cellWindow.days.forEach(function (day) {
          for (var r = cellWindow.from; r < cellWindow.to; r++) cells[day][r] = true;
        });
        return;
      }
      kept.push(w);
      var title = describe(w);
      footprint(w).forEach(function (piece) {
        for (var r = 0; r < rows; r++) {
          if (piece[1] < (r + 1) * step && piece[2] > r * step) {
            marks[piece[0]][r] = marks[piece[0]][r] ? marks[piece[0]][r] + "; " + title : title;
          }
        }
      });
    });
    this.cells = cells;
    this.kept = kept;
    this.marks = marks;
    this.root.classList.remove("keyhouse-schedule-off");
    this.render();
    var errors = this.root.closest(".errors");
    if (kept.length || errors) this.details.open = true;
  };

  Editor.prototype.invalid = function (message) {
    this.root.classList.add("keyhouse-schedule-off");
    this.notice.textContent = message;
    this.notice.hidden = false;
    this.details.open = true;
  };

  Editor.prototype.render = function () {
    var self = this, step = this.step, rows = MINUTES_PER_DAY / step;
    var table = this.table;
    table.className = "keyhouse-schedule-grid keyhouse-step-" + step;
    table.innerHTML = "";
    var head = table.createTHead().insertRow();
    var corner = document.createElement("th");
    corner.className = "keyhouse-corner";
    head.appendChild(corner);
    LABELS.forEach(function (label, day) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = label;
      th.setAttribute("data-day", String(day));
      th.title = "Open or close all of " + label;
      head.appendChild(th);
    });
    var body = table.createTBody();
    for (var r = 0; r < rows; r++) {
      var tr = body.insertRow();
      var minute = r * step;
      var th = document.createElement("th");
      th.scope = "row";
      th.setAttribute("data-row", String(r));
      th.textContent = minute % 60 === 0 ? clock(minute) : "";
      th.title = clock(minute) + "–" + clock(minute + step) + " every day";
      if (minute % 60 === 0) tr.className = "keyhouse-hour";
      tr.appendChild(th);
      for (var d = 0; d < 7; d++) {
        var td = tr.insertCell();
        td.setAttribute("role", "gridcell");
        td.setAttribute("data-day", String(d));
        td.setAttribute("data-row", String(r));
        td.tabIndex = d === 0 && r === 0 ? 0 : -1;
        var title = LABELS[d] + " " + clock(minute) + "–" + clock(minute + step);
        if (this.marks[d][r]) {
          td.classList.add("keyhouse-kept");
          title += " · kept from the JSON: " + this.marks[d][r];
        }
        td.title = title;
      }
    }
    this.paint();
    var count = this.kept.length;
    this.notice.hidden = !count;
    this.notice.textContent = count
      ? count + " window" + (count === 1 ? "" : "s") + " the grid cannot draw (hatched) " +
        (count === 1 ? "is" : "are") + " kept exactly as written: " +
        this.kept.map(describe).join("; ") + ". Edit " + (count === 1 ? "it" : "them") + " in the JSON below."
      : "";
    self.describeAll();
  };

  Editor.prototype.paint = function () {
    var cells = this.cells;
    this.table.querySelectorAll("td[data-day]").forEach(function (td) {
      var on = cells[+td.getAttribute("data-day")][+td.getAttribute("data-row")];
      td.classList.toggle("keyhouse-on", on);
      td.setAttribute("aria-selected", on ? "true" : "false");
    });
  };

  // Cells -> windows: per day the runs of open cells; runs with the same (start, stop) share a window.
  Editor.prototype.gridWindows = function () {
    var step = this.step, groups = {}, list = [];
    this.cells.forEach(function (column, day) {
      var r = 0;
      while (r < column.length) {
        if (!column[r]) { r++; continue; }
        var from = r;
        while (r < column.length && column[r]) r++;
        var key = from + "-" + r;
        if (!groups[key]) {
          groups[key] = { from: from, to: r, days: [] };
          list.push(groups[key]);
        }
        groups[key].days.push(day);
      }
    });
    list.sort(function (a, b) { return a.from - b.from || a.to - b.to || a.days[0] - b.days[0]; });
    return list.map(function (g) {
      return {
        days: g.days.map(function (d) { return DAYS[d]; }),
        start: clock(g.from * step),
        stop: clock(g.to * step)
      };
    });
  };

  Editor.prototype.describeAll = function () {
    var all = this.gridWindows().concat(this.kept);
    this.summary.textContent = all.length ? all.map(describe).join("; ") : "No windows yet: the schedule opens nothing.";
  };

  Editor.prototype.write = function () {
    this.writing = true;
    this.textarea.value = jsonText(this.gridWindows().concat(this.kept));
    this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
    this.writing = false;
    this.paint();
    this.describeAll();
  };

  Editor.prototype.setRect = function (a, b, on, preview) {
    var d0 = Math.min(a[0], b[0]), d1 = Math.max(a[0], b[0]);
    var r0 = Math.min(a[1], b[1]), r1 = Math.max(a[1], b[1]);
    var cells = this.cells;
    this.table.querySelectorAll("td[data-day]").forEach(function (td) {
      var d = +td.getAttribute("data-day"), r = +td.getAttribute("data-row");
      var inside = d >= d0 && d <= d1 && r >= r0 && r <= r1;
      if (preview) {
        td.classList.toggle("keyhouse-paint-on", inside && on);
        td.classList.toggle("keyhouse-paint-off", inside && !on);
      } else if (inside) {
        cells[d][r] = on;
      }
    });
  };

  function cellAt(target) {
    var td = target && target.closest ? target.closest("td[data-day]") : null;
    return td ? [+td.getAttribute("data-day"), +td.getAttribute("data-row")] : null;
  }

  Editor.prototype.bindPointer = function () {
    var self = this, table = this.table, drag = null;
    table.addEventListener("mousedown", function (event) {
      if (event.button !== 0 || self.root.classList.contains("keyhouse-schedule-off")) return;
      var at = cellAt(event.target);
      if (at) {
        event.preventDefault();
        drag = { from: at, to: at, on: !self.cells[at[0]][at[1]] };
        self.setRect(drag.from, drag.to, drag.on, true);
        return;
      }
      var th = event.target.closest("th");
      if (!th) return;
      if (th.hasAttribute("data-day")) self.flip(+th.getAttribute("data-day"), null);
      else if (th.hasAttribute("data-row")) self.flip(null, +th.getAttribute("data-row"));
    });
    table.addEventListener("mouseover", function (event) {
      if (!drag) return;
      var at = cellAt(event.target);
      if (!at) return;
      drag.to = at;
      self.setRect(drag.from, drag.to, drag.on, true);
    });
    document.addEventListener("mouseup", function () {
      if (!drag) return;
      self.setRect(drag.from, drag.to, drag.on, false);
      table.querySelectorAll(".keyhouse-paint-on, .keyhouse-paint-off").forEach(function (td) {
        td.classList.remove("keyhouse-paint-on", "keyhouse-paint-off");
      });
      drag = null;
      self.write();
    });
  };

  // A whole day (column) or a whole time row: open all when any is closed, else close all.
  Editor.prototype.flip = function (day, row) {
    var cells = this.cells, targets = [];
    cells.forEach(function (column, d) {
      column.forEach(function (on, r) {
        if ((day === null || d === day) && (row === null || r === row)) targets.push([d, r]);
      });
    });
    var open = targets.some(function (t) { return !cells[t[0]][t[1]]; });
    targets.forEach(function (t) { cells[t[0]][t[1]] = open; });
    this.write();
  };

  Editor.prototype.bindKeys = function () {
    var self = this, table = this.table;
    table.addEventListener("keydown", function (event) {
      var at = cellAt(event.target);
      if (!at) return;
      var moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (event.key === " " || event.key === "Enter") {
        event.preventDefault();
        self.cells[at[0]][at[1]] = !self.cells[at[0]][at[1]];
        self.write();
      } else if (moves[event.key]) {
        event.preventDefault();
        var rows = self.cells[0].length;
        var d = Math.max(0, Math.min(6, at[0] + moves[event.key][0]));
        var r = Math.max(0, Math.min(rows - 1, at[1] + moves[event.key][1]));
        var next = table.querySelector('td[data-day="' + d + '"][data-row="' + r + '"]');
        event.target.tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      }
    });
  };

  function init() {
    document.querySelectorAll("textarea[data-schedule-grid]").forEach(function (textarea) {
      if (!textarea.keyhouseGrid) textarea.keyhouseGrid = new Editor(textarea);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
