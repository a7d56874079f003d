"""YAML documents read with bounded cost: the plan (``study.yaml``) comes from a user and may be hostile.

PyYAML's safe loader constructs no objects of arbitrary types, but it follows aliases (``*name``): a 'billion
laughs' document of a few hundred bytes stands for 10**9 values, and anything that walks it (line indexing,
validation, JSON output) never finishes. :func:`load_yaml` composes the node graph (aliases share nodes, so this is
cheap), counts the values it stands for without expanding them, and refuses the document past the limits below.
:func:`quoted_scalar` writes a value that reads back as the same text (``init``'s plan, pasteable fixes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cart_outcomes.errors import InputError

__all__ = ["MAX_YAML_BYTES", "MAX_YAML_DEPTH", "MAX_YAML_NODES", "YamlLimitError", "load_yaml", "quoted_scalar",
           "read_yaml_text"]

#: Largest YAML file read (bytes); a plan is a few kilobytes.
MAX_YAML_BYTES = 1_000_000
#: Most values a document may stand for once aliases are followed; a plan has a few hundred.
MAX_YAML_NODES = 100_000
#: Deepest nesting of mappings and lists (the plan format needs 5).
MAX_YAML_DEPTH = 50


class YamlLimitError(InputError):
    """A YAML document refused before it is used (over one of the limits, or a key given twice); the message starts
    with ``line N:`` (or ``byte N:``)."""


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


def _same_scalar(a: yaml.Node, b: yaml.Node) -> bool:
    return isinstance(a, yaml.ScalarNode) and isinstance(b, yaml.ScalarNode) and (a.tag, a.value) == (b.tag, b.value)


def _duplicate_key(root: yaml.Node) -> yaml.Node | None:
    """The first key node that repeats a key of the same mapping with another value (YAML keeps the last silently:
    a second ``values:`` pasted under ``data:`` would drop the first), or None; a key repeated with the same plain
    value (one header named in two sheets) changes nothing and passes. Each node is visited once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            values: dict[str, yaml.Node] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    first = values.setdefault(k.value, v)
                    if first is not v and not _same_scalar(first, v):
                        return k
                stack += [k, v]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return None


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The composed node graph and the plain data (``yaml.safe_load``) of one YAML document, or ``(None, None)``
    for an empty one.

    Raises
    ------
    YamlLimitError : longer than MAX_YAML_BYTES, nested deeper than MAX_YAML_DEPTH, standing for more than
        MAX_YAML_NODES values through aliases (refused in milliseconds, before anything is expanded), or giving a
        key twice in one mapping.
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
        dup = _duplicate_key(node)
        if dup is not None:
            raise YamlLimitError(f"line {dup.start_mark.line + 1}: the key {dup.value!r} is given twice in the same "
                                 "section; YAML would keep only the last one: merge them into one")
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


def quoted_scalar(text: str) -> str:
    """A YAML scalar that YAML reads back as exactly ``text`` (a JSON string is a YAML double-quoted scalar, so
    ``no``, ``1e3`` or ``: x`` stay text)."""
    import json

    return json.dumps(text, ensure_ascii=False)
