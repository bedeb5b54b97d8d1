// Starts GOV.UK Frontend's components. A module script, so browsers too old for GOV.UK
// Frontend's JavaScript skip it and keep the no-JavaScript pages, which work in full.
import { initAll } from "../govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
