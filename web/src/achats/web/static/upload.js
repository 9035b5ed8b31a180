// The upload forms' progress bar (« Coffre-fort », « Répondre », « Vérifier la signature électronique »),
// progressive enhancement only: without this file each form is a plain multipart POST. With it, every
// `form[data-progression]` is sent by XMLHttpRequest so that a progress bar (the page's #progression-envoi,
// templates/_upload.html) shows how much of large files is sent; then the page shows the server's answer (the
// list, the confirmation or the report, or the form with the service's messages beside the fields) in place,
// without a full reload.
//
// A refusal that is not a page (problem+json) goes beside the file field named by the form's
// `data-progression` (an input's id), else beside its first file field.

function showAnswer(html, address) {
  const fresh = new DOMParser().parseFromString(html, "text/html");
  const main = document.getElementById("contenu");
  const content = fresh.getElementById("contenu");
  if (!content) {
    window.location.assign(address);
    return;
  }
  main.replaceChildren(...content.childNodes);
  document.title = fresh.title;
  if (address) window.history.replaceState(null, "", address);
  const target = main.querySelector(".fr-input-group--error input, .fr-select-group--error select, "
    + ".fr-upload-group--error input, [role=status], [role=alert]") || main.querySelector("h1");
  if (target) {
    if (!target.matches("input, select")) target.tabIndex = -1;
    target.focus();
  }
  enhance();
}

// A refusal that is not a page (the gateway's or the web app's body limit answers problem+json to this
// script): its French detail beside the file field, as the page does for the service's.
function showProblem(form, detail) {
  const named = form.dataset.progression;
  const input = (named && document.getElementById(named)) || form.querySelector("input[type=file]");
  const group = input.closest(".fr-upload-group");
  const id = `${input.id}-erreur`;
  let message = document.getElementById(id);
  if (!message) {
    message = document.createElement("p");
    message.className = "fr-error-text";
    message.id = id;
    group.append(message);
  }
  message.textContent = detail;
  group.classList.add("fr-upload-group--error");
  input.setAttribute("aria-describedby", id);
  input.focus();
}

function send(form) {
  const block = document.getElementById("progression-envoi");
  const bar = document.getElementById("progression-envoi-barre");
  const text = document.getElementById("progression-envoi-texte");
  const button = form.querySelector("button[type=submit]");
  const model = text.dataset.modele;
  let said = -1;
  const progress = (percent) => {
    bar.value = percent;
    // Said every 10 % (aria-live): the bar itself holds the exact figure.
    const step = Math.floor(percent / 10) * 10;
    if (step !== said) {
      said = step;
      text.textContent = model.replace("{n}", String(step));
    }
  };
  progress(0);
  block.hidden = false;
  button.disabled = true;
  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  // The pages come back as HTML; a refusal of the gateway or of the web app's body limit as problem+json (a
  // browser's navigation would get their HTML error page instead: issue 15 item 8).
  request.setRequestHeader("Accept", "application/problem+json, text/html;q=0.9");
  request.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) progress(Math.floor((event.loaded * 100) / event.total));
  });
  request.upload.addEventListener("load", () => progress(100));
  request.addEventListener("load", () => {
    const type = request.getResponseHeader("Content-Type") || "";
    if (type.startsWith("text/html")) {
      showAnswer(request.responseText, request.responseURL);
      return;
    }
    block.hidden = true;
    button.disabled = false;
    let detail = "";
    try {
      detail = JSON.parse(request.responseText).detail || "";
    } catch {
      detail = "";
    }
    if (detail) showProblem(form, detail);
    else HTMLFormElement.prototype.submit.call(form);
  });
  // The connection failed: the plain form, as without JavaScript.
  request.addEventListener("error", () => HTMLFormElement.prototype.submit.call(form));
  request.send(new FormData(form));
}

function enhance() {
  for (const form of document.querySelectorAll("form[data-progression]")) {
    if (form.dataset.enhanced) continue;
    form.dataset.enhanced = "1";
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      send(form);
    });
  }
}

enhance();
