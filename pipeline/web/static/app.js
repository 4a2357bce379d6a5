// Small conveniences on top of forms that work without JavaScript: the check form warns about an oversized file
// and shows that it is working while the server reads the form. The search filters apply with their button, never
// on a change alone: a keyboard or screen reader moving through a dropdown's options would reload the page at each.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("check-form");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const note = document.getElementById("file-note");
  const button = form.querySelector("button[type=submit]");
  const maxBytes = Number(form.dataset.maxBytes);
  const tooBig = () => Boolean(input.files[0]) && input.files[0].size > maxBytes;
  input.addEventListener("change", () => {
    note.textContent = tooBig() ? form.dataset.tooBig : "";
    note.classList.toggle("problem", tooBig());
  });
  form.addEventListener("submit", (event) => {
    // The button stays in the keyboard's path; a file the server would refuse is not sent, and the note says why.
    if (tooBig()) {
      event.preventDefault();
      note.textContent = "";  // emptied first, so that the live region says it again
      note.textContent = form.dataset.tooBig;
      input.focus();
      return;
    }
    note.classList.remove("problem");
    note.textContent = form.dataset.busy;
    // Disabled after this tick, so the browser still sends the form once.
    setTimeout(() => { button.disabled = true; }, 0);
  });
  // Coming back with the browser's Back button restores the page as it was left: make it usable again.
  window.addEventListener("pageshow", () => {
    button.disabled = false;
    note.textContent = "";
  });
});
