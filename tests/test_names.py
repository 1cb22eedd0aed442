"""Names say what a thing is: no two classes of the package share a name."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import jupyter_imagegen

PACKAGE = Path(jupyter_imagegen.__file__).parent


def test_no_two_classes_share_a_name() -> None:
    names = Counter(
        node.name
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    )
    assert [name for name, count in names.items() if count > 1] == []
