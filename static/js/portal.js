// The portal's few behaviours, in one static file: the Content-Security-Policy allows no
// inline script. Listeners are delegated, so content swapped in by htmx works too.
(function () {
  "use strict";

  // A form or button with data-confirm asks before it submits.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = (event.submitter && event.submitter.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Checkout: one click places the order; a second while it is on its way does nothing.
  document.addEventListener("submit", function (event) {
    var button = document.getElementById("complete-order");
    if (event.target.id !== "checkout-form" || event.submitter !== button || event.defaultPrevented) return;
    setTimeout(function () { button.disabled = true; button.textContent = "Placing your order…"; }, 0);
  });

  // Numbers console: "tick this page" ticks every row.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "tick-page") return;
    document.querySelectorAll("#bulk-form input[name=ids]").forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  // A read-only field to copy (data-select-on-click) selects its text when clicked.
  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-select-on-click]")) event.target.select();
  });

  // A copy button (data-copy-from="<field id>") puts the field's text on the clipboard and
  // says so; where the clipboard is not available it selects the text to copy by hand.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var field = document.getElementById(button.dataset.copyFrom);
    if (!field) return;
    field.select();
    var done = function () { button.textContent = button.dataset.copiedText || "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });

  // New API key: the requirement texts concern full-access keys only.
  function syncKeyScope() {
    var form = document.getElementById("key-form");
    var texts = document.getElementById("key-requirements");
    if (!form || !texts) return;
    var chosen = form.querySelector("[name=access]:checked");
    texts.hidden = !chosen || chosen.value !== "full";
  }
  document.addEventListener("change", function (event) {
    if (event.target.closest("#key-form")) syncKeyScope();
  });

  // My number: the ring timeout box is only useful when "For at most…" is chosen.
  function syncRingTimeout() {
    var form = document.getElementById("destination-form");
    if (!form) return;
    var box = form.querySelector("[name=ring_timeout]");
    var chosen = form.querySelector("[name=ring]:checked");
    if (box) box.disabled = !chosen || chosen.value !== "timeout";
  }
  document.addEventListener("change", function (event) {
    if (event.target.closest("#destination-form")) syncRingTimeout();
  });

  // Sizes that come from data (progress, chart bars): set through the CSSOM, which the
  // policy allows, instead of style attributes, which it does not.
  function within(root, selector) {
    var found = Array.from(root.querySelectorAll(selector));
    return root.matches && root.matches(selector) ? [root].concat(found) : found;
  }
  function applySizes(root) {
    within(root, "[data-width-percent]").forEach(function (element) {
      element.style.width = element.dataset.widthPercent + "%";
    });
    within(root, "[data-height-percent]").forEach(function (element) {
      element.style.height = element.dataset.heightPercent + "%";
    });
  }

  // Cart holds: a live countdown on every "held for you" badge.
  function tickHolds() {
    document.querySelectorAll("[data-hold-until]").forEach(function (badge) {
      var left = Math.floor((new Date(badge.dataset.holdUntil) - new Date()) / 1000);
      if (left <= 0) {
        badge.textContent = "Hold expired — hold it again";
        badge.className = "badge text-bg-warning";
        badge.removeAttribute("data-hold-until");
        return;
      }
      var minutes = Math.floor(left / 60), seconds = String(left % 60).padStart(2, "0");
      badge.textContent = "Held for you · " + minutes + ":" + seconds + " left";
    });
  }
  setInterval(tickHolds, 1000);

  // The add-to-cart panel: shown when htmx fills it, hidden after its close form posted.
  document.addEventListener("htmx:afterSwap", function (event) {
    var modal = document.getElementById("cart-modal");
    if (modal && event.detail.target.id === "cart-panel") {
      bootstrap.Modal.getOrCreateInstance(modal).show();
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var modal = document.getElementById("cart-modal");
    if (modal && event.detail.elt.matches("[data-closes-cart-modal]")) {
      bootstrap.Modal.getOrCreateInstance(modal).hide();
    }
  });

  function ready(root) {
    applySizes(root);
    syncRingTimeout();
    syncKeyScope();
    tickHolds();
  }
  document.addEventListener("DOMContentLoaded", function () { ready(document); });
  document.addEventListener("htmx:load", function (event) { ready(event.detail.elt); });
})();
