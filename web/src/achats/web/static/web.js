// Progressive enhancement only: every page works without this file.

// « Inscription »: the nomenclature lists (legal forms, APE/NAF codes) follow what is typed in their
// search field, through the registry's own search (code, label, usual abbreviation such as SARL).
function nomenclatures() {
  for (const block of document.querySelectorAll("[data-nomenclature]")) {
    const search = block.querySelector("input[type=search]");
    const select = document.getElementById(search.dataset.target);
    const count = document.getElementById(search.dataset.target + "-nombre");
    const button = block.querySelector("button[name=action]");
    const placeholder = select.options[0].cloneNode(true);
    const template = count.textContent.replace(/\d+\s*$/, "");
    let timer = null;
    let asked = 0;
    const refresh = async () => {
      const ask = ++asked;
      const url = new URL(block.dataset.nomenclature, window.location.href);
      url.searchParams.set("q", search.value.trim());
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok || ask !== asked) return;
      const found = await response.json();
      const chosen = select.value;
      const kept = chosen ? [...select.options].find((option) => option.value === chosen) : null;
      select.replaceChildren(placeholder.cloneNode(true));
      if (kept && !found.items.some((item) => item.code === chosen)) select.append(kept);
      for (const item of found.items) {
        const extra = (item.abbreviations || []).join(", ");
        const option = new Option(`${item.code} — ${item.label}${extra ? ` (${extra})` : ""}`, item.code);
        select.append(option);
      }
      select.value = chosen && [...select.options].some((o) => o.value === chosen) ? chosen : "";
      if (!chosen && found.items.length === 1) select.value = found.items[0].code;
      count.textContent = template + found.count;
    };
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        refresh();
      }
    });
    button.addEventListener("click", (event) => {
      event.preventDefault();
      clearTimeout(timer);
      refresh();
    });
  }
}

// « + Ajouter un établissement »: the new establishment's fields open in place (without JavaScript, the
// button sends the form and the page comes back with them open).
function addEstablishment() {
  const button = document.getElementById("ajouter-etablissement");
  const block = document.getElementById("nouvel-etablissement");
  if (!button || !block) return;
  button.setAttribute("aria-expanded", String(!block.hidden));
  button.addEventListener("click", (event) => {
    event.preventDefault();
    block.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.getElementById("etablissement-nouveau").checked = true;
    const first = block.querySelector("input:not([type=radio])");
    if (first) first.focus();
  });
}

function focusAsked() {
  const form = document.querySelector("form[data-focus]");
  const field = form && document.getElementById(form.dataset.focus);
  if (field) field.focus();
}

nomenclatures();
addEstablishment();
focusAsked();

// The password policy identity publishes, explained while the user types: its rules, and the length
// one ticked once the password is long enough. The other rules (common passwords, one's own name) are
// identity's to check when the form is sent; its message then shows beside the field.
async function passwordPolicy() {
  const field = document.querySelector("input[data-policy]");
  if (!field) return;
  const response = await fetch(field.dataset.policy, { headers: { Accept: "application/json" } });
  if (!response.ok) return; // no published policy: identity's message after sending is the explanation
  const policy = await response.json();
  const box = document.getElementById("champ-password-regles");
  const status = document.getElementById("champ-password-etat");
  const list = document.createElement("ul");
  const items = {};
  for (const rule of policy.rules) {
    const item = document.createElement("li");
    item.textContent = rule.message;
    item.dataset.rule = rule.code;
    items[rule.code] = item;
    list.append(item);
  }
  const counter = document.createElement("p");
  counter.className = "fr-hint-text";
  box.replaceChildren(list, counter);
  box.hidden = false;
  let wasLongEnough = null;
  const update = () => {
    const length = [...field.value].length;
    const longEnough = length >= policy.min_length && length <= policy.max_length;
    counter.textContent = `${length} / ${policy.min_length}`;
    if (items.length) {
      items.length.classList.toggle("achats-policy--met", longEnough);
      items.length.classList.toggle("achats-policy--unmet", !longEnough && length > 0);
    }
    if (wasLongEnough !== null && longEnough !== wasLongEnough) {
      status.textContent = longEnough ? `✓ ${items.length.textContent}` : `✗ ${items.length.textContent}`;
    }
    wasLongEnough = longEnough;
  };
  field.addEventListener("input", update);
  update();
}

passwordPolicy();

// The helpdesk's follow link carries its token in the address' fragment, which the server never sees:
// put it in the page's form and send it at once (without JavaScript, the person pastes it there).
function followFragment() {
  const form = document.querySelector("form[data-fragment]");
  const code = window.location.hash.slice(1);
  if (!form || !code) return;
  form.elements[form.dataset.fragment].value = decodeURIComponent(code);
  history.replaceState(null, "", window.location.pathname + window.location.search);
  form.submit();
}

followFragment();

// DSFR's own script (header menu, modals, password toggles) starts after the first contentful paint: run as a
// parser-inserted module it sometimes went before it, and the page stayed blank while it started
// (Lighthouse's first paint 1.2 s instead of 0.14 s on a loaded machine). The page is whole without it.
// The Marianne fonts too (base.html): their stylesheet, fetched as print-only, applies to the screen now.
function startDsfr() {
  const url = document.querySelector("script[data-dsfr]")?.dataset.dsfr;
  const start = () => {
    document.querySelectorAll("link[data-fonts]").forEach((link) => { link.media = "all"; });
    if (url) import(url);
  };
  if (document.visibilityState === "hidden") {
    start();
  } else if (PerformanceObserver.supportedEntryTypes?.includes("paint")) {
    // After the first contentful paint as the browser reports it (a frame is shown a few ms after its
    // requestAnimationFrame: fonts asked for then still came before the paint).
    let started = false;
    const observer = new PerformanceObserver((list) => {
      if (!started && list.getEntriesByName("first-contentful-paint").length) {
        started = true;
        observer.disconnect();
        setTimeout(start, 0);
      }
    });
    observer.observe({ type: "paint", buffered: true });
  } else {
    requestAnimationFrame(() => setTimeout(start, 0));
  }
}

startDsfr();
