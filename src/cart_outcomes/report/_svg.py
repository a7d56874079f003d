"""Static SVG for inlining in HTML: what a figure may contain once it leaves matplotlib.

A figure's text (patient ids, group names, captions) is kept as escaped ``<text>`` nodes (editable in a drawing
program); matplotlib also copies some labels into XML comments. :func:`sanitize_svg` removes comments and metadata,
then checks the markup (never the text) for anything a browser would run or fetch.
"""

from __future__ import annotations

import re

from cart_outcomes.errors import InputError

__all__ = ["sanitize_svg"]

#: Elements that run code, embed documents or fetch: never allowed in a figure.
_SVG_ACTIVE_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "object", "embed", "a", "animate", "set",
                                  "animatemotion", "animatetransform", "handler", "listener"})
_SVG_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SVG_METADATA = re.compile(r"<metadata\b.*?</metadata>\s*", re.DOTALL | re.IGNORECASE)
_SVG_TAG = re.compile(r"<\s*([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?\s*>")
_SVG_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_SVG_STYLE_TEXT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)
_LOCAL_URL = re.compile(r"url\(\s*[\"']?(?!#)", re.IGNORECASE)
_LOCAL_HREF = re.compile(r"#[\w.:-]*|data:image/png;base64,[A-Za-z0-9+/=\s]*")
#: Texts recently checked (input -> clean output, and clean output -> itself): a figure's SVG passes the check
#: three times on its way into the report (serialisation, FigureBlock, HTML rendering), tens of KB each time.
_CHECKED: dict[str, str] = {}
_CHECKED_MAX = 64


def sanitize_svg(svg: str) -> str:
    """Static SVG safe to inline: comments and ``<metadata>`` removed, every element and attribute checked.

    Matplotlib copies labels into XML comments (escaped, but a browser never needs them), so comments go; the text
    of a figure (patient ids, group names) otherwise lives only in escaped ``<text>`` nodes, which a browser does not
    execute. What is checked is markup only, never text: no element
    that runs code or fetches (script, foreignObject, a, animation), no ``on*`` event attribute, hrefs only to
    local fragments or inline PNG, ``url()`` only to local fragments. A violation is a bug in the figure code (user
    text cannot create markup), so it raises :class:`~cart_outcomes.errors.InputError`.
    """
    done = _CHECKED.get(svg)
    if done is not None:
        return done
    text = _check(svg)
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED[svg] = text
    if text == text.strip() and "<!--" not in text and "<metadata" not in text.lower():
        _CHECKED[text] = text  # nothing left to remove: checking the output again would return it unchanged
    return text


def _check(svg: str) -> str:
    text = _SVG_METADATA.sub("", _SVG_COMMENT.sub("", svg.strip()))
    if not text.startswith("<svg"):
        raise InputError("FigureBlock.svg must start with '<svg' (use figures.figure_to_svg)")
    for start in re.finditer(r"<(?![/?])", text):
        tag = _SVG_TAG.match(text, start.start())
        if tag is None:
            raise InputError(f"figure SVG has markup that is not a plain element near {text[start.start():][:40]!r}")
        name = tag.group(1).lower().rsplit(":", 1)[-1]
        if name in _SVG_ACTIVE_ELEMENTS:
            raise InputError(f"figure SVG contains a <{tag.group(1)}> element; only static SVG is allowed")
        for attr in _SVG_ATTR.finditer(tag.group(2)):
            key, value = attr.group(1).lower(), attr.group(2) if attr.group(2) is not None else attr.group(3)
            local = key.rsplit(":", 1)[-1]
            if local.startswith("on"):
                raise InputError(f"figure SVG has an event attribute {attr.group(1)!r}; only static SVG is allowed")
            if local == "href" and not _LOCAL_HREF.fullmatch(value.strip()):
                raise InputError("figure SVG links outside itself (href to something other than a local fragment)")
            if _LOCAL_URL.search(value) or "javascript:" in value.lower():
                raise InputError(f"figure SVG attribute {attr.group(1)!r} refers outside the figure")
    for style in _SVG_STYLE_TEXT.finditer(text):
        if _LOCAL_URL.search(style.group(1)) or "@import" in style.group(1).lower():
            raise InputError("figure SVG style refers outside the figure")
    return text
