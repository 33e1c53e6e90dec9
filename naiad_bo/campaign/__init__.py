"""Discovery campaigns: :class:`Campaign` (ask / tell, the loop a lab, Ax and the simulator
share) and simulated AI + lab campaigns on measured screens (the NAIAD paper's loop).

:func:`simulate_campaign` runs one campaign (one seed, one acquisition),
:func:`run_campaigns` / :meth:`CampaignSimulator.run_many` several (round 0 shared per seed);
protocols (:class:`PaperProtocol`, :class:`ProspectiveProtocol`) decide what may be acquired;
results are tidy (:class:`CampaignResult`, :class:`CampaignResults`, :func:`summarize`,
:func:`marginal_gains`) and plot with :func:`plot_campaigns`.
"""

from naiad_bo.campaign.campaign import BATCH_COLUMNS, FORMAT, FORMAT_VERSION, Campaign, TellReport
from naiad_bo.campaign.errors import CampaignError, CampaignFileError, IncompatibleSurrogateError
from naiad_bo.campaign.oracle import ScreenOracle
from naiad_bo.campaign.plotting import plot_campaigns
from naiad_bo.campaign.protocol import (
    PROTOCOLS,
    CampaignProtocol,
    PaperProtocol,
    ProspectiveProtocol,
    UnknownProtocolError,
    get_protocol,
)
from naiad_bo.campaign.recorder import CampaignRecorder
from naiad_bo.campaign.result import RECORD_FIELDS, CampaignResult, CampaignResults
from naiad_bo.campaign.simulator import (
    DEFAULT_CURVE_KS,
    MIN_GENES,
    CampaignSimulator,
    run_campaigns,
    simulate_campaign,
)
from naiad_bo.campaign.summary import marginal_gains, summarize
from naiad_bo.prediction import predict_mean
from naiad_bo.specs import AcquisitionSpec, SurrogateSpec

__all__ = [
    "BATCH_COLUMNS",
    "DEFAULT_CURVE_KS",
    "FORMAT",
    "FORMAT_VERSION",
    "MIN_GENES",
    "PROTOCOLS",
    "RECORD_FIELDS",
    "AcquisitionSpec",
    "Campaign",
    "CampaignError",
    "CampaignFileError",
    "CampaignProtocol",
    "CampaignRecorder",
    "CampaignResult",
    "CampaignResults",
    "CampaignSimulator",
    "IncompatibleSurrogateError",
    "PaperProtocol",
    "ProspectiveProtocol",
    "ScreenOracle",
    "SurrogateSpec",
    "TellReport",
    "UnknownProtocolError",
    "get_protocol",
    "marginal_gains",
    "plot_campaigns",
    "predict_mean",
    "run_campaigns",
    "simulate_campaign",
    "summarize",
]
