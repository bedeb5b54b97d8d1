// What axe-core cannot see, measured in the page in one call. tests/browser/accessibility.py
// evaluates this function with a task:
//   "page":    every check below, for the page as it is now; returns the problems found, the
//              title and a fingerprint of the page's content (for the title check, in Python).
//   "focused": how the focused element shows its focus (for tab_to, at each press of Tab).
// Nothing here changes the page for good: focus and scroll are put back as they were.
(task) => {
  // Controls a finger must hit. Radios and checkboxes are left out: GOV.UK draws them as
  // 40px boxes and makes their labels part of the target. Text links are left out too.
  const CONTROLS = [
    "button",
    "input:not([type=hidden]):not([type=radio]):not([type=checkbox])",
    "select",
    "textarea",
    "a.govuk-button",
    "[role=button]",
  ].join(", ");
  const MIN_CONTROL_WIDTH = 44;
  const FORM_CONTROLS = "input:not([type=hidden]), select, textarea, button";
  const FOCUSABLE = [
    "a[href]",
    "button",
    "input:not([type=hidden])",
    "select",
    "textarea",
    "summary",
    "[tabindex]",
    "[contenteditable=true]",
  ].join(", ");
  const MIN_CONTRAST = 3;
  const MAX_PER_KIND = 8;

  const WHITE = { r: 255, g: 255, b: 255, a: 1 };
  const CLEAR = { r: 0, g: 0, b: 0, a: 0 };

  const rendered = (element) =>
    element.getClientRects().length > 0 && getComputedStyle(element).visibility === "visible";
  const words = (text) => (text || "").replace(/\s+/g, " ").trim();
  const describe = (element) => {
    if (!element || element === document.body) return "the page itself (nothing has focus)";
    let text = element.tagName.toLowerCase();
    if (element.id) text += `#${element.id}`;
    if (element.classList.length) text += `.${[...element.classList].join(".")}`;
    const name = words(
      element.getAttribute("aria-label") || element.innerText || element.value || "",
    ).slice(0, 50);
    return name ? `${text} "${name}"` : text;
  };

  // Colours ------------------------------------------------------------------------------
  const parseColour = (text) => {
    const match = /rgba?\(([^)]*)\)/.exec(text || "");
    if (!match) return null;
    const [r, g, b, a = 1] = match[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a),
    g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const channel = (value) => {
      const v = value / 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const contrast = (one, other) => {
    const [light, dark] = [luminance(one), luminance(other)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  };
  // The colour an element is painted on: its ancestors' backgrounds, over white.
  const behind = (element) => {
    const layers = [];
    for (let node = element.parentElement; node; node = node.parentElement) {
      const colour = parseColour(getComputedStyle(node).backgroundColor);
      if (colour && colour.a > 0) {
        layers.push(colour);
        if (colour.a === 1) break;
      }
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), WHITE);
  };

  // Focus indicators ---------------------------------------------------------------------
  const STYLE_KEYS = [
    "outlineStyle", "outlineWidth", "outlineColor", "outlineOffset", "boxShadow",
    "backgroundColor", "color", "opacity",
    "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth",
    "borderTopColor", "borderRightColor", "borderBottomColor", "borderLeftColor",
  ];
  const SIDES = ["Top", "Right", "Bottom", "Left"];

  // The boxes that show an element's focus: the element, and for GOV.UK's radios and
  // checkboxes (an invisible input) the circle or square their label draws.
  const focusBoxes = (element) => {
    const boxes = [{ node: element, pseudo: null }];
    if (
      element.matches("input[type=radio], input[type=checkbox]") &&
      getComputedStyle(element).opacity === "0"
    ) {
      for (const label of element.labels || []) {
        boxes.push({ node: label, pseudo: "::before" }, { node: label, pseudo: "::after" });
      }
    }
    return boxes;
  };
  const look = (box) => {
    const style = getComputedStyle(box.node, box.pseudo);
    const seen = Object.fromEntries(STYLE_KEYS.map((key) => [key, style[key]]));
    if (!box.pseudo) {
      const rect = box.node.getBoundingClientRect();
      seen.size = [rect.width, rect.height];
    }
    return seen;
  };
  const splitList = (text) => {
    if (!text || text === "none") return [];
    const items = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < text.length; i += 1) {
      if (text[i] === "(") depth += 1;
      else if (text[i] === ")") depth -= 1;
      else if (text[i] === "," && depth === 0) {
        items.push(text.slice(start, i).trim());
        start = i + 1;
      }
    }
    items.push(text.slice(start).trim());
    return items;
  };
  const parseShadow = (text) => {
    const colour = parseColour(text);
    const lengths = text
      .replace(/rgba?\([^)]*\)/, "")
      .replace("inset", "")
      .trim()
      .split(/\s+/)
      .map(parseFloat);
    const [x = 0, y = 0, blur = 0, spread = 0] = lengths;
    const shows = colour && colour.a > 0 && (x !== 0 || y !== 0 || blur > 0 || spread > 0);
    return { colour, inset: /\binset\b/.test(text), shows };
  };

  // Every part of the look that changed with focus, each with its contrast against the
  // colour it sits on: outside the box (outline, shadow, border, a new background) the colour
  // behind the element; inside it (an inset shadow, an outline drawn inwards) its own fill.
  const indicatorParts = (box, off, on) => {
    const base = box.pseudo
      ? over(parseColour(getComputedStyle(box.node).backgroundColor) || CLEAR, behind(box.node))
      : behind(box.node);
    const inside = over(parseColour(on.backgroundColor) || CLEAR, base);
    const parts = [];
    const add = (what, colourText, against, alsoAgainst = null) => {
      const colour = parseColour(colourText);
      if (!colour || colour.a === 0) return;
      const ratio = Math.max(
        contrast(over(colour, against), against),
        alsoAgainst ? contrast(over(colour, alsoAgainst), alsoAgainst) : 0,
      );
      parts.push({ what, colour: colourText, ratio });
    };
    // An outline drawn on the box's edge also touches its border: GOV.UK's yellow ring around
    // the black (or red, for an error summary) edge stands out against that edge.
    const border = SIDES.map((side) => ({
      width: parseFloat(on[`border${side}Width`]),
      colour: parseColour(on[`border${side}Color`]),
    })).find((edge) => edge.width >= 1 && edge.colour && edge.colour.a > 0);
    const outlineChanged = ["outlineStyle", "outlineWidth", "outlineColor"].some(
      (key) => on[key] !== off[key],
    );
    if (on.outlineStyle !== "none" && parseFloat(on.outlineWidth) > 0 && outlineChanged) {
      const offset = parseFloat(on.outlineOffset) || 0;
      const edge = offset === 0 && border ? over(border.colour, base) : null;
      add("outline", on.outlineColor, offset < 0 ? inside : base, edge);
    }
    const shadowsBefore = new Set(splitList(off.boxShadow));
    for (const text of splitList(on.boxShadow)) {
      const shadow = parseShadow(text);
      if (!shadowsBefore.has(text) && shadow.shows) {
        add(shadow.inset ? "inset shadow" : "shadow", text, shadow.inset ? inside : base);
      }
    }
    if (on.backgroundColor !== off.backgroundColor) add("background", on.backgroundColor, base);
    for (const side of SIDES) {
      const width = `border${side}Width`;
      const colour = `border${side}Color`;
      if ((on[width] !== off[width] || on[colour] !== off[colour]) && parseFloat(on[width]) >= 1) {
        add(`${side.toLowerCase()} border`, on[colour], base);
      }
    }
    // A control that is hidden until focused (a skip link): its appearing is the indicator,
    // and its text is what must stand out from its own fill.
    if (off.size && (off.size[0] <= 1 || off.size[1] <= 1) && on.size[0] > 1 && on.size[1] > 1) {
      add("the control appearing", on.color, inside);
    }
    return parts;
  };

  // How `element` shows focus: its look unfocused, then focused (focus is left on it).
  const measureFocus = (element) => {
    const boxes = focusBoxes(element);
    const tabindex = element.getAttribute("tabindex");
    if (document.activeElement === element) element.blur();
    const off = boxes.map(look);
    // GOV.UK Frontend makes an error summary or banner focusable until it loses focus.
    if (tabindex !== null && element.getAttribute("tabindex") === null) {
      element.setAttribute("tabindex", tabindex);
      element.addEventListener("blur", () => element.removeAttribute("tabindex"), { once: true });
    }
    element.focus({ preventScroll: true });
    const focused = document.activeElement === element;
    const on = boxes.map(look);
    const parts = boxes.flatMap((box, index) => indicatorParts(box, off[index], on[index]));
    const best = parts.reduce((most, part) => Math.max(most, part.ratio), 0);
    return { focused, parts, best };
  };
  const explainParts = (parts) =>
    parts.map((part) => `${part.what} ${part.colour} at ${part.ratio.toFixed(2)}:1`).join("; ");

  // Focus and scroll, kept and put back ----------------------------------------------------
  const keepFocus = () => {
    const element = document.activeElement;
    return {
      element,
      tabindex: element ? element.getAttribute("tabindex") : null,
      scroll: [window.scrollX, window.scrollY],
    };
  };
  const putBack = (kept) => {
    const { element, tabindex } = kept;
    if (element && element !== document.body && element.isConnected) {
      // GOV.UK Frontend makes an error summary or banner focusable only until it loses focus.
      if (tabindex !== null && element.getAttribute("tabindex") === null) {
        element.setAttribute("tabindex", tabindex);
        element.addEventListener("blur", () => element.removeAttribute("tabindex"), {
          once: true,
        });
      }
      element.focus({ preventScroll: true });
    } else {
      // Nothing had focus: Tab must start from the top of the page again, as it would have.
      const body = document.body;
      const had = body.getAttribute("tabindex");
      body.setAttribute("tabindex", "-1");
      body.focus({ preventScroll: true });
      body.blur();
      if (had === null) body.removeAttribute("tabindex");
      else body.setAttribute("tabindex", had);
    }
    window.scrollTo(kept.scroll[0], kept.scroll[1]);
  };

  // Horizontal room ----------------------------------------------------------------------
  // The part of an element's width that can be seen without scrolling anything sideways.
  const visibleSpan = (element) => {
    const rect = element.getBoundingClientRect();
    let left = Math.max(rect.left, 0);
    let right = Math.min(rect.right, window.innerWidth);
    for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== "visible") {
        const clip = node.getBoundingClientRect();
        left = Math.max(left, clip.left + node.clientLeft);
        right = Math.min(right, clip.left + node.clientLeft + node.clientWidth);
      }
    }
    return { width: Math.max(0, right - left), whole: rect.width };
  };
  const insideScrollRegion = (element) => {
    for (let node = element.parentElement; node && node !== document.body; node = node.parentElement) {
      if (getComputedStyle(node).overflowX !== "visible") return true;
    }
    return false;
  };

  // The checks -----------------------------------------------------------------------------
  const problems = {};
  const report = (kind, message) => {
    problems[kind] = problems[kind] || [];
    if (problems[kind].length < MAX_PER_KIND) problems[kind].push(message);
  };

  const checkFieldsets = () => {
    for (const fieldset of document.querySelectorAll("fieldset")) {
      const legend = fieldset.querySelector(":scope > legend");
      const text = words(legend ? legend.textContent : "");
      if (!text) {
        report("fieldset", `a fieldset has no legend text: ${fieldset.outerHTML.slice(0, 160)}`);
        continue;
      }
      if (rendered(fieldset)) {
        const box = legend.getBoundingClientRect();
        if (!rendered(legend) || box.width <= 1 || box.height <= 1) {
          report("fieldset", `the legend "${text}" is in the page but cannot be seen`);
        }
      }
    }
    const groups = new Map();
    for (const input of document.querySelectorAll("input[type=radio], input[type=checkbox]")) {
      const key = `${input.type} ${[...document.forms].indexOf(input.form)} ${input.name}`;
      groups.set(key, [...(groups.get(key) || []), input]);
    }
    for (const inputs of groups.values()) {
      // One checkbox on its own answers a question with its label; a group needs a question.
      if (inputs[0].type === "checkbox" && inputs.length === 1) continue;
      const outside = inputs.find((input) => {
        const fieldset = input.closest("fieldset");
        const legend = fieldset && fieldset.querySelector(":scope > legend");
        return !words(legend ? legend.textContent : "");
      });
      if (outside) {
        report(
          "fieldset",
          `the ${inputs[0].type} group "${inputs[0].name}" is not in a fieldset with a legend`,
        );
      }
    }
  };

  const checkWidth = () => {
    const width = window.innerWidth;
    const pageWidth = document.documentElement.scrollWidth;
    if (pageWidth > width) {
      // The outermost elements that stick out (one placed absolutely may escape the region
      // it is written in, as a visually hidden span in a link can).
      const wide = [...document.body.querySelectorAll("*")].filter((element) => {
        if (element.getBoundingClientRect().right <= width + 0.5) return false;
        if (["absolute", "fixed"].includes(getComputedStyle(element).position)) return true;
        const parent = element.parentElement.getBoundingClientRect().right;
        return parent <= width + 0.5 && !insideScrollRegion(element);
      });
      report(
        "sideways",
        `the page is ${pageWidth}px wide in a ${width}px window; too wide: ` +
          (wide.slice(0, 5).map(describe).join(", ") || "(no single element)"),
      );
    }
    for (const control of document.querySelectorAll(CONTROLS)) {
      if (!rendered(control)) continue;
      const span = visibleSpan(control);
      const cut = span.width < span.whole - 0.5;
      if (span.width < MIN_CONTROL_WIDTH || cut) {
        // A control partly out of sight, in a region that scrolls sideways, is cut off too:
        // nobody should have to scroll a table to read or reach a button.
        report(
          "narrow",
          `${describe(control)} is ${Math.round(span.width)}px wide where it can be seen` +
            (cut ? ` (of ${Math.round(span.whole)}px: cut off by a region that scrolls)` : "") +
            `; controls need ${MIN_CONTROL_WIDTH}px, all in sight`,
        );
      }
    }
  };

  const checkErrorLinks = () => {
    const links = document.querySelectorAll(".govuk-error-summary a[href^='#']");
    if (!links.length) return;
    const kept = keepFocus();
    for (const link of links) {
      const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      let handled = false;
      // Follow the link as GOV.UK Frontend's error summary does, but never navigate: if no
      // script handled the click, the browser would focus the target itself, if it can.
      const stop = (event) => {
        handled = event.defaultPrevented;
        event.preventDefault();
      };
      window.addEventListener("click", stop);
      link.focus({ preventScroll: true });
      link.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
      window.removeEventListener("click", stop);
      let landed = document.activeElement;
      if (!handled && target && target.tabIndex >= -1 && target.matches(FOCUSABLE)) {
        landed = target;
      }
      const onControl = landed && landed.matches(FORM_CONTROLS) && rendered(landed);
      // A problem with the whole form may point at the part of the page it is about.
      const onRegion =
        landed === target && target.getAttribute("tabindex") === "-1" &&
        target.querySelector(FORM_CONTROLS) !== null;
      if (!onControl && !onRegion) {
        report(
          "error-link",
          `the error link "${words(link.textContent)}" (${link.getAttribute("href")}) puts the focus on ${describe(landed)}, not on a form control`,
        );
      }
    }
    putBack(kept);
  };

  const checkFocusIndicators = () => {
    const kept = keepFocus();
    if (document.activeElement) document.activeElement.blur();
    const seen = new Set();
    for (const element of document.querySelectorAll(FOCUSABLE)) {
      if (element.tabIndex < 0 || element.disabled || !rendered(element) || element.closest("[inert]")) {
        continue;
      }
      const result = measureFocus(element);
      element.blur();
      if (!result.focused) continue;
      let problem = null;
      if (!result.parts.length) problem = "shows no focus at all";
      else if (result.best < MIN_CONTRAST) {
        problem = `shows focus at ${result.best.toFixed(2)}:1 at best (${explainParts(result.parts)}); it needs ${MIN_CONTRAST}:1`;
      }
      const key = `${element.tagName} ${element.className} ${problem}`;
      if (problem && !seen.has(key)) {
        seen.add(key);
        report("focus", `${describe(element)} ${problem}`);
      }
    }
    putBack(kept);
  };

  // The page's text, without what a visit adds (banners, errors) or what typing changes.
  const fingerprint = () => {
    const main = document.querySelector("main") || document.body;
    const copy = main.cloneNode(true);
    for (const extra of copy.querySelectorAll(
      ".govuk-notification-banner, .govuk-error-summary, .govuk-error-message, script, template",
    )) {
      extra.remove();
    }
    return words(copy.textContent);
  };

  // What axe-core's result on this document depends on, as one text, hashed: the document as
  // serialised (CSRF token values left out: a hidden input, different on every page load),
  // what the serialisation leaves out (the values typed or chosen, the focused and hovered
  // element, the fragment that :target matches, every scroll offset) and the window's size.
  // Stylesheets and scripts come from the live server's static files, the same all run.
  const identity = () => {
    const where = (element) => {
      const steps = [];
      for (let node = element; node && node.parentElement; node = node.parentElement) {
        steps.push(Array.prototype.indexOf.call(node.parentElement.children, node));
      }
      return steps.reverse().join(".");
    };
    const html = document.documentElement.outerHTML.replace(/<input\b[^>]*>/g, (tag) =>
      /\bname="csrf_token"/.test(tag) ? tag.replace(/\bvalue="[^"]*"/, 'value=""') : tag,
    );
    const state = [];
    for (const control of document.querySelectorAll("input:not([type=hidden]), textarea, select")) {
      state.push(
        control.tagName === "SELECT"
          ? [...control.options].map((option) => (option.selected ? 1 : 0)).join("")
          : `${control.value}|${control.checked}|${control.indeterminate}`,
      );
    }
    for (const element of document.querySelectorAll("*")) {
      if (element.scrollTop || element.scrollLeft) {
        state.push(`scroll ${where(element)} ${element.scrollLeft},${element.scrollTop}`);
      }
    }
    const active = document.activeElement;
    const hovered = [...document.querySelectorAll(":hover")].pop();
    state.push(
      `focus ${active ? where(active) : ""} ${active && active.matches(":focus-visible")}`,
      `hover ${hovered ? where(hovered) : ""}`,
      `hash ${location.hash}`,
      `window ${innerWidth}x${innerHeight}@${devicePixelRatio} ${scrollX},${scrollY}`,
    );
    const text = `${document.doctype ? document.doctype.name : ""}\n${html}\n${state.join("\n")}`;
    const bytes = new TextEncoder().encode(text);
    if (!(window.crypto && crypto.subtle)) return Promise.resolve(text);
    return crypto.subtle.digest("SHA-256", bytes).then((digest) =>
      [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join(""),
    );
  };

  if (task === "identity") return identity();

  if (task === "focused") {
    const element = document.activeElement;
    if (!element || element === document.body || element === document.documentElement) {
      return null;
    }
    const result = measureFocus(element);
    const box = element.getBoundingClientRect();
    const label = element.labels && element.labels.length ? element.labels[0].innerText : "";
    return {
      name: words(element.getAttribute("aria-label") || label || element.innerText || element.value),
      html: element.outerHTML.slice(0, 200),
      visible: result.parts.length > 0,
      best: result.best,
      parts: explainParts(result.parts),
      onScreen:
        box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0 &&
        box.top < window.innerHeight && box.left < window.innerWidth,
    };
  }

  checkFieldsets();
  checkWidth();
  checkErrorLinks();
  checkFocusIndicators();
  // Whose pages these are: the service navigation differs by role and by being signed in.
  const navigation = document.querySelector(".govuk-service-navigation");
  return {
    problems,
    title: document.title,
    content: fingerprint(),
    audience: words(navigation ? navigation.textContent : ""),
  };
}
