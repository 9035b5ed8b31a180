// « Tester la configuration », what only a script can tell, added to the server's report without a reload:
// that JavaScript runs, the computer's clock against the server's time written in the page, and the upload
// speed of a generated blob (sent to the same endpoint as the page's form, which keeps working as it is).

const report = document.getElementById("rapport-configuration");

function show(id, status, badge, detail) {
  const result = document.getElementById(`${id}-resultat`);
  result.className = `fr-badge fr-badge--sm fr-badge--${status}`;
  result.textContent = badge;
  document.getElementById(`${id}-detail`).textContent = detail;
}

function number(value, digits) {
  return new Intl.NumberFormat(document.documentElement.lang, {maximumFractionDigits: digits}).format(value);
}

function fill(model, values) {
  return Object.entries(values).reduce((text, [key, value]) => text.replace(`{${key}}`, value), model);
}

function clock() {
  const data = report.dataset;
  const gap = Math.abs(Date.now() - Number(data.heureServeur)) / 1000;
  if (gap <= Number(data.tolerance)) {
    show("essai-horloge", "success", data.horlogeOk, fill(data.horlogeDetailOk, {n: number(gap, 1)}));
  } else {
    show("essai-horloge", "error", data.horlogeEcart, fill(data.horlogeDetailEcart, {n: number(gap, 0)}));
  }
}

async function upload() {
  const data = report.dataset;
  const form = document.getElementById("formulaire-essai-envoi");
  const size = Number(data.tailleEssai);
  const content = new Uint8Array(size);
  // Not compressible, as a real document: random bytes (getRandomValues fills 64 KB at a time).
  for (let start = 0; start < size; start += 65536) {
    crypto.getRandomValues(content.subarray(start, Math.min(start + 65536, size)));
  }
  const body = new FormData();
  body.append("csrf_token", form.elements.csrf_token.value);
  body.append("fichier", new Blob([content], {type: "application/octet-stream"}), "essai.bin");
  show("essai-envoi", "info", data.envoiEncours, "");
  const started = performance.now();
  let answer;
  try {
    answer = await fetch(form.action, {method: "POST", body, headers: {Accept: "application/json"},
                                       credentials: "same-origin"});
  } catch {
    answer = {ok: false, status: "—"};
  }
  const seconds = (performance.now() - started) / 1000;
  if (!answer.ok) {
    show("essai-envoi", "error", data.envoiEchec, fill(data.envoiDetailEchec, {statut: answer.status}));
    return;
  }
  const received = (await answer.json()).bytes;
  const megabytes = received / (1024 * 1024);
  show("essai-envoi", "success", data.envoiOk, fill(data.envoiDetail, {
    taille: fill(data.mo, {n: number(megabytes, 2)}),
    duree: number(seconds, 3),
    debit: fill(data.moS, {n: number(megabytes / Math.max(seconds, 0.001), 1)}),
  }));
}

// The server sees the scheme of its own hop (behind the gateway or a TLS proxy, plain HTTP): the browser knows
// whether its own connection is encrypted.
function tls() {
  if (window.location.protocol === "https:") show("essai-tls", "success", report.dataset.tlsOk, report.dataset.tlsDetail);
}

if (report) {
  show("essai-javascript", "success", report.dataset.jsOk, report.dataset.jsDetail);
  tls();
  clock();
  // After the form's own upload, the page shows the server's figures for the person's file: kept as they are.
  if (!("envoiServeur" in report.dataset)) upload();
}
