// Suggestions as you type in the search box: GOV.UK's accessible-autocomplete (vendored in
// static/accessible-autocomplete/) over GET /search/suggestions. Without JavaScript, or if
// this fails, the page keeps its plain search box, which works in full.
//
// The box is free text, not a choice from a list: what the person typed is what Enter
// searches for unless they have moved onto a suggestion with the arrow keys, and leaving the
// box never replaces their words with a suggestion.
import "../accessible-autocomplete/accessible-autocomplete.min.js";

// Typing pauses shorter than this send no request; the endpoint answers in milliseconds.
const PAUSE_MS = 120;

function suggestionsFrom(url) {
  let timer = null;
  let latest = 0;
  return (query, populateResults) => {
    window.clearTimeout(timer);
    const asked = ++latest;
    timer = window.setTimeout(async () => {
      let found = [];
      try {
        const response = await fetch(`${url}?${new URLSearchParams({ q: query })}`, {
          headers: { Accept: "application/json" },
        });
        if (response.ok) {
          found = (await response.json()).suggestions.map((item) => item.text);
        }
      } catch {
        // Offline or refused: no suggestions, and the search box goes on working.
      }
      if (asked === latest) {
        populateResults(found);
      }
    }, PAUSE_MS);
  };
}

export function enhance(container) {
  const original = container.querySelector("input");
  const form = container.closest("form");
  if (!original || !form || !window.accessibleAutocomplete) {
    return;
  }
  const { id, name, value } = original;
  const pageHint = original.getAttribute("aria-describedby");
  const keepClasses = [...original.classList].filter((c) => c !== "govuk-input").join(" ");
  original.remove();
  window.accessibleAutocomplete({
    element: container,
    id,
    name,
    defaultValue: value,
    minLength: 2,
    autoselect: false,
    confirmOnBlur: false,
    showNoOptionsFound: false,
    displayMenu: "overlay",
    inputClasses: keepClasses,
    source: suggestionsFrom(container.dataset.source),
    onConfirm: (chosen) => {
      if (!chosen) {
        return;
      }
      // The library updates the box after this returns; the search needs it now.
      form.querySelector(`#${CSS.escape(id)}`).value = chosen;
      form.requestSubmit();
    },
  });
  const input = container.querySelector(`#${CSS.escape(id)}`);
  if (pageHint && input) {
    // The library describes the box by its own hint on arrows; the page's hint comes first.
    const own = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", own ? `${pageHint} ${own}` : pageHint);
  }
  // Started, as GOV.UK Frontend marks its own components (the browser tests wait for it).
  container.setAttribute("data-app-search-suggestions-init", "");
  // Enter in the box itself searches for what was typed. The library keeps Enter for the open
  // menu even when no suggestion is chosen, which would leave the person's Enter doing nothing.
  container.addEventListener(
    "keydown",
    (event) => {
      if (event.key === "Enter" && event.target === input) {
        event.preventDefault();
        form.requestSubmit();
      }
    },
    true,
  );
}
