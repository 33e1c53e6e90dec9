"""``naiad-bo evaluate``: small-sample accuracy of a surrogate on a measured screen.

For each seed: hold out a fixed test (and validation) split, train the model on ``N`` pairs
drawn uniformly from the rest (:func:`naiad_bo.splits.train_test_split`), and report test RMSE
and Pearson correlation plus the fit time. This is the protocol of the NAIAD paper's Table 1 /
Figure 3. :func:`evaluate_model` is the library entry point (the benchmark script uses it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from naiad_bo.cli.screen_args import add_screen_arguments, screen_from_args


def _surrogate_spec(args: argparse.Namespace):
    """``--surrogate SPEC`` (or the deprecated ``--model NAME --model-arg KEY=VALUE``)."""
    import warnings

    from naiad_bo.specs import SurrogateSpec, parse_options

    if args.model is not None:
        warnings.warn("--model is deprecated; use --surrogate NAME[:KEY=VALUE,...]",
                      FutureWarning, stacklevel=2)
        if args.surrogate is not None:
            raise ValueError("give --surrogate or the deprecated --model, not both")
    if args.model_arg:
        warnings.warn("--model-arg is deprecated; use --surrogate NAME:KEY=VALUE,...",
                      FutureWarning, stacklevel=2)
    text = args.surrogate if args.surrogate is not None else args.model
    if text is None:
        raise ValueError("--surrogate is required (e.g. --surrogate naiad:epochs=100)")
    extra = parse_options(args.model_arg or [], "--model-arg")
    return SurrogateSpec.parse(text, extra)


def _run_unseen(args, screen, spec, sizes) -> int:
    import pandas as pd

    from naiad_bo.models.registry import get_model_class
    from naiad_bo.unseen import evaluate_unseen

    cls = get_model_class(spec.surrogate) if isinstance(spec.surrogate, str) else spec.surrogate
    records = []
    for n in sizes:
        records += evaluate_unseen(
            screen,
            cls,
            args.unseen_genes,
            int(n),
            args.seeds,
            descriptors=args.unseen_descriptors,
            model_kwargs=dict(spec.options),
            test_frac=args.test_frac,
            val_frac=args.val_frac,
            name=spec.name,
        )
    df = pd.DataFrame.from_records(records)
    cols = ["model", "n_train", "seed", "n_hidden", "rmse_seen", "rmse_one_unseen",
            "rmse_one_unseen_baseline", "rmse_two_unseen", "rmse_two_unseen_baseline",
            "spearman_unseen_single_effects"]
    print(f"screen {screen.name}: {screen.n_genes} genes, {args.unseen_genes:.0%} hidden")
    print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.json is not None:
        from naiad_bo.cli.jsonout import write_json

        write_json(args.json, records)  # strict JSON: non-finite values become null
        print(f"wrote {len(records)} records to {args.json}")
    return 0


def add_parser(subparsers, parents=()) -> None:
    """Register ``evaluate``."""
    p = subparsers.add_parser(
        "evaluate", parents=list(parents),
        help="test RMSE / Pearson of a surrogate trained on N uniformly chosen pairs",
        description=(
            "Train a surrogate on N uniformly chosen pairs of a measured screen and report "
            "test RMSE and Pearson per seed (NAIAD paper Table 1 protocol)."
        ),
    )
    add_screen_arguments(p)
    p.add_argument(
        "--surrogate", default=None, metavar="SPEC",
        help="surrogate spec NAME[:ARG][:KEY=VALUE,...]: naiad, linear, sum, mlp, recover, "
        "gp or gp:DESCRIPTORS (gp:string+go) "
        "(e.g. naiad:ensemble_size=3)",
    )
    p.add_argument("--model", default=None, help=argparse.SUPPRESS)  # deprecated alias
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument(
        "--train-pairs", type=int, nargs="+", metavar="N", help="training-set size(s) N"
    )
    size.add_argument(
        "--occurrence",
        type=float,
        nargs="+",
        metavar="K",
        help="average gene occurrence 2N/M instead of N (N = round(K * M / 2))",
    )
    p.add_argument("--test-frac", type=float, default=0.3, help="held-out test fraction (0.3)")
    p.add_argument("--val-frac", type=float, default=0.1, help="validation fraction (0.1)")
    p.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)"
    )
    p.add_argument("--model-arg", action="append", metavar="KEY=VALUE",
                   help=argparse.SUPPRESS)  # deprecated: options of --surrogate
    p.add_argument(
        "--unseen-genes",
        type=float,
        metavar="F",
        help=(
            "hide a fraction F of the genes entirely (single effects and pairs); report RMSE on "
            "test pairs with one / two unseen genes with descriptor-predicted single effects vs "
            "the mean single effect imputed"
        ),
    )
    p.add_argument(
        "--unseen-descriptors",
        default="string+go+depmap",
        metavar="SPEC",
        help="descriptors that predict unseen single effects (default string+go+depmap)",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="write the per-seed records here")
    p.add_argument("--no-progress", action="store_true", dest="no_progress",
                   help=argparse.SUPPRESS)  # deprecated alias of --quiet
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print a per-seed table and a summary, optionally write JSON."""
    import pandas as pd

    from naiad_bo.evaluation import evaluate_model, summarize

    spec = _surrogate_spec(args)  # fail on a bad spec before loading data
    screen = screen_from_args(args)
    if args.occurrence is not None:
        if any(k <= 0 for k in args.occurrence):
            raise ValueError("--occurrence must be positive")
        sizes = [max(1, int(round(k * screen.n_genes / 2))) for k in args.occurrence]
    else:
        sizes = args.train_pairs
    if any(n < 1 for n in sizes):
        raise ValueError(f"--train-pairs must be positive, got {sizes}")
    if args.unseen_genes is not None:
        return _run_unseen(args, screen, spec, sizes)
    records = evaluate_model(
        screen,
        spec.surrogate,
        sizes,
        args.seeds,
        test_frac=args.test_frac,
        val_frac=args.val_frac,
        model_kwargs=dict(spec.options),
        progress=not (args.quiet or args.no_progress),
    )
    df = pd.DataFrame.from_records(records)
    cols = ["model", "n_train", "occurrence", "seed", "rmse", "pearson", "fit_s"]
    print(f"screen {screen.name}: {screen.n_genes} genes, {screen.n_pairs} pairs")
    print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    summary = summarize(records)
    show = summary[
        ["model", "n_train", "seeds", "rmse_mean", "rmse_se", "rmse_median", "pearson_mean",
         "pearson_se", "fit_s_mean"]
    ]
    print(show.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.json is not None:
        from naiad_bo.cli.jsonout import write_json

        write_json(args.json, records)  # strict JSON: non-finite values become null
        print(f"wrote {len(records)} records to {args.json}")
    return 0
