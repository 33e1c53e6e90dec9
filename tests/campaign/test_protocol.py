from __future__ import annotations

import numpy as np
import pytest

from naiad_bo.campaign import (
    PROTOCOLS,
    PaperProtocol,
    ProspectiveProtocol,
    UnknownProtocolError,
    get_protocol,
)


def test_paper_split_is_a_disjoint_cover_of_the_right_size():
    acq, test = PaperProtocol(0.3).split(6328, np.random.default_rng(1))
    assert len(test) == round(0.3 * 6328)
    assert len(acq) + len(test) == 6328
    assert np.intersect1d(acq, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([acq, test])), np.arange(6328))
    assert np.all(np.diff(acq) > 0) and np.all(np.diff(test) > 0)


def test_paper_split_depends_on_the_generator_only():
    a1, t1 = PaperProtocol().split(1000, np.random.default_rng(7))
    a2, t2 = PaperProtocol().split(1000, np.random.default_rng(7))
    _, t3 = PaperProtocol().split(1000, np.random.default_rng(8))
    assert np.array_equal(t1, t2) and np.array_equal(a1, a2)
    assert not np.array_equal(t1, t3)


def test_prospective_holds_nothing_out():
    acq, test = ProspectiveProtocol().split(10, np.random.default_rng(0))
    assert np.array_equal(acq, np.arange(10)) and test.size == 0


def test_zero_test_fraction_and_tiny_screens():
    assert PaperProtocol(0.0).split(5, np.random.default_rng(0))[1].size == 0
    # a non-zero fraction keeps at least one test pair and at least one acquirable pair
    assert PaperProtocol(0.01).n_test(10) == 1
    assert PaperProtocol(0.9).n_test(2) == 1


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan")])
def test_bad_test_fraction(bad):
    with pytest.raises(ValueError, match="test_frac"):
        PaperProtocol(bad)


def test_get_protocol_names_classes_instances():
    assert get_protocol("paper") == PaperProtocol(0.3)
    assert get_protocol(" Prospective ") == ProspectiveProtocol()
    assert get_protocol(PaperProtocol) == PaperProtocol()
    p = PaperProtocol(0.2)
    assert get_protocol(p) is p
    assert p != PaperProtocol(0.3)
    assert set(PROTOCOLS) == {"paper", "prospective"}
    with pytest.raises(UnknownProtocolError, match="choose one of: paper, prospective"):
        get_protocol("retrospective")
    with pytest.raises(TypeError):
        get_protocol(3)
