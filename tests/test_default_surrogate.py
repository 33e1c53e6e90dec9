"""Every campaign entry point that names no surrogate uses ``DEFAULT_SURROGATE``, the
reference network, and a campaign built without one fits that network."""

from __future__ import annotations

import inspect

import pytest

import naiad_bo
from naiad_bo.campaign import CampaignSimulator
from naiad_bo.campaign.simulator import simulate_campaign
from naiad_bo.cli.main import build_parser
from naiad_bo.models import NaiadEnsemble, ReferenceNaiadEnsemble
from naiad_bo.models.registry import get_model_class
from naiad_bo.specs import DEFAULT_SURROGATE


def test_default_names_the_reference_network():
    assert DEFAULT_SURROGATE == "naiad-reference"
    assert get_model_class(DEFAULT_SURROGATE) is ReferenceNaiadEnsemble
    assert get_model_class("naiad") is NaiadEnsemble  # the fast network keeps its name


@pytest.mark.parametrize("func", [naiad_bo.Campaign.__init__, CampaignSimulator.__init__,
                                  simulate_campaign])
def test_python_entry_points_default_to_it(func):
    assert inspect.signature(func).parameters["surrogate"].default == DEFAULT_SURROGATE


def test_ax_entry_points_default_to_it():
    pytest.importorskip("ax")
    from naiad_bo.ax.experiment import create_experiment
    from naiad_bo.ax.loop import recommend

    for func in (create_experiment, recommend):
        assert inspect.signature(func).parameters["surrogate"].default == DEFAULT_SURROGATE


@pytest.mark.parametrize("command", [["simulate", "--screen", "norman2019"],
                                     ["recommend", "--store", "x.sqlite", "--measured", "m.csv",
                                      "--batch", "4", "--out", "n.csv"]])
def test_cli_commands_default_to_it(command):
    assert build_parser().parse_args(command).surrogate == DEFAULT_SURROGATE


def test_a_campaign_without_a_surrogate_fits_the_reference_network():
    screen = naiad_bo.data.subsample_genes(naiad_bo.load_screen("norman2019"), 0.3, seed=0)
    campaign = naiad_bo.Campaign(screen, acquisition="mpe", seed=0,
                                 surrogate_options={"epochs": 5, "ensemble_size": 2})
    campaign.tell(screen.pairs[["id1", "id2", "y"]].iloc[:60].rename(columns={"y": "score"}))
    model = campaign.fit()
    assert type(model) is ReferenceNaiadEnsemble
    assert campaign.to_dict()["surrogate"]["text"].startswith(DEFAULT_SURROGATE)
    assert model.variance_calibrated_  # the default surrogate calibrates its variance


def test_the_default_calibration_leaves_mpe_batches_unchanged():
    """MPE ranks by the posterior mean, which the variance scale does not move: the default
    campaign asks for the same library as one whose surrogate skips the calibration."""
    full = naiad_bo.data.subsample_genes(naiad_bo.load_screen("norman2019"), 0.5, seed=1)
    pilot = naiad_bo.PairScreen(full.genes, full.single_effects, full.pairs.iloc[:80],
                                name=full.name, direction=full.direction, control=full.control)
    batches = []
    for options in ({}, {"variance_calibration": None}):
        campaign = naiad_bo.Campaign(pilot, acquisition="mpe", seed=3,
                                     surrogate_options={"epochs": 40, **options})
        batches.append(campaign.ask(20))
    cal, plain = batches
    assert cal[["id1", "id2"]].equals(plain[["id1", "id2"]])
    assert (cal["std"] != plain["std"]).any()  # the reported uncertainty is what changes
