// Roster console: what HTML alone cannot do. Every form works without this script.
"use strict";

// Times arrive in UTC (ISO 8601); show them in the viewer's own time zone.
function localTimes(root) {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  for (const el of root.querySelectorAll("time[datetime]")) {
    const at = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(at.getTime())) {
      el.textContent = format.format(at);
      el.title = el.getAttribute("datetime");
    }
  }
}

// Destructive forms say what they do before doing it.
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});

// A form on its way says so (a recovery of thousands of deliveries takes a while), and is not
// sent twice by a second click.
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) return;
  const form = event.target;
  if (form.hasAttribute("aria-busy")) {
    event.preventDefault();
    return;
  }
  form.setAttribute("aria-busy", "true");
  const button = event.submitter;
  if (button) {
    button.setAttribute("data-label", button.textContent);
    button.textContent = "Working…";
  }
});

// Back to a page kept in the browser's cache: its forms are ready again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[aria-busy]")) {
    form.removeAttribute("aria-busy");
    for (const button of form.querySelectorAll("[data-label]")) {
      button.textContent = button.getAttribute("data-label");
      button.removeAttribute("data-label");
    }
  }
});

// "Copy" buttons copy the field they name, and say so.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.getAttribute("data-copy"));
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    field.select();
    document.execCommand("copy");
  }
  button.textContent = "Copied";
});

// A delivery log with pending deliveries in it refreshes itself until none is left pending.
// The server renders the same part of the page alone at the address in data-refresh.
function refreshWhilePending(log) {
  const every = 3000;
  const tick = async () => {
    if (!log.querySelector("[data-pending]")) return;
    try {
      const response = await fetch(log.getAttribute("data-refresh"), {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
      if (response.ok && !response.redirected) {
        log.innerHTML = await response.text();
        localTimes(log);
      }
    } catch {
      // Offline for a moment: the next tick tries again.
    }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
}

document.addEventListener("DOMContentLoaded", () => {
  localTimes(document);
  for (const log of document.querySelectorAll("[data-refresh]")) refreshWhilePending(log);
});
