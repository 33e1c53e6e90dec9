"""``naiad-bo screens``: list the bundled screens.

The listing is formatted here from the catalogue (:func:`naiad_bo.data.bundled.catalogue`)
rather than through pandas, so the command starts in a fraction of a second; the text and
JSON are those of ``list_screens().to_string(index=False)`` / ``.to_json(orient="records",
indent=2)`` (a test compares them).
"""

from __future__ import annotations

import argparse
import json

#: Columns of the table, in order.
TABLE_COLUMNS = ("name", "genes", "pairs", "rows", "title")


def add_parser(subparsers, parents=()) -> None:
    """Register ``screens``."""
    p = subparsers.add_parser("screens", parents=list(parents),
                              help="list the bundled screens with sizes and citations")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run, uses_torch=False)


def table_text(rows: list[dict], columns=TABLE_COLUMNS) -> str:
    """Right-aligned columns, one space apart; integer columns one wider than their header
    (pandas' ``to_string(index=False)`` layout)."""
    cells = []
    for col in columns:
        values = [str(r[col]) for r in rows]
        numeric = all(isinstance(r[col], int) for r in rows)
        width = max(len(col) + int(numeric), *(len(v) for v in values))
        cells.append([col.rjust(width)] + [v.rjust(width) for v in values])
    return "\n".join(" ".join(line) for line in zip(*cells, strict=True))


def records_json(rows: list[dict]) -> str:
    """``orient="records", indent=2`` JSON of pandas: no space after ``:``, ``/`` escaped."""
    return json.dumps(rows, indent=2, separators=(",", ":")).replace("/", "\\/")


def run(args: argparse.Namespace) -> int:
    """List bundled screens."""
    from naiad_bo.data.bundled import catalogue

    rows = catalogue()
    if args.json:
        print(records_json(rows))
        return 0
    print(table_text(rows))
    print()
    for row in rows:
        print(f"{row['name']}: {row['citation']}")
    return 0
