"""Glossaries in the alphabetical order of the page's language.

Sphinx sorts a ``{glossary}`` with ``:sorted:`` by its source terms, in English; a
translated page lists the same entries under translated terms, which this extension sorts
again, in the dictionary order of the language (accents and case ignored first), when
the page is read.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes


def collation_key(term: str) -> tuple[str, str]:
    """Sort key of a term in French dictionary order: accents and case ignored first.

    >>> sorted(["étiquette", "Masque", "écart", "lot"], key=collation_key)
    ['écart', 'étiquette', 'lot', 'Masque']
    """
    import unicodedata

    base = "".join(c for c in unicodedata.normalize("NFD", term) if not unicodedata.combining(c))
    return (re.sub(r"[^a-z0-9 ]", "", base.lower()), term)


def _sort_glossaries(app: Any, doctree: nodes.document) -> None:
    """Glossaries of a translated page in the alphabetical order of the page's language."""
    if (app.config.language or "en") == "en":
        return
    from sphinx import addnodes

    for glossary in doctree.findall(addnodes.glossary):
        for dl in glossary.findall(nodes.definition_list):
            items = [c for c in dl.children if isinstance(c, nodes.definition_list_item)]
            items.sort(key=lambda item: collation_key(item.next_node(nodes.term).astext()))
            dl.children = items
            for item in items:
                item.parent = dl


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", _sort_glossaries)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
