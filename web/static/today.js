// Today's calls: the register and each call's state update in place every
// 15 seconds. Only the parts marked data-live are replaced, so a register
// correction or a concern half typed in a form stays as it is.

async function refresh() {
  try {
    const reply = await fetch(location.pathname, { credentials: "same-origin" });
    if (!reply.ok) return;
    const fresh = new DOMParser().parseFromString(await reply.text(), "text/html");
    for (const part of fresh.querySelectorAll("[data-live][id]")) {
      const here = document.getElementById(part.id);
      if (here && here.innerHTML !== part.innerHTML) here.innerHTML = part.innerHTML;
    }
    document.body.dataset.refreshedAt = new Date().toISOString();
  } catch (e) {
    console.warn("refreshing the register", e);
  }
}

setInterval(refresh, 15000);
// For tests and support staff: update now.
window.__refreshToday = refresh;
