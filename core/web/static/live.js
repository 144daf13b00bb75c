// Keeps the page's live part current and sends "queue" clicks to the server.
(function () {
  "use strict";
  const live = document.getElementById("live");
  const status = document.getElementById("status");
  let shown = null;

  async function refresh() {
    try {
      const response = await fetch(live.dataset.fragment, {credentials: "same-origin"});
      if (!response.ok) return;
      const html = await response.text();
      if (shown !== null && html !== shown) live.innerHTML = html;
      shown = html;
    } catch (error) {
      // the server is restarting: the next poll tries again
    }
  }

  async function queue(button) {
    const section = button.closest("[data-session]");
    button.disabled = true;
    try {
      const response = await fetch(live.dataset.queue, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({session: section.dataset.session, track_id: button.dataset.track}),
      });
      const body = await response.json();
      status.textContent = response.ok ? "Queued “" + (body.title || body.queued) + "”" : body.error;
    } catch (error) {
      status.textContent = "The Encore server cannot be reached.";
    }
    button.disabled = false;
  }

  live.addEventListener("click", function (event) {
    const button = event.target.closest("button.queue");
    if (button && !button.disabled) queue(button);
  });
  refresh();
  setInterval(refresh, Number(live.dataset.poll) || 2000);
})();
