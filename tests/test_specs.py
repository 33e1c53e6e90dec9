from __future__ import annotations

import numpy as np
import pytest

from naiad_bo.acquisition import UnknownAcquisitionError
from naiad_bo.acquisition.effect import MaxPredictedEffect
from naiad_bo.models import registry
from naiad_bo.models.linear import AdditiveLinearModel
from naiad_bo.models.naiad import NaiadEnsemble
from naiad_bo.models.registry import UnknownModelError
from naiad_bo.models.single_sum import SingleEffectSumModel
from naiad_bo.specs import AcquisitionSpec, SpecError, SurrogateSpec, parse_options


def test_parse_options_reads_literals_and_keeps_strings():
    opts = parse_options("epochs=30,lr=1e-3,hidden=[64, 32],name=abc,flag=None,q='x,y'")
    assert opts == {"epochs": 30, "lr": 1e-3, "hidden": [64, 32], "name": "abc",
                    "flag": None, "q": "x,y"}
    assert parse_options(["a=1", "b-c=2", "a=3"]) == {"a": 3, "b_c": 2}
    with pytest.raises(SpecError, match="bad --x 'epochs'"):
        parse_options(["epochs"], "--x")
    with pytest.raises(SpecError, match="KEY=VALUE"):
        parse_options("=3")


def test_acquisition_spec_grammar():
    spec = AcquisitionSpec.parse("mpe:max_per_gene=8")
    assert spec.acquisition == "mpe" and spec.select_options == {"max_per_gene": 8}
    assert spec.options == {} and spec.name == "mpe:max_per_gene=8"
    spec = AcquisitionSpec.parse("ucb:kappa=2.5")
    assert spec.options == {"kappa": 2.5} and spec.name == "ucb:kappa=2.5"
    assert AcquisitionSpec.parse("  Uniform ").name == "uniform"
    assert AcquisitionSpec.parse(MaxPredictedEffect).resolve() is MaxPredictedEffect
    assert AcquisitionSpec.parse(AcquisitionSpec.parse(spec.to_text())) == spec
    with pytest.raises(SpecError, match="MaxPredictedEffect takes no positional part"):
        AcquisitionSpec.parse("mpe:8")
    with pytest.raises(UnknownAcquisitionError):
        AcquisitionSpec.parse("best")
    with pytest.raises(SpecError, match="kapa"):
        AcquisitionSpec.parse("ucb:kapa=2").check_options()
    with pytest.raises(SpecError, match="'mpe:max_per_gene=0': max_per_gene must be >= 1"):
        AcquisitionSpec.parse("mpe:max_per_gene=0").check_options()
    # the old import path still works
    from naiad_bo.campaign import AcquisitionSpec as Old

    assert Old is AcquisitionSpec


def test_surrogate_spec_builds_registry_classes_with_options(norman):
    spec = SurrogateSpec.parse("naiad:epochs=3,ensemble_size=2")
    assert spec.resolve() is NaiadEnsemble and spec.name == "naiad:epochs=3,ensemble_size=2"
    model = spec.build(norman.single_effects, seed=4)
    assert isinstance(model, NaiadEnsemble)
    ref = NaiadEnsemble(norman.single_effects, seed=4, epochs=3, ensemble_size=2)
    assert model.hparams == ref.hparams
    assert SurrogateSpec.parse(spec.to_text()).options == spec.options
    # extra options (the CLI's --surrogate-option) win over the string's
    assert SurrogateSpec.parse("naiad:epochs=3", {"epochs": 5}).options == {"epochs": 5}
    # a class and a factory
    assert isinstance(SurrogateSpec.parse(AdditiveLinearModel).build(norman.single_effects,
                                                                      seed=0),
                      AdditiveLinearModel)

    def factory(single_effects, seed=0):
        return SingleEffectSumModel(single_effects, seed=seed)

    assert SurrogateSpec.parse(factory).name == "factory"
    with pytest.raises(UnknownModelError):
        SurrogateSpec.parse("gpx")
    gp = SurrogateSpec.parse("gp:network:/x/edges.csv:noise=0.01")
    assert gp.resolve().__name__ == "DescriptorGP"
    assert gp.options == {"descriptors": "network:/x/edges.csv", "noise": 0.01}
    with pytest.raises(SpecError, match="takes no positional part"):
        SurrogateSpec.parse("naiad:string+go")


def test_bad_option_values_are_one_line_errors_naming_the_spec(norman):
    with pytest.raises(SpecError, match=r"^surrogate spec 'naiad:epoch=3'") as err:
        SurrogateSpec.parse("naiad:epoch=3").build(norman.single_effects, seed=0)
    assert "\n" not in str(err.value)
    with pytest.raises(SpecError, match="naiad:epochs=-1"):
        SurrogateSpec.parse("naiad:epochs=-1").build(norman.single_effects, seed=0)


class _Described(SingleEffectSumModel):
    """A surrogate that takes a positional spec part and needs gene names (like a GP)."""

    spec_argument = "descriptors"
    requires_genes = True

    def __init__(self, single_effects, seed=0, descriptors="none", genes=(), scale=1.0):
        super().__init__(single_effects, seed=seed)
        self.descriptors, self.genes, self.scale = descriptors, genes, scale


def test_positional_part_and_gene_names(monkeypatch, norman):
    monkeypatch.setitem(registry.MODELS, "described", _Described)
    spec = SurrogateSpec.parse("described:string+go")
    assert spec.options == {"descriptors": "string+go"}
    spec = SurrogateSpec.parse("described:network:/x/edges.csv:scale=2")
    assert spec.options == {"descriptors": "network:/x/edges.csv", "scale": 2}
    model = spec.build(norman.single_effects, seed=0, genes=norman.genes)
    assert model.genes == tuple(norman.genes) and model.descriptors == "network:/x/edges.csv"
    with pytest.raises(SpecError, match="needs gene names"):
        spec.build(norman.single_effects, seed=0)
    np.testing.assert_array_equal(model.single_effects.numpy(), norman.single_effects)


def test_bad_acquisition_option_value_names_the_spec_at_ask(norman):
    from naiad_bo import PairScreen
    from naiad_bo.campaign import Campaign

    pilot = PairScreen(norman.genes, norman.single_effects, norman.pairs.iloc[::20])
    with pytest.raises(SpecError, match=r"^acquisition spec 'ucb:kappa=-1' .*kappa must be >= 0"):
        Campaign(pilot, "linear", "ucb:kappa=-1").ask(5)


def test_reads_only_mean_follows_the_declared_requirements():
    assert AcquisitionSpec.parse("mpe").reads_only_mean
    assert AcquisitionSpec.parse("uniform").reads_only_mean
    for name in ("ucb", "variance", "thompson", "hit", "qpo", "bald", "optimistic"):
        assert not AcquisitionSpec.parse(name).reads_only_mean, name

    class Undeclared:  # a user class without ``requires`` counts as reading everything
        @classmethod
        def from_training_data(cls, *args, **kwargs):
            return cls()

    assert not AcquisitionSpec.parse(Undeclared).reads_only_mean


def test_for_mean_only_turns_off_only_a_default_calibration():
    from naiad_bo.models import CrossValidatedVarianceScale

    ref = SurrogateSpec.parse("naiad-reference:epochs=5")
    mean_only = ref.for_mean_only()
    assert dict(mean_only.options) == {"epochs": 5, "variance_calibration": None}
    assert mean_only.name == ref.name  # records keep the label
    named = SurrogateSpec.parse("naiad-reference", {"variance_calibration":
                                                    CrossValidatedVarianceScale(3)})
    assert named.for_mean_only() is named
    for text in ("naiad", "linear", "sum"):  # no default calibration / no hook
        spec = SurrogateSpec.parse(text)
        assert spec.for_mean_only() is spec
