"""``naiad-bo recommend``: the next library of a lab campaign stored in Ax.

Creates or opens the experiment in ``--store``, attaches the rows of ``--measured`` that the
store does not hold yet (idempotent), completes pending arms that got results, fits the
surrogate and writes ``--batch`` new pairs as one Ax batch trial to ``--out``. Before the
results of the pending batch arrive it writes that batch again (``--new-batch`` asks for a
further one). Policies for the measured file: :mod:`naiad_bo.ax.loop`.

Example::

    naiad-bo recommend --store lab.sqlite --measured measured.csv --batch 96 --out next.csv \\
        --surrogate naiad --acquisition mpe --seed 0 --control non-targeting --control NTC
"""

from __future__ import annotations

import argparse

from naiad_bo.cli.store_args import add_store_arguments, store_errors
from naiad_bo.specs import DEFAULT_SURROGATE


def add_parser(subparsers, parents=()) -> None:
    """Register ``recommend``."""
    p = subparsers.add_parser(
        "recommend", parents=list(parents),
        help="next batch of pairs for the lab (Ax experiment in a SQL store)",
        description=__doc__.split("\n\n")[1],
    )
    add_store_arguments(p)
    p.add_argument("--measured", required=True, metavar="MEASURED.csv",
                   help="cumulative results: id1,id2,score rows plus single-gene rows "
                   "(a gene paired with a control name)")
    p.add_argument("--batch", required=True, type=int, metavar="Q", help="pairs per batch")
    p.add_argument("--out", required=True, metavar="NEXT.csv",
                   help="where to write the batch: trial_index,rank,id1,id2,mean,std,acquisition")
    p.add_argument("--surrogate", default=DEFAULT_SURROGATE, metavar="SPEC",
                   help="surrogate spec NAME[:KEY=VALUE,...] of a new experiment (default "
                   f"{DEFAULT_SURROGATE}; naiad is the fast one)")
    p.add_argument("--acquisition", default="mpe", metavar="SPEC",
                   help="acquisition spec NAME[:KEY=VALUE,...] of a new experiment (default mpe)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed of a new experiment")
    p.add_argument("--control", action="append", default=None, metavar="NAME",
                   help="control name of single-gene rows, repeatable (default: negative)")
    p.add_argument("--direction", default=None, choices=["minimize", "maximize", "abs"],
                   help="which phenotype is strong for a new experiment (default minimize)")
    p.add_argument("--no-self-pairs", action="store_true",
                   help="a new experiment never proposes same-gene pairs")
    p.add_argument("--new-batch", action="store_true",
                   help="propose a further batch although one is pending")
    p.add_argument("--library", default=None, metavar="LIBRARY.csv",
                   help="first library of a new experiment (id1,id2 rows), proposed before "
                   "the model takes over (default: a uniform first batch)")
    p.set_defaults(func=run)


@store_errors
def run(args: argparse.Namespace) -> int:
    """One round; prints what was attached and proposed."""
    from naiad_bo.ax.loop import recommend
    from naiad_bo.campaign import CampaignError

    library = None
    if args.library:
        import pandas as pd

        lib = pd.read_csv(args.library, dtype=str)
        if not {"id1", "id2"} <= set(lib.columns):
            raise ValueError(f"--library {args.library}: needs id1,id2 columns, has "
                             f"{list(lib.columns)}")
        library = list(zip(lib["id1"].str.strip(), lib["id2"].str.strip()))
    try:
        res = recommend(
            args.store, args.measured, args.batch, args.out, surrogate=args.surrogate,
            acquisition=args.acquisition, seed=args.seed,
            controls=args.control or ["negative"], name=args.experiment,
            new_batch=args.new_batch, self_pairs=not args.no_self_pairs,
            direction=args.direction, library=library,
        )
    except CampaignError as err:
        raise ValueError(str(err)) from None
    if not args.quiet:
        print(res.summary())
        print(f"wrote {len(res.frame)} pair(s) to {args.out}")
    return 0
