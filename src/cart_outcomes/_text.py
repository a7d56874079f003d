"""Text from user data made safe to show: control characters and invisible or direction-changing characters.

Cells and ids reach terminals, reports and figures. A terminal obeys escape sequences (``ESC [2J`` clears the
screen, ``ESC ]8;;url`` makes a hyperlink); a right-to-left override (U+202E) makes ``P\u202e10-TP`` display as
``PPT-01``. :func:`neutralise` replaces every such character with a visible ``<U+XXXX>``, so what is shown is what is
stored, and nothing in a value can act on the display.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE_CHARACTERS", "has_unsafe", "neutralise"]

#: C0/C1 controls and DEL; soft hyphen; Arabic letter mark; zero-width and direction marks (U+200B-U+200F); bidi
#: embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069); word joiner and invisible operators
#: (U+2060-U+2064); deprecated format characters (U+206A-U+206F); byte-order mark; interlinear annotations; tags.
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f]")
_KEEP_LINES = re.compile(UNSAFE_CHARACTERS.pattern.replace("\x00-\x1f", "\x00-\x09\x0b-\x1f"))


def neutralise(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every unsafe character written as ``<U+XXXX>`` (``keep_newlines``: line feeds stay)."""
    pattern = _KEEP_LINES if keep_newlines else UNSAFE_CHARACTERS
    return pattern.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def has_unsafe(text: str) -> bool:
    """Whether ``text`` holds a character :func:`neutralise` would replace."""
    return UNSAFE_CHARACTERS.search(text) is not None
