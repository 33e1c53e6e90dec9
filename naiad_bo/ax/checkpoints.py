"""Named pause points for crash-safety tests (test-only; inert unless the variable is set).

With ``NAIAD_BO_TEST_PAUSE_AT=NAME`` in the environment, :func:`checkpoint` ``("NAME")``
writes ``NAME`` to the file named by ``NAIAD_BO_TEST_PAUSE_FILE`` (or to stderr) and sleeps,
so a test can SIGKILL the process exactly there. Points of ``naiad-bo recommend``, in order:

* ``attached``: results attached in memory, nothing saved yet;
* ``commit:data``: inside the transaction saving them, Ax's writes done, before COMMIT;
* ``data-saved``: that transaction committed;
* ``generate``: in the generation node, before the campaign fits the surrogate and scores
  the candidates;
* ``generated``: the new batch trial exists in memory, not saved;
* ``commit:round``: inside the transaction saving the batch trial, before COMMIT;
* ``round-saved``: committed, ``NEXT.csv`` not written yet.
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["POINTS", "checkpoint"]

POINTS = ("attached", "commit:data", "data-saved", "generate", "generated", "commit:round",
          "round-saved")
ENV_AT = "NAIAD_BO_TEST_PAUSE_AT"
ENV_FILE = "NAIAD_BO_TEST_PAUSE_FILE"


def checkpoint(name: str) -> None:
    """Pause forever at ``name`` when the test variable asks for it (else return at once)."""
    if os.environ.get(ENV_AT) != name:
        return
    path = os.environ.get(ENV_FILE)
    if path:
        with open(path, "w") as fh:
            fh.write(name)
            fh.flush()
            os.fsync(fh.fileno())
    else:
        print(f"paused at {name}", file=sys.stderr, flush=True)
    while True:  # pragma: no cover - killed by the test
        time.sleep(60)
