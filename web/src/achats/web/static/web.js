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
