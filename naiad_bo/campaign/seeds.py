"""Seeds and clocks of a campaign.

One independent 31-bit seed per (campaign seed, round, stream).

Every random choice of a campaign is seeded from ``(seed, round, stream)`` through
:class:`numpy.random.SeedSequence`, so a campaign is reproducible from its seed and its round
index alone: a saved and reloaded campaign, or one rebuilt from an Ax experiment, draws the
same numbers as the original. Streams:

* :data:`STREAM_SPLIT` (round 0 only): the simulator's test split and initial library;
* :data:`STREAM_MODEL`: the surrogate fitted after round ``r`` (``r`` = batches asked);
* :data:`STREAM_ACQ`: the acquisition that picks batch ``r`` (``r >= 1``), or the uniform
  draw of a first batch when nothing is measured yet.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["STREAM_ACQ", "STREAM_MODEL", "STREAM_SPLIT", "Clock", "derive_seed"]

STREAM_SPLIT, STREAM_MODEL, STREAM_ACQ = 0, 1, 2


def derive_seed(seed: int, round_: int, stream: int) -> int:
    """A 31-bit seed for (campaign seed, round, stream), independent across streams."""
    state = np.random.SeedSequence([int(seed), int(round_), int(stream)]).generate_state(1)
    return int(state[0] & 0x7FFFFFFF)


class Clock:
    """Wall-clock and process CPU seconds since construction (``stop()`` -> both).

    CPU seconds stay comparable on a shared machine (with one torch thread, CPU time ~ wall
    time when the machine is idle).
    """

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def stop(self) -> tuple[float, float]:
        """``(wall seconds, CPU seconds)`` since construction."""
        return time.perf_counter() - self.wall, time.process_time() - self.cpu
