"""What a batch can read: lists, dicts, CSV/TSV/JSONL/text files, DataFrames; every bad row named
at once, before anything is sent. Then one CSV end to end: what the server received."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen import ValidationError, batch
from jupyter_imagegen.batches._inputs import BatchItem, load_items
from jupyter_imagegen.client._base_client import BaseClient
from jupyter_imagegen.emulator import Emulator

LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"


def load(source: Any, n: int = 1, **common: Any) -> list[BatchItem]:
    return load_items(source, BaseClient(), common, n)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def summary(items: list[BatchItem]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return [(i.request.prompt, i.request.model, dict(i.request.params), i.extra) for i in items]


def test_a_csv_with_parameters_a_label_a_bom_and_blank_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "prompts.csv",
        'Prompt,quality,size,label\n"a fox, in snow",low,256x256,fox\n\na heron,,512x512,bird\n',
        encoding="utf-8-sig",
    )
    items = load(path)
    assert summary(items) == [
        ("a fox, in snow", "openai/gpt-image-1.5", {"quality": "low", "size": "256x256"}, {"label": "fox"}),
        ("a heron", "openai/gpt-image-1.5", {"size": "512x512"}, {"label": "bird"}),
    ]
    assert [i.index for i in items] == [0, 1] and items[0].stem == "00000-a-fox-in-snow"


def test_csv_text_becomes_the_schema_type_per_row_model(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", f"prompt,model,num_steps,guidance,seed\na boat,{LIGHTNING},4,7.5,42\n")
    (item,) = load(path)
    assert item.request.model == LIGHTNING
    assert dict(item.request.params) == {"num_steps": 4, "guidance": 7.5, "seed": 42}


@pytest.mark.parametrize(
    ("name", "text"), [("p.csv", "prompt;size\na cat;256x256\n"), ("p.tsv", "prompt\tsize\na cat\t256x256\n")]
)
def test_semicolon_csv_and_tsv(tmp_path: Path, name: str, text: str) -> None:
    assert summary(load(write(tmp_path, name, text))) == [
        ("a cat", "openai/gpt-image-1.5", {"size": "256x256"}, {})
    ]


def test_common_parameters_apply_and_a_row_column_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "prompt,quality\na cat,high\na dog,\n")
    assert [dict(i.request.params) for i in load(path, quality="low", size="256x256")] == [
        {"quality": "high", "size": "256x256"},
        {"quality": "low", "size": "256x256"},
    ]


def test_jsonl_keeps_types_and_takes_bare_strings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.jsonl",
        f'{{"prompt": "a boat", "model": "{LIGHTNING}", "num_steps": 4, "id": 7}}\n\n"just a prompt"\n',
    )
    assert summary(load(path)) == [
        ("a boat", LIGHTNING, {"num_steps": 4}, {"id": 7}),
        ("just a prompt", "openai/gpt-image-1.5", {}, {}),
    ]


def test_a_text_file_is_one_prompt_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "p.txt", "a cat\n\n  a dog  \n")
    assert [i.request.prompt for i in load(str(path))] == ["a cat", "a dog"]


def test_an_images_column_names_an_input_image_file(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (8, 8), "red").save(tmp_path / "in.png")
    path = write(tmp_path, "edits.csv", f"prompt,images\nmake it blue,{tmp_path / 'in.png'}\n")
    (item,) = load(path)
    assert len(item.request.images) == 1 and item.request.images[0] == (tmp_path / "in.png").read_bytes()
    assert item.request.image_hashes and item.extra == {}


def test_dicts_with_numpy_values_and_variations() -> None:
    np = pytest.importorskip("numpy")
    rows = [{"prompt": "a boat", "model": LIGHTNING, "num_steps": np.int64(4), "score": np.float64(0.5)}]
    items = load(rows, n=3)
    assert [(i.index, i.request.variation) for i in items] == [(0, 0), (1, 1), (2, 2)]
    assert items[0].request.params["num_steps"] == 4 and type(items[0].request.params["num_steps"]) is int
    assert items[0].extra == {"score": 0.5}
    assert len({i.request.cache_key for i in items}) == 3 and len({i.stem for i in items}) == 3


def test_a_pandas_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"prompt": ["a cat", "a dog"], "size": ["256x256", None], "label": ["c", "d"]})
    assert summary(load(frame)) == [
        ("a cat", "openai/gpt-image-1.5", {"size": "256x256"}, {"label": "c"}),
        ("a dog", "openai/gpt-image-1.5", {}, {"label": "d"}),
    ]


def test_the_same_input_gives_the_same_identity_every_time(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "prompt,quality\na cat,low\na dog,high\n")
    first, second = load(path), load(path)
    assert [(i.index, i.request.cache_key, i.stem) for i in first] == [
        (i.index, i.request.cache_key, i.stem) for i in second
    ]


def test_every_bad_row_is_named_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path, "p.csv", "prompt,quality,size\na cat,low,256x256\n,low,\na dog,best,\na cow,,99x99\n"
    )
    with pytest.raises(ValidationError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith("3 input row(s) are invalid; nothing was sent.")
    assert "line 3 of p.csv: the prompt is missing" in message
    assert "line 4 of p.csv" in message and "'best' is not allowed" in message
    assert "line 5 of p.csv" in message and "'99x99'" in message


def test_a_misspelled_parameter_column_is_an_error_not_a_note(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "prompt,qualty\na cat,low\n")
    with pytest.raises(
        ValidationError, match=r"'qualty' is not a parameter of openai/gpt-image-1\.5; did you mean 'quality'"
    ):
        load(path)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("p.csv", "text,size\na cat,256x256\n", "p.csv has no 'prompt' column (columns: 'text', 'size')"),
        ("p.csv", "prompt\na cat,extra\n", "line 2 of p.csv has 2 cells but the header names 1"),
        ("p.jsonl", '{"prompt": "a cat"}\n{not json\n', "line 2 of p.jsonl is not valid JSON"),
        ("p.jsonl", "[1, 2]\n", "line 1 of p.jsonl: expected a JSON object"),
        ("p.csv", "prompt\n", "The batch is empty"),
    ],
)
def test_file_problems_are_one_clear_line(tmp_path: Path, name: str, text: str, expected: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(expected)):
        load(write(tmp_path, name, text))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("name", ["prompts.csv", "prompts.txt", "prompts.jsonl"])
def test_files_with_a_byte_order_mark_are_read(tmp_path: Path, encoding: str, name: str) -> None:
    text = {
        "prompts.csv": "prompt,label\ncafé crème,été\n",
        "prompts.txt": "café crème\n",
        "prompts.jsonl": '{"prompt": "café crème"}\n',
    }[name]
    path = tmp_path / name
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    path.write_bytes(bom + text.encode(encoding))
    assert [item.request.prompt for item in load(path)] == ["café crème"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            "prompt\na fox\ncafé crème\n".encode("latin-1"),
            r"^line 3 of in\.csv is not UTF-8 text; save it as UTF-8",
        ),
        (
            "prompt\na fox\n".encode("utf-16-le"),
            r"^line 1 of in\.csv holds NUL bytes \(UTF-16 without a byte-order mark\?\)",
        ),
        (
            b'prompt\na fox\n"' + b"x" * (128 * 1024 + 1) + b'"\n',
            r"^line 3 of in\.csv cannot be read as CSV: field larger than field limit",
        ),
        (
            b"prompt\n" + b"y" * (128 * 1024 + 1) + b"\n",
            r"^line 2 of in\.csv cannot be read as CSV: .*at most 128 KB",
        ),
    ],
    ids=["latin-1", "utf-16-without-bom", "quoted-field-over-128k", "field-over-128k"],
)
def test_unreadable_files_are_one_line_naming_file_and_line(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    with pytest.raises(ValidationError, match=expected) as info:
        load(path)
    assert "\n" not in str(info.value)


def test_sources_that_are_not_batches(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"Cannot read .*missing\.csv"):
        load(str(tmp_path / "missing.csv"))
    with pytest.raises(ValidationError, match=r"use a \.csv, \.tsv, \.jsonl or \.txt file"):
        load(tmp_path / "prompts.xlsx")
    with pytest.raises(ValidationError, match=r"got a single str .*for one image use generate"):
        load("a red fox in the snow")
    with pytest.raises(ValidationError, match="item 1: expected a prompt or a dict, got int"):
        load(["a cat", 3])
    with pytest.raises(ValidationError, match="n \\(images per prompt\\)"):
        load(["a cat"], n=0)


def test_a_csv_batch_sends_parameters_and_not_notes(emulator_env: Emulator, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.csv",
        f"prompt,model,num_steps,width,height,size,label\n"
        f"a boat,{LIGHTNING},4,256,256,,boat\n"
        "a cat,,,,,256x256,cat\n",
    )
    result = batch(path, tmp_path / "out", rpm=60_000, progress=False, concurrency=1)
    assert result.ok
    bodies = {r.path.rsplit("/", 1)[-1]: r.json for r in emulator_env.requests}
    assert isinstance(bodies["stable-diffusion-xl-lightning"].pop("seed"), int)  # picked by the client
    assert bodies["stable-diffusion-xl-lightning"] == {
        "prompt": "a boat",
        "num_steps": 4,
        "width": 256,
        "height": 256,
    }
    assert bodies["run"] == {"model": "openai/gpt-image-1.5", "input": {"prompt": "a cat", "size": "256x256"}}
    assert [e.extra for e in result.entries] == [{"label": "boat"}, {"label": "cat"}]


def test_a_note_column_is_checked_for_misspelling_once_not_per_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every row of a file has the same columns: the fuzzy match runs once per column, not
    # once per row.
    import difflib

    calls: list[str] = []
    real = difflib.get_close_matches

    def counted(word: str, *args: Any, **kwargs: Any) -> list[str]:
        calls.append(word)
        return real(word, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counted)
    rows = "".join(f"a heron {i},shelf-{i}\n" for i in range(50))
    items = load(write(tmp_path, "notes.csv", "prompt,shelf_mark\n" + rows))
    assert [i.extra for i in items] == [{"shelf_mark": f"shelf-{i}"} for i in range(50)]
    assert calls.count("shelf_mark") <= 1
    with pytest.raises(ValidationError, match="did you mean 'quality'"):
        load(write(tmp_path, "typo.csv", "prompt,qualty\na fox,low\n"))
