"""``import naiad_bo`` and the light CLI commands start without torch (PEP 562 lazy names)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import naiad_bo


@pytest.mark.parametrize("package", ["naiad_bo", "naiad_bo.data"])
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    ns: dict = {}
    exec(f"from {package} import *", ns)  # star-import resolves the lazy names too
    assert set(module.__all__) <= set(ns)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        module.not_a_name  # noqa: B018


def test_lazy_names_are_the_defining_objects():
    from naiad_bo.campaign.campaign import Campaign
    from naiad_bo.data.bundled import load_screen
    from naiad_bo.data.screen import PairScreen
    from naiad_bo.direction import Direction

    assert naiad_bo.Campaign is Campaign and naiad_bo.PairScreen is PairScreen
    assert naiad_bo.Direction is Direction and naiad_bo.load_screen is load_screen
    assert {"Campaign", "load_screen"} <= set(dir(naiad_bo))


def _modules_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return which heavy modules it imported."""
    probe = (
        f"{code}\nimport sys, json\n"
        "print(json.dumps({m: m in sys.modules for m in "
        "('torch', 'botorch', 'pandas', 'matplotlib', 'torch._dynamo')}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_naiad_bo_loads_no_torch():
    mods = _modules_after("import naiad_bo\nfrom naiad_bo import Direction\n"
                          "from naiad_bo.data import SCREENS\nassert 'norman2019' in SCREENS")
    assert not mods["torch"] and not mods["botorch"] and not mods["pandas"]


@pytest.mark.parametrize("argv", [["--help"], ["screens"], ["screens", "--help"]])
def test_light_cli_commands_load_no_torch(argv):
    code = (
        "import contextlib, io\nfrom naiad_bo.cli.main import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try:\n"
        f"        rc = main({argv!r})\n"
        "    except SystemExit as e:\n"
        "        rc = e.code\n"
        "assert rc == 0, rc\nassert 'norman2019' in buf.getvalue() or 'usage' in buf.getvalue()"
    )
    mods = _modules_after(code)
    assert not any(mods[m] for m in ("torch", "botorch", "pandas", "matplotlib")), mods
