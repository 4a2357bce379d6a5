// Small conveniences on top of forms that work without JavaScript:
// filters apply as soon as one is chosen, and the check form warns about an oversized file and shows
// that it is working while the server reads the form.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => {
      // A new filter starts again from the first page of results.
      const offset = select.form.querySelector("input[name=offset]");
      if (offset) offset.remove();
      select.form.requestSubmit();
    });
  }
  // Out of sight, since the filters apply by themselves, but shown again when the keyboard reaches it.
  for (const button of document.querySelectorAll("aside.facets button.apply")) {
    button.classList.add("visually-hidden-focusable");
  }

  const form = document.getElementById("check-form");
  if (!form) return;
  const input = form.querySelector("input[type=file]");
  const note = document.getElementById("file-note");
  const button = form.querySelector("button[type=submit]");
  const maxBytes = Number(form.dataset.maxBytes);
  input.addEventListener("change", () => {
    const file = input.files[0];
    const tooBig = Boolean(file) && file.size > maxBytes;
    note.textContent = tooBig ? form.dataset.tooBig : "";
    note.classList.toggle("problem", tooBig);
    button.disabled = tooBig;
  });
  form.addEventListener("submit", () => {
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
