// One model parameter's control in the form, as DOM: the widget for each kind that controls.js
// describes (toggles, dropdown, checkbox, slider, number or text box), its label and the button
// that goes back to the model's default. Changes go to ``setParam(name, value)``; null clears.
import { shownValue } from "./controls.js";
import { h } from "./dom.js";
import { asText } from "./text.js";

/** A number box's value, or null when it is empty (the model default). */
export function numberOrNull(input) {
  return input.value === "" ? null : input.valueAsNumber;
}

/** The form's row for ``control``: label, widget showing ``params``' value, reset button. */
export function controlRow(control, params, uid, setParam) {
  const id = `${uid}-${control.name}`;
  const isSet = params[control.name] !== undefined && params[control.name] !== null;
  const reset = isSet
    ? h("button", {
        class: "jig-icon jig-reset",
        title: "Use the model's default",
        "aria-label": `Use the model's default ${control.label.toLowerCase()}`,
        text: "↺",
        onclick: () => setParam(control.name, null),
      })
    : h("span"); // keeps the grid's third column in every row
  return h(
    "div",
    { class: "jig-control", dataset: { param: control.name, kind: control.kind } },
    h("label", {
      for: id,
      id: `${id}-label`,
      title: control.help,
      text: control.label,
    }),
    controlWidget(control, shownValue(control, params), isSet, id, setParam),
    reset,
  );
}

/** The input for ``control`` with element id ``id``, showing ``value`` (set by the user when ``isSet``). */
function controlWidget(control, value, isSet, id, setParam) {
  switch (control.kind) {
    case "toggle":
      return h(
        "span",
        { class: "jig-toggles", role: "group", id, "aria-labelledby": `${id}-label` },
        control.options.map((option, i) => {
          const on = isSet && value === option;
          return h("button", {
            class: `jig-toggle${on ? " jig-on" : ""}`,
            text: control.labels[i],
            "aria-pressed": String(on),
            onclick: () => setParam(control.name, on ? null : option),
          });
        }),
      );
    case "select": {
      // Options are told apart by position: a value need not be text (or even printable).
      const select = h(
        "select",
        {
          id,
          onchange: (e) => setParam(control.name, e.target.value === "" ? null : control.options[Number(e.target.value)]),
        },
        h("option", { value: "", text: "(model default)" }),
        control.options.map((o, i) => h("option", { value: String(i), text: control.labels[i] })),
      );
      const chosen = isSet ? control.options.indexOf(value) : -1;
      select.value = chosen >= 0 ? String(chosen) : "";
      return select;
    }
    case "checkbox": {
      const box = h("input", { id, type: "checkbox", onchange: (e) => setParam(control.name, e.target.checked) });
      box.checked = Boolean(value);
      return box;
    }
    case "slider": {
      const shown = h("output", { class: "jig-slider-value", text: isSet ? asText(value) : "default" });
      const slider = h("input", {
        id,
        type: "range",
        min: control.min,
        max: control.max,
        step: control.step,
        oninput: (e) => (shown.textContent = e.target.value),
        onchange: (e) => setParam(control.name, e.target.valueAsNumber),
      });
      slider.value = asText(value);
      return h("span", { class: "jig-slider" }, slider, shown);
    }
    case "number": {
      const box = h("input", {
        id,
        type: "number",
        step: control.step,
        min: control.min ?? undefined,
        max: control.max ?? undefined,
        placeholder: control.default !== null ? asText(control.default) : "default",
        onchange: (e) => setParam(control.name, numberOrNull(e.target)),
      });
      box.value = isSet ? asText(value) : "";
      return box;
    }
    default: {
      const box = h("input", {
        id,
        type: "text",
        placeholder: asText(control.default),
        onchange: (e) => setParam(control.name, e.target.value),
      });
      box.value = isSet ? asText(value) : "";
      return box;
    }
  }
}
