// Starts GOV.UK Frontend's components. A module script, so browsers too old for GOV.UK
// Frontend's JavaScript skip it and keep the no-JavaScript pages, which work in full.
import { initAll } from "../govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// On a phone the search filters start folded away, below the search box; without JavaScript
// (or on a wider screen) they stay open.
if (window.matchMedia("(max-width: 40.0525em)").matches) {
  for (const filters of document.querySelectorAll("details.app-filters")) {
    filters.open = false;
  }
}

// Suggestions as you type, only on pages with a search box, so that no other page loads them.
const searchBoxes = document.querySelectorAll('[data-module="app-search-suggestions"]');
if (searchBoxes.length) {
  import("./search-suggestions.mjs").then(({ enhance }) => searchBoxes.forEach(enhance));
}
