// « Mon Assistant Marchés Publics » from the platform's pages (issue 18), progressive enhancement only: without
// JavaScript the pages say what is needed and keep their forms. The assistant's local server answers this origin
// only (its Origin gate); the page pairs once (a code shown here and in the assistant, accepted there), keeps the
// key for this tab (sessionStorage), lists the certificates, has the signature value made on the card (the PIN is
// typed into the assistant, never here), and asks for the workstation's report (« Tester la configuration »).

const block = document.getElementById("assistant");
const STORE = "achats-assistant-cle";
const REPORT = "achats-assistant-rapport";
const ZERO = "00000000-0000-0000-0000-000000000000";

class Problem extends Error {
  constructor(code, detail) {
    super(detail || code);
    this.code = code;
    this.detail = detail;
  }
}

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const say = (name, values = {}) => {
  let text = block.dataset[camel(name)] || "";
  for (const [key, value] of Object.entries(values)) text = text.replace(`{${key}}`, value);
  return text;
};
// The page's words for a known code, else the assistant's (or the platform's) own French detail.
const message = (error) => block.dataset[camel(error.code || "")] || error.detail || say("failed");
const $ = (id) => document.getElementById(id);

const assistantBase = () => `http://127.0.0.1:${block.dataset.port}`;
let key = sessionStorage.getItem(STORE);

async function call(path, { method = "GET", body } = {}) {
  const headers = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(assistantBase() + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
    });
  } catch {
    throw new Problem("lost");
  }
  let payload = {};
  try {
    payload = await response.json();
  } catch {
    payload = {};
  }
  if (!response.ok) throw new Problem(payload.code || "failed", payload.detail);
  return payload;
}

async function problemOf(response) {
  try {
    const payload = await response.json();
    return new Problem(payload.code || "failed", payload.detail);
  } catch {
    return new Problem("failed");
  }
}

function showError(text, focus = true) {
  const alert = $("assistant-alerte");
  $("assistant-alerte-texte").textContent = text;
  alert.hidden = false;
  if (focus) alert.focus();
}

function clearError() {
  $("assistant-alerte").hidden = true;
  $("assistant-alerte-texte").textContent = "";
}

const listeners = [];
const onReady = (callback) => listeners.push(callback);

async function find(focus) {
  clearError();
  const status = $("assistant-statut");
  let found;
  try {
    found = await call("/v1/status");
  } catch {
    status.textContent = "";
    $("assistant-rechercher").hidden = false;
    $("assistant-associer").hidden = true;
    showError(say("absent"), focus);
    document.dispatchEvent(new CustomEvent("assistant:absent"));
    return;
  }
  $("assistant-rechercher").hidden = true;
  status.textContent = say("found", { version: found.version || "" });
  if (found.paired) {
    ready();
  } else {
    key = null;
    sessionStorage.removeItem(STORE);
    $("assistant-associer").hidden = false;
  }
}

async function pair() {
  clearError();
  const digits = new Uint32Array(1);
  crypto.getRandomValues(digits);
  const code = String(digits[0] % 1000000).padStart(6, "0");
  const shown = $("assistant-code");
  shown.textContent = say("pairing", { code });
  shown.hidden = false;
  $("assistant-associer").disabled = true;
  try {
    const answer = await call("/v1/pairings", { method: "POST", body: { code } });
    key = answer.key;
    sessionStorage.setItem(STORE, key);
    shown.hidden = true;
    $("assistant-associer").hidden = true;
    ready();
  } catch (error) {
    shown.hidden = true;
    showError(message(error));
  } finally {
    $("assistant-associer").disabled = false;
  }
}

function ready() {
  $("assistant-statut").textContent = `${$("assistant-statut").textContent} ${say("paired")}`.trim();
  for (const callback of listeners) callback();
}

// A refusal that means the pairing is gone (the assistant restarted): pair again.
function handle(error) {
  if (error.code === "pairing_required") {
    key = null;
    sessionStorage.removeItem(STORE);
    $("assistant-associer").hidden = false;
  }
  if (error.code === "lost") $("assistant-rechercher").hidden = false;
  showError(message(error));
}

const day = (iso) => (iso ? new Date(iso).toLocaleDateString(document.documentElement.lang || "fr") : "?");

// --- « Signer un document » ----------------------------------------------------------------------------------

function signing() {
  const form = $("formulaire-assistant");
  if (!form) return;
  const list = $("assistant-certificats-liste");
  let certificates = [];
  const show = async (refresh) => {
    clearError();
    try {
      certificates = (await call(`/v1/certificates${refresh ? "?refresh=1" : ""}`)).certificates || [];
    } catch (error) {
      handle(error);
      return;
    }
    list.replaceChildren();
    form.hidden = false;
    if (!certificates.length) {
      showError(say("no_certificate"), refresh);
      return;
    }
    const usable = certificates.filter((c) => c.usable);
    certificates.forEach((certificate, index) => {
      const group = document.createElement("div");
      group.className = "fr-radio-group fr-mb-2w";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "certificat";
      input.id = `assistant-certificat-${index}`;
      input.value = certificate.id;
      input.disabled = !certificate.usable;
      if (certificate.usable && usable.length === 1) input.checked = true;
      const label = document.createElement("label");
      label.className = "fr-label";
      label.htmlFor = input.id;
      label.textContent = certificate.holder;
      const hint = document.createElement("span");
      hint.className = "fr-hint-text";
      const lines = [say("issuer", { emetteur: certificate.issuer }),
        say("valid", { debut: day(certificate.not_before), fin: day(certificate.not_after) }),
        ...(certificate.warnings || []).map((w) => w.message)];
      if (!certificate.usable) lines.push(say("unusable"));
      hint.textContent = lines.join(" — ");
      label.append(hint);
      group.append(input, label);
      list.append(group);
    });
  };
  onReady(() => show(false));
  $("assistant-actualiser").addEventListener("click", () => show(true));

  const button = form.querySelector("button[type=submit]");
  const state = $("assistant-etat");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    $("assistant-resultat").hidden = true;
    const chosen = form.querySelector("input[name=certificat]:checked");
    const certificate = chosen && certificates.find((c) => c.id === chosen.value);
    if (!certificate) return showError(say("choose_certificate"));
    const file = $("assistant-document").files[0];
    if (!file) return showError(say("choose_file"));
    button.disabled = true;
    try {
      state.textContent = say("preparing");
      const data = new FormData();
      data.append("csrf_token", form.elements.csrf_token.value);
      data.append("file", file);
      data.append("certificate", certificate.pem);
      data.append("format", form.elements.format.value);
      data.append("level", form.elements.level.value);
      const prepared = await fetch(form.dataset.preparation, { method: "POST", body: data,
        headers: { Accept: "application/json" } });
      if (!prepared.ok) throw await problemOf(prepared);
      const session = await prepared.json();
      state.textContent = say("signing");
      let signed;
      try {
        signed = await call("/v1/signatures", { method: "POST", body: {
          certificate: certificate.id, data_to_be_signed: session.data_to_be_signed,
          signature_algorithm: session.signature_algorithm, documents: [file.name] } });
      } catch (error) {
        const gone = new FormData();
        gone.append("csrf_token", form.elements.csrf_token.value);
        fetch(form.dataset.abandon.replace(ZERO, session.id), { method: "POST", body: gone }).catch(() => {});
        throw error;
      }
      state.textContent = say("finishing");
      const value = new FormData();
      value.append("csrf_token", form.elements.csrf_token.value);
      value.append("signature_value", signed.signature_value);
      const done = await fetch(form.dataset.signature.replace(ZERO, session.id), { method: "POST", body: value });
      if (!done.ok) throw await problemOf(done);
      const blob = await done.blob();
      const disposition = done.headers.get("Content-Disposition") || "";
      const named = /filename\*=UTF-8''([^;]+)/i.exec(disposition) || /filename="?([^";]+)"?/i.exec(disposition);
      const name = named ? decodeURIComponent(named[1]) : session.filename;
      const link = $("assistant-telechargement");
      if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(blob);
      link.download = name;
      link.textContent = say("download", { nom: name });
      $("assistant-resultat-texte").textContent = say("signed", { nom: name });
      state.textContent = "";
      $("assistant-resultat").hidden = false;
      $("assistant-resultat").focus();
    } catch (error) {
      state.textContent = "";
      handle(error instanceof Problem ? error : new Problem("failed"));
    } finally {
      button.disabled = false;
    }
  });
}

// --- « Tester la configuration » ------------------------------------------------------------------------------

function testing() {
  const section = $("assistant-rapport");
  if (!section) return;
  const button = $("assistant-lancer-test");
  const table = $("assistant-rapport-tableau");
  const body = table.querySelector("tbody");
  const words = section.dataset;
  const line = (label, status, detail) => {
    const row = document.createElement("tr");
    const head = document.createElement("th");
    head.scope = "row";
    head.textContent = label;
    const badgeCell = document.createElement("td");
    const badge = document.createElement("p");
    badge.className = `fr-badge fr-badge--sm fr-badge--${status}`;
    badge.textContent = { success: words.ok, warning: words.attention, error: words.echec, info: words.info }[status];
    badgeCell.append(badge);
    const detailCell = document.createElement("td");
    detailCell.textContent = detail;
    row.append(head, badgeCell, detailCell);
    body.append(row);
  };
  onReady(() => {
    section.hidden = false;
  });
  button.addEventListener("click", async () => {
    clearError();
    button.disabled = true;
    $("assistant-rapport-etat").textContent = words.encours;
    let report;
    try {
      report = await call("/v1/report", { method: "POST", body: {
        test_signature: $("assistant-signature-test").checked } });
    } catch (error) {
      $("assistant-rapport-etat").textContent = "";
      button.disabled = false;
      handle(error);
      return;
    }
    body.replaceChildren();
    line(words.version, "success", report.assistant_version || "?");
    line(words.systeme, "success", [report.os, report.os_release, report.machine].filter(Boolean).join(" "));
    const tokens = report.tokens || [];
    line(words.cartes, tokens.length ? "success" : "warning",
      tokens.length ? tokens.map((t) => [t.label, t.manufacturer || t.maker, t.model].filter(Boolean).join(" ")).join(", ")
        : words.aucuneCarte);
    const certificates = report.certificates || [];
    line(words.certificats, certificates.some((c) => c.usable) ? "success" : "warning",
      certificates.length ? certificates.map((c) => [c.holder, ...(c.warnings || []).map((w) => w.message)]
        .join(" : ")).join(" ; ") : words.aucunCertificat);
    const test = report.test_signature || {};
    line(words.signature, { passed: "success", failed: "error" }[test.status] || "info",
      [test.message, test.qualification].filter(Boolean).join(" — "));
    const clock = report.clock || {};
    line(words.horloge, clock.ok === true ? "success" : clock.ok === false ? "warning" : "info", clock.message || "");
    for (const [name, check] of Object.entries(report.reachability || {})) {
      const checks = Array.isArray(check) ? check : [check];
      for (const one of checks) {
        line(`${words.accessibilite} (${name})`, one.reachable ? "success" : "error",
          `${one.url || ""} ${one.reachable ? words.repond : words.repondPas}`.trim());
      }
    }
    table.hidden = false;
    $("assistant-rapport-etat").textContent = words.termine;
    button.disabled = false;
    // For « Demande d'assistance »: its « Contexte technique » carries this summary (this tab only).
    const summary = [report.assistant_version, report.os, `${certificates.length} cert.`,
      `test ${test.status || "?"}`, clock.skew_seconds === null || clock.skew_seconds === undefined ? "" :
        `${clock.skew_seconds} s`].filter(Boolean).join("; ").slice(0, 50);
    sessionStorage.setItem(REPORT, summary);
    table.focus();
  });
}

if (block) {
  block.hidden = false;
  // Said to those without JavaScript only (shown as served).
  for (const element of document.querySelectorAll("[data-sans-javascript]")) element.hidden = true;
  signing();
  testing();
  $("assistant-rechercher").addEventListener("click", () => find(true));
  $("assistant-associer").addEventListener("click", pair);
  find(false);
}
