"""Simulated AI + lab campaigns on measured screens (the NAIAD paper's active-learning loop).

:func:`simulate_campaign` runs one campaign (one seed, one acquisition),
:func:`run_campaigns` / :meth:`CampaignSimulator.run_many` several (round 0 shared per seed);
protocols (:class:`PaperProtocol`, :class:`ProspectiveProtocol`) decide what may be acquired;
results are tidy (:class:`CampaignResult`, :class:`CampaignResults`, :func:`summarize`,
:func:`marginal_gains`) and plot with :func:`plot_campaigns`.
"""

from naiad_bo.campaign.plotting import plot_campaigns
from naiad_bo.campaign.protocol import (
    PROTOCOLS,
    CampaignProtocol,
    PaperProtocol,
    ProspectiveProtocol,
    UnknownProtocolError,
    get_protocol,
)
from naiad_bo.campaign.result import (
    RECORD_FIELDS,
    CampaignResult,
    CampaignResults,
    marginal_gains,
    summarize,
)
from naiad_bo.campaign.simulator import (
    DEFAULT_CURVE_KS,
    MIN_GENES,
    AcquisitionSpec,
    CampaignError,
    CampaignSimulator,
    IncompatibleSurrogateError,
    predict_mean,
    run_campaigns,
    simulate_campaign,
)

__all__ = [
    "DEFAULT_CURVE_KS",
    "MIN_GENES",
    "PROTOCOLS",
    "RECORD_FIELDS",
    "AcquisitionSpec",
    "CampaignError",
    "CampaignProtocol",
    "CampaignResult",
    "CampaignResults",
    "CampaignSimulator",
    "IncompatibleSurrogateError",
    "PaperProtocol",
    "ProspectiveProtocol",
    "UnknownProtocolError",
    "get_protocol",
    "marginal_gains",
    "plot_campaigns",
    "predict_mean",
    "run_campaigns",
    "simulate_campaign",
    "summarize",
]
