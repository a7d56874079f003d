"""YAML documents read with bounded cost: the plan (``study.yaml``) comes from a user and may be hostile.

PyYAML's safe loader constructs no objects of arbitrary types, but it follows aliases (``*name``): a 'billion
laughs' document of a few hundred bytes stands for 10**9 values, and anything that walks it (line indexing,
validation, JSON output) never finishes. :func:`load_yaml` composes the node graph (aliases share nodes, so this is
cheap), counts the values it stands for without expanding them, and refuses the document past the limits below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cart_outcomes.errors import InputError

__all__ = ["MAX_YAML_BYTES", "MAX_YAML_DEPTH", "MAX_YAML_NODES", "YamlLimitError", "load_yaml", "read_yaml_text"]

#: Largest YAML file read (bytes); a plan is a few kilobytes.
MAX_YAML_BYTES = 1_000_000
#: Most values a document may stand for once aliases are followed; a plan has a few hundred.
MAX_YAML_NODES = 100_000
#: Deepest nesting of mappings and lists (the plan format needs 5).
MAX_YAML_DEPTH = 50


class YamlLimitError(InputError):
    """A YAML document over one of the limits; the message starts with ``line N:`` (or ``byte N:``)."""


def _expanded_size(root: yaml.Node) -> tuple[int, yaml.Node]:
    """Values ``root`` stands for with every alias followed, counted without expanding anything: each distinct node
    is visited once (an alias shares its anchor's node). Stops at MAX_YAML_NODES + 1; a node inside itself (a
    recursive alias) or nesting deeper than MAX_YAML_DEPTH counts as too many. Also returns the innermost node that
    went over the limit (the one to point the user at)."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    limit = MAX_YAML_NODES + 1
    culprit: list[yaml.Node] = []

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path or depth > MAX_YAML_DEPTH:
            return limit
        on_path.add(key)
        children = [v for kv in node.value for v in kv] if isinstance(node, yaml.MappingNode) else \
            node.value if isinstance(node, yaml.SequenceNode) else []
        total = 1
        for child in children:
            total = min(limit, total + size(child, depth + 1))
            if total >= limit:
                culprit.append(node)
                break
        on_path.discard(key)
        sizes[key] = total
        return total

    return size(root, 0), (culprit[0] if culprit else root)


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The composed node graph and the plain data (``yaml.safe_load``) of one YAML document, or ``(None, None)``
    for an empty one.

    Raises
    ------
    YamlLimitError : longer than MAX_YAML_BYTES, nested deeper than MAX_YAML_DEPTH, or standing for more than
        MAX_YAML_NODES values through aliases (refused in milliseconds, before anything is expanded).
    yaml.YAMLError : not valid YAML.
    """
    if len(text) > MAX_YAML_BYTES:
        raise YamlLimitError(f"line 1: the document is {len(text):,} characters long; the limit is "
                             f"{MAX_YAML_BYTES:,} (a plan is a few kilobytes)")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        total, culprit = _expanded_size(node)
        if total > MAX_YAML_NODES:
            raise YamlLimitError(
                f"line {culprit.start_mark.line + 1}: the document stands for more than {MAX_YAML_NODES:,} values "
                f"(through YAML aliases '*name', an alias inside its own anchor, or nesting deeper than "
                f"{MAX_YAML_DEPTH} levels); a plan has a few hundred: write the values out")
        return node, loader.construct_document(node)
    except RecursionError:
        raise YamlLimitError(f"line 1: mappings or lists nested too deeply (more than {MAX_YAML_DEPTH} levels)") \
            from None
    finally:
        loader.dispose()


def read_yaml_text(path: Path) -> str:
    """The text of a YAML file: at most MAX_YAML_BYTES, UTF-8 (else :class:`YamlLimitError`)."""
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise YamlLimitError(f"line 1: the file is {size:,} bytes; the limit is {MAX_YAML_BYTES:,} (a plan is a few "
                             "kilobytes)")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlLimitError(f"byte {exc.start}: not UTF-8 text (save the file as UTF-8)") from None
