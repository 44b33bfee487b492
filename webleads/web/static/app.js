/* webleads dashboard: the little behaviour the pages need, no inline scripts (CSP).
   - htmx requests carry the CSRF token (meta csrf-token) in X-CSRF-Token;
   - <canvas data-chart="ID"> is drawn by Chart.js from <script type="application/json" id="ID">;
   - [data-copy="ID"] buttons copy the text of element ID;
   - select[data-autosubmit] submits its form on change; .js-hide is hidden when this runs;
   - form[data-confirm] asks before submitting. */
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var numberFormat = new Intl.NumberFormat(lang);
  document.documentElement.classList.add("js");

  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });

  var palette = ["#1f4e79", "#f0a202", "#2e8540", "#c0392b", "#7b4fa0", "#0f8b8d",
                 "#8c6d46", "#d35f8d", "#5a6b7b", "#9bb53c"];

  function draw(root) {
    if (typeof window.Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      (spec.data.datasets || []).forEach(function (set, i) {
        var color = set.color || palette[i % palette.length];
        delete set.color;
        if (!set.borderColor) set.borderColor = spec.type === "doughnut" ? "#fff" : color;
        if (!set.backgroundColor) {
          set.backgroundColor = spec.type === "doughnut"
            ? spec.data.labels.map(function (_, j) { return palette[j % palette.length]; })
            : (spec.type === "line" ? color + "33" : color);
        }
      });
      var options = spec.options || {};
      options.responsive = true;
      options.maintainAspectRatio = false;
      options.locale = lang;
      options.animation = false;
      options.plugins = options.plugins || {};
      options.plugins.tooltip = options.plugins.tooltip || {};
      options.plugins.tooltip.callbacks = {
        label: function (item) {
          var v = item.parsed && typeof item.parsed === "object" ? item.parsed.y : item.parsed;
          if (spec.type === "bar" && options.indexAxis === "y") v = item.parsed.x;
          return (item.dataset.label ? item.dataset.label + ": " : "") + numberFormat.format(v);
        }
      };
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, {type: spec.type, data: spec.data, options: options});
    });
  }

  var wired = new WeakSet();
  function once(el) { if (wired.has(el)) return false; wired.add(el); return true; }

  function wire(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      if (!once(el)) return;
      el.addEventListener("change", function () { el.form.requestSubmit(); });
    });
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!once(button)) return;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.dataset.copy);
        if (!target || !navigator.clipboard) return;
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          var old = button.textContent;
          button.textContent = button.dataset.copied || "✓";
          setTimeout(function () { button.textContent = old; }, 1500);
        });
      });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (!once(form)) return;
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.dataset.confirm)) e.preventDefault();
      });
    });
    draw(root);
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (e) { wire(e.detail.elt); });
})();
