"""Tidy and report the French catalogs (run by ``nox -s gettext``).

``python docs/_tools/catalogs.py tidy``: drop obsolete entries, clear the
header's fuzzy flag set by sphinx-intl on new catalogs, wrap at 79 columns, and write one
fixed header: no creation or revision date, no tool or project version, no year of the day it ran.
A catalog then depends only on its page: ``nox -s gettext`` on any machine, any day,
leaves a catalog in sync byte for byte as it was.
``python docs/_tools/catalogs.py status``: list what is untranslated or fuzzy,
per catalog; exits 1 if anything is.
``python docs/_tools/catalogs.py extract <pot>``: write the template of the extensions'
catalog ``lmnotes`` (their ``_()`` words and the bibliography's notes), as
:func:`lmnotes_catalog.messages` lists them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALES = Path(__file__).resolve().parents[1] / "locales" / "fr" / "LC_MESSAGES"
#: The comment above every catalog's header (Babel writes the year of the day it runs).
HEADER = (
    "French translation of the lmnotes site.\n"
    "This file is distributed under the same license as the lmnotes package."
)
#: Header fields that change with the day or the machine, not with the page.
VOLATILE = ("POT-Creation-Date", "PO-Revision-Date", "Generated-By")


def tidy(locales: Path = LOCALES) -> int:
    """Rewrite every catalog under ``locales`` in the one form ``nox -s gettext`` keeps."""
    for path in sorted(locales.rglob("*.po")):
        po = polib.pofile(str(path), wrapwidth=79)
        for entry in po.obsolete_entries():
            po.remove(entry)
        po.header = HEADER
        po.metadata_is_fuzzy = False
        for field in VOLATILE:
            po.metadata.pop(field, None)
        po.metadata["Project-Id-Version"] = "lmnotes"
        po.metadata["Language"] = "fr"
        po.metadata["Language-Team"] = "French <lmnotes>"
        po.metadata["Last-Translator"] = "The lmnotes authors"
        po.save(str(path))
    return 0


def extract(pot: str) -> int:
    """Write the template of the catalog ``lmnotes`` to ``pot`` (no header, no locations)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
    from lmnotes_catalog import messages

    catalog = Catalog(project="lmnotes")
    for message in messages():
        catalog.add(message)
    with open(pot, "wb") as out:
        write_po(out, catalog, omit_header=True, no_location=True, width=79)
    return 0


def status() -> int:
    missing = 0
    for path in sorted(LOCALES.rglob("*.po")):
        po = polib.pofile(str(path))
        todo = po.untranslated_entries() + po.fuzzy_entries()
        missing += len(todo)
        print(
            f"{path.relative_to(LOCALES)}: {po.percent_translated()}% translated, {len(todo)} to do"
        )
        for entry in todo:
            print(f"    {entry.msgid[:90]!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    sys.exit({"tidy": tidy, "status": status, "extract": extract}[command](*sys.argv[2:]))
