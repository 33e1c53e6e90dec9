"""``naiad-bo screens`` prints exactly what pandas would, without importing it."""

from __future__ import annotations

from naiad_bo.cli.main import main
from naiad_bo.cli.screens import TABLE_COLUMNS
from naiad_bo.data import list_screens


def test_table_is_pandas_to_string(capsys):
    assert main(["screens"]) == 0
    out = capsys.readouterr().out
    table = list_screens()
    expected = table[list(TABLE_COLUMNS)].to_string(index=False) + "\n\n" + "".join(
        f"{row['name']}: {row['citation']}\n" for _, row in table.iterrows()
    )
    assert out == expected


def test_json_is_pandas_records_json(capsys):
    assert main(["screens", "--json"]) == 0
    assert capsys.readouterr().out == list_screens().to_json(orient="records", indent=2) + "\n"
