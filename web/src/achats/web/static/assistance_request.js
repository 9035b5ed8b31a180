// « Demande d'assistance », progressive enhancement only: the page works without this file.

// « Contexte technique »: what only the browser can tell (the system and the browser come from the server).
function technicalContext() {
  const cell = (name) => document.querySelector(`[data-technique="${name}"]`);
  if (!cell("screen")) return;
  const facts = {
    screen: `${window.screen.width} × ${window.screen.height}`,
    language: (navigator.languages?.length ? navigator.languages.join(", ") : navigator.language) || "",
    cookies: navigator.cookieEnabled ? "enabled" : "disabled",
  };
  cell("screen").textContent = facts.screen;
  if (facts.language) cell("language").textContent = facts.language;
  const cookies = cell("cookies");
  cookies.textContent = navigator.cookieEnabled ? cookies.dataset.yes : cookies.dataset.no;
  // The summary of « Mon Assistant Marchés Publics »' report, when « Tester la configuration » ran it (this tab).
  facts.assistant_version = sessionStorage.getItem("achats-assistant-rapport") || "";
  if (facts.assistant_version && cell("assistant_version")) cell("assistant_version").textContent = facts.assistant_version;
  // Sent with the request (the helpdesk keeps them in the ticket's technical context).
  for (const field of document.querySelectorAll("input[data-technique-field]")) {
    field.value = (facts[field.dataset.techniqueField] || "").slice(0, field.dataset.techniqueField === "language" ? 100 : 50);
  }
}

// The FAQ questions matching the message as it is typed (the helpdesk's French search, through the page's
// /assistance/suggestions fragment): shown under the message, announced once politely, the focus left alone.
function suggestions() {
  const message = document.querySelector("textarea[data-suggestions]");
  const box = document.getElementById("suggestions");
  const status = document.getElementById("suggestions-etat");
  if (!message || !box || !status) return;
  let timer = null;
  let asked = 0;
  let last = "";
  const refresh = async () => {
    const query = message.value.trim().slice(-200);
    if (query === last) return;
    last = query;
    const ask = ++asked;
    const url = new URL(message.dataset.suggestions, window.location.href);
    url.searchParams.set("q", query);
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "text/html" } });
    } catch {
      return;
    }
    if (!response.ok || ask !== asked) return;
    const html = await response.text();
    if (ask !== asked) return;
    const fragment = document.createRange().createContextualFragment(html);
    const text = fragment.firstElementChild?.dataset.etat || "";
    box.replaceChildren(fragment);
    if (status.textContent !== text) status.textContent = text;
  };
  message.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
}

// The files checked before they are sent (the helpdesk checks them again, always, and its message wins).
function attachments() {
  const input = document.querySelector("input[type=file][data-max-bytes]");
  if (!input) return;
  const error = document.getElementById(`${input.id}-erreur`);
  const group = input.closest(".fr-upload-group");
  const max = Number(input.dataset.maxBytes);
  const accepted = input.accept.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  const problems = () => {
    const found = [];
    for (const file of input.files) {
      const dot = file.name.lastIndexOf(".");
      const extension = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
      if (accepted.length && !accepted.includes(extension)) {
        found.push(input.dataset.typeRefused.replace("{name}", file.name));
      } else if (file.size > max) {
        found.push(input.dataset.tooLarge.replace("{name}", file.name));
      }
    }
    return found;
  };
  const show = () => {
    const found = problems();
    error.textContent = found.join(" ");
    error.hidden = found.length === 0;
    group.classList.toggle("fr-upload-group--error", found.length > 0);
    if (found.length) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    return found.length === 0;
  };
  input.addEventListener("change", show);
  input.form.addEventListener("submit", (event) => {
    if (!show()) {
      event.preventDefault();
      input.focus();
    }
  });
}

technicalContext();
suggestions();
attachments();
