"""Merge the messages of cell outputs into docs/locales/fr/LC_MESSAGES/outputs.po.

The gettext build writes ``_build/gettext/outputs.pot`` (docs/_ext/lmnotes_outputs.py),
which ``nox -s gettext`` merges with ``sphinx-intl update`` like the catalogs of the
pages. This tool does the same merge for the outputs catalog alone (no other catalog is
touched), and reports::

    python docs/_tools/outputs_catalog.py merge [POT]   # new messages empty, obsolete ones dropped
    python docs/_tools/outputs_catalog.py status        # exit 1 if a message has no French

A message is English with ``{0}``, ``{1}``... for its numbers; its msgstr keeps them.
A msgstr equal to its msgid says "kept on purpose" (a name, an identifier).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import polib

DOCS = Path(__file__).resolve().parents[1]
CATALOG = DOCS / "locales" / "fr" / "LC_MESSAGES" / "outputs.po"
POT = DOCS / "_build" / "gettext" / "outputs.pot"
PLACEHOLDER = re.compile(r"\{\d+\}")


def merge(pot_path: Path = POT, po_path: Path = CATALOG) -> tuple[int, int]:
    """Add the new messages (empty) and drop those no output produces any more."""
    pot = polib.pofile(str(pot_path))
    po = (
        polib.pofile(str(po_path), wrapwidth=79) if po_path.exists() else polib.POFile(wrapwidth=79)
    )
    wanted = {entry.msgid for entry in pot}
    old = {entry.msgid: entry for entry in po if not entry.obsolete}
    added = removed = 0
    for entry in pot:
        if entry.msgid not in old:
            po.append(polib.POEntry(msgid=entry.msgid, msgstr="", flags=list(entry.flags)))
            added += 1
    for entry in list(po):
        if entry.msgid not in wanted or entry.obsolete:
            po.remove(entry)
            removed += 1
    po.sort(key=lambda entry: entry.msgid)
    po.metadata.update(
        {
            "Project-Id-Version": "lmnotes",
            "Language": "fr",
            "Language-Team": "French <lmnotes>",
            "Last-Translator": "The lmnotes authors",
            "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=UTF-8",
            "Content-Transfer-Encoding": "8bit",
        }
    )
    po.metadata_is_fuzzy = False
    po_path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(po_path))
    return added, removed


def problems(po_path: Path = CATALOG) -> list[str]:
    """Messages with no French, fuzzy ones, and msgstrs whose placeholders differ."""
    po = polib.pofile(str(po_path))
    found = [f"untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
    found += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    found += [
        f"placeholders differ: {e.msgid!r}"
        for e in po.translated_entries()
        if sorted(PLACEHOLDER.findall(e.msgid)) != sorted(PLACEHOLDER.findall(e.msgstr))
    ]
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "merge":
        added, removed = merge(Path(argv[1]) if len(argv) > 1 else POT)
        print(f"outputs.po: {added} new messages, {removed} dropped")
        return 0
    found = problems()
    total = len(polib.pofile(str(CATALOG)))
    print(f"outputs.po: {total} messages, {len(found)} to do")
    for line in found:
        print("   ", line[:100])
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
