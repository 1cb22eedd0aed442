"""SVG answers are recognised, measured and checked without parsing XML (client/_svg.py)."""

from __future__ import annotations

import pytest

from jupyter_imagegen.client._imagebytes import sniff_mime, verify_image
from jupyter_imagegen.client._svg import with_comment

SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect/></svg>\n'
)


def test_an_svg_is_recognised_and_measured() -> None:
    assert sniff_mime(SVG) == "image/svg+xml"
    assert verify_image(SVG) == ("image/svg+xml", 300, 200)
    boxed = b'<svg viewBox="0 0 64 32" xmlns="http://www.w3.org/2000/svg"></svg>'
    assert verify_image(boxed) == ("image/svg+xml", 64, 32)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>', "DTD or entities"),
        (SVG[:60], "cut short"),
    ],
)
def test_an_svg_with_a_dtd_or_cut_short_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        verify_image(data)


def test_provenance_goes_in_a_comment_that_never_holds_a_double_hyphen() -> None:
    marked = with_comment(SVG, 'jupyter_imagegen {"prompt": "a -- b"}')
    comment = marked[marked.index(b"<!--") + 4 : marked.index(b"-->")]
    assert b"--" not in comment and marked.endswith(SVG[SVG.index(b"<svg") :])
