// The form half of the panel: prompt, model picker, controls built from the model's schema,
// input images and mask (./inputs.js), the collapsed Advanced section, and Generate / Cancel with the reason Generate
// is disabled. Every user action becomes a trait change or a message; the kernel validates.
import { clampVariations, controlsFor, setParam as withParam, validityView, variationsNote } from "./controls.js";
import { canTick, setCompared, toggleCompared } from "./compare.js";
import { h } from "./dom.js";
import { createInputs } from "./inputs.js";
import { summarizeJobs } from "./jobs.js";
import { compareBox, compareChoices, controlRow, numberOrNull } from "./widgets.js";

const GATEWAY_FIELDS = [
  ["gateway_id", "Gateway id", "text"],
  ["skip_cache", "Skip the gateway cache", "checkbox"],
  ["cache_ttl", "Gateway cache TTL (s)", "number"],
  ["cache_key", "Gateway cache key", "text"],
  ["request_timeout_ms", "Request timeout (ms)", "number"],
];

export function createForm({ model, list, send, setState, uid }) {
  const prompt = h("textarea", {
    class: "jig-prompt",
    rows: 3,
    placeholder: "Describe the image… (Ctrl+Enter or ⌘+Enter to generate, Escape to cancel)",
    "aria-label": "Prompt",
  });
  const modelSelect = h("select", { class: "jig-model", "aria-label": "Model" });
  const variations = h("input", {
    class: "jig-variations",
    type: "number",
    min: 1,
    max: maxVariations(model),
    step: 1,
    "aria-label": "Variations",
  });
  const controls = h("div", { class: "jig-controls" });
  const inputs = createInputs({ model, send, setState, uid });
  const advanced = h("details", { class: "jig-advanced" }, h("summary", { text: "Advanced" }));
  const generate = h("button", { class: "jig-generate jig-primary", text: "Generate" });
  const cancel = h("button", { class: "jig-cancel", text: "Cancel", disabled: true });
  const reason = h("span", { class: "jig-reason", "aria-live": "polite" });

  // The message carries the text on screen: a fast typist's last keystrokes may still be in a
  // state update the widget manager holds back while the previous one is in flight.
  const requestGeneration = () => {
    setState({ prompt: prompt.value });
    send({ type: "generate", prompt: prompt.value });
  };
  prompt.addEventListener("input", () => setState({ prompt: prompt.value }));
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
      requestGeneration();
    }
  });
  modelSelect.addEventListener("change", () => setState({ model: modelSelect.value }));
  const variationsSaid = h("span", { class: "jig-note jig-variations-note", "aria-live": "polite" });
  variations.addEventListener("change", () => {
    const max = maxVariations(model);
    variationsSaid.textContent = variationsNote(variations.value, max, model.get("limits")?.max_images ?? max);
    const n = clampVariations(variations.value, max);
    variations.value = String(n);
    setState({ variations: n });
  });
  generate.addEventListener("click", requestGeneration);
  cancel.addEventListener("click", () => send({ type: "cancel" }));

  // --- parameter controls ----------------------------------------------------------------
  const setParam = (name, value) => setState({ params: withParam(model.get("params"), name, value) });
  // The "compare" choice of an option: its values in the ``compare`` trait, which the kernel checks.
  const compareFor = (name, options, current) => {
    const compare = model.get("compare") ?? {};
    return {
      values: compare[name],
      set: (on) => setState({ compare: setCompared(model.get("compare"), name, on, current) }),
      tick: (value) => setState({ compare: toggleCompared(model.get("compare"), name, value, options) }),
      canTick: (value) => canTick(compare, name, value),
    };
  };

  function showControls() {
    const info = model.get("model_info") ?? {};
    const params = model.get("params") ?? {};
    const rows = controlsFor(info.parameters, info.required).map((control) => {
      try {
        return controlRow(control, params, uid, setParam, compareFor(control.name, control.options, params[control.name]));
      } catch {
        // One control that cannot be drawn says so in its row; the others are still shown.
        return h("div", { class: "jig-control", text: `${control.label}: cannot be shown (left to the model's default)` });
      }
    });
    // Rebuilding replaces the inputs; keep the keyboard focus where the user left it.
    const focused = controls.contains(document.activeElement) ? document.activeElement.id : null;
    controls.replaceChildren(...rows);
    if (focused) document.getElementById(focused)?.focus();
  }

  // --- Advanced: gateway options and the local cache -------------------------------------
  const gatewayInputs = new Map();
  for (const [name, label, kind] of GATEWAY_FIELDS) {
    const input = h("input", {
      type: kind,
      dataset: { gateway: name },
      onchange: (e) => {
        const value =
          kind === "checkbox" ? e.target.checked : kind === "number" ? numberOrNull(e.target) : e.target.value;
        setState({ gateway: { ...(model.get("gateway") ?? {}), [name]: value } });
      },
    });
    gatewayInputs.set(name, input);
    advanced.append(h("label", { class: "jig-field" }, h("span", { text: label }), input));
  }
  const useCache = h("input", {
    type: "checkbox",
    class: "jig-use-cache",
    onchange: (e) => setState({ use_cache: e.target.checked }),
  });
  advanced.append(
    h("label", { class: "jig-field" }, h("span", { text: "Reuse images from the local cache" }), useCache),
  );

  function showAdvanced() {
    const gateway = model.get("gateway") ?? {};
    for (const [name, input] of gatewayInputs) {
      const value = gateway[name];
      if (input.type === "checkbox") input.checked = Boolean(value);
      else input.value = value === null || value === undefined ? "" : String(value);
    }
    useCache.checked = Boolean(model.get("use_cache"));
  }

  // --- simple fields ---------------------------------------------------------------------
  function showPrompt() {
    const value = model.get("prompt") ?? "";
    if (prompt.value !== value) prompt.value = value;
  }

  const modelSlot = h("span", { class: "jig-compare-wrap" });
  function showModels() {
    const current = model.get("model");
    const ids = [...(model.get("models") ?? [])];
    if (current && !ids.includes(current)) ids.push(current);
    modelSelect.replaceChildren(...ids.map((id) => h("option", { value: id, text: id })));
    modelSelect.value = current;
    const compare = compareFor("model", ids, current);
    modelSlot.replaceChildren(
      compare.values ? compareChoices(ids, ids, compare, `${uid}-model-label`) : modelSelect,
      compareBox(compare, "Model", `${uid}-model-compare`),
    );
  }

  function showValidity() {
    const view = validityView(model.get("validity"));
    generate.disabled = view.disabled;
    reason.textContent = view.text;
    reason.classList.toggle("jig-invalid", view.invalid);
  }

  function showCancellable() {
    const counts = summarizeJobs(list("jobs") ?? []);
    cancel.disabled = counts.queued + counts.running === 0;
  }

  /** Escape anywhere in the panel: cancel what is queued or running; true when there was some. */
  const cancelAll = () => {
    if (cancel.disabled) return false;
    send({ type: "cancel" });
    return true;
  };

  const nodes = [
    prompt,
    h(
      "div",
      { class: "jig-row" },
      h("span", { id: `${uid}-model-label`, text: "Model" }),
      modelSlot,
      h("label", {}, "Variations ", variations),
      variationsSaid,
    ),
    controls,
    ...inputs.nodes,
    advanced,
    h("div", { class: "jig-actions" }, generate, cancel, reason),
  ];
  const views = {
    prompt: showPrompt,
    models: showModels,
    model: showModels,
    variations: () => (variations.value = String(model.get("variations") ?? 1)),
    limits: () => (variations.max = String(maxVariations(model))),
    model_info: () => {
      showControls();
      inputs.views.model_info();
    },
    params: showControls,
    compare: () => {
      showModels();
      showControls();
    },
    inputs: inputs.views.inputs,
    mask: inputs.views.mask,
    gateway: showAdvanced,
    use_cache: showAdvanced,
    validity: showValidity,
    jobs: showCancellable,
  };
  return { nodes, views, cancelAll };
}

/** The most variations one click may ask for: a limit the kernel sends (the ``limits`` trait). */
function maxVariations(model) {
  return model.get("limits")?.max_variations ?? 1;
}
