// « Prévisualiser » live: the back office's question form shows its answer as the suppliers will see it while
// it is typed (the same accordion as « Demande d'assistance »; plain text, so textContent is that rendering).
// Without JavaScript the « Prévisualiser » button sends the form back and the server renders the same preview.
const form = document.getElementById("formulaire-question");
const preview = document.getElementById("apercu");
if (form && preview) {
  const fields = { question: form.elements.namedItem("question"), answer: form.elements.namedItem("answer") };
  const update = () => {
    for (const [name, field] of Object.entries(fields)) {
      const target = preview.querySelector(`[data-apercu="${name}"]`);
      if (field && target) target.textContent = field.value.trim() || target.dataset.vide;
    }
    preview.hidden = !(fields.question?.value.trim() || fields.answer?.value.trim());
  };
  for (const field of Object.values(fields)) field?.addEventListener("input", update);
}
