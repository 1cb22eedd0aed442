// The form's input images and mask: a file chooser for each (a drop target too), and a preview of
// each file chosen with a button that removes it. A file goes to the kernel as a binary buffer of
// a message (``add_input``, ``set_mask``); the ``inputs`` and ``mask`` traits bring back only names
// and thumbnails, so the files are never re-sent nor saved in the notebook.
import { inputsNote, maskView, uploadProblem } from "./controls.js";
import { h } from "./dom.js";

const MAX_UPLOAD_BYTES = 9 * 1024 * 1024; // the server caps a websocket message at 10 MB

/** A thumbnail (``{name, thumb, thumb_mime}``) with its remove button. */
function preview(item, label, onRemove) {
  const url = URL.createObjectURL(new Blob([item.thumb], { type: item.thumb_mime }));
  return h(
    "span",
    { class: "jig-input" },
    h("img", { src: url, alt: `${label}${item.name}`, title: item.name, onload: () => URL.revokeObjectURL(url) }),
    h("button", {
      class: "jig-icon",
      title: "Remove",
      "aria-label": `Remove ${label}${item.name}`,
      text: "×",
      onclick: onRemove,
    }),
  );
}

export function createInputs({ model, send, setState, uid }) {
  const fileInput = h("input", { type: "file", accept: "image/*", multiple: true, class: "jig-file" });
  const inputsList = h("div", { class: "jig-inputs-list" });
  const note = h("span", { class: "jig-note" });
  const maskInput = h("input", {
    type: "file",
    accept: "image/*",
    class: "jig-mask-file",
    "aria-describedby": `${uid}-mask-note`,
  });
  // Not "jig-note": that names the input images' note, which stays the only one in this row.
  const maskNote = h("span", { class: "jig-mask-note", id: `${uid}-mask-note` });
  const maskShown = h("div", { class: "jig-inputs-list jig-mask-list" });
  const maskBox = h("div", { class: "jig-mask" }, h("label", { class: "jig-upload" }, "Mask ", maskInput), maskNote, maskShown);

  const upload = async (input, type, pythonHint) => {
    for (const file of [...input.files]) {
      const problem = uploadProblem(file, MAX_UPLOAD_BYTES, pythonHint);
      if (problem) setState({ error: problem });
      else send({ type, name: file.name }, [await file.arrayBuffer()]);
    }
    input.value = "";
  };
  fileInput.addEventListener("change", () => upload(fileInput, "add_input", "images=[path]"));
  maskInput.addEventListener("change", () => upload(maskInput, "set_mask", "mask=path"));

  function showModel() {
    const info = model.get("model_info") ?? {};
    note.textContent = inputsNote(info);
    const view = maskView(info);
    maskBox.hidden = view.hidden;
    maskInput.disabled = view.disabled;
    maskNote.textContent = view.note;
  }

  function showInputs() {
    const items = model.get("inputs") ?? [];
    inputsList.replaceChildren(...items.map((item, index) => preview(item, "", () => send({ type: "remove_input", index }))));
  }

  function showMask() {
    const mask = model.get("mask") ?? {};
    maskShown.replaceChildren(...(mask.name ? [preview(mask, "the mask ", () => send({ type: "remove_mask" }))] : []));
  }

  const nodes = [
    h("div", { class: "jig-inputs" }, h("label", { class: "jig-upload" }, "Input images ", fileInput), note, inputsList, maskBox),
  ];
  return { nodes, views: { model_info: showModel, inputs: showInputs, mask: showMask } };
}
