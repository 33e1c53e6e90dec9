"""``naiad-bo describe``: summarise a bundled screen or a screen file."""

from __future__ import annotations

import argparse
import math

from naiad_bo.cli.screen_args import add_screen_arguments, screen_from_args


def add_parser(subparsers, parents=()) -> None:
    """Register ``describe``."""
    p = subparsers.add_parser(
        "describe", parents=list(parents),
        help="summarise a screen: genes, pairs, noise floor, strongest pairs, additive fit",
    )
    add_screen_arguments(p, positional=True)
    p.add_argument("--top", type=int, default=10, help="how many strongest pairs to list")
    p.add_argument("--plot", metavar="OUT.png", help="save measured vs additive prediction plot")
    p.add_argument("--json", metavar="OUT.json", help="save the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary (and optionally save plot / JSON)."""
    screen = screen_from_args(args)
    s = screen.summary()
    rep = screen.report
    print(f"screen            {screen.name}")
    if screen.metadata.get("citation"):
        print(f"citation          {screen.metadata['citation']}")
    print(f"rows read         {rep.n_rows:,} ({rep.n_control_rows:,} single-gene control rows, "
          f"{rep.n_pair_rows:,} pair rows, {rep.n_control_control_rows:,} control-control rows "
          "ignored)")
    print(f"genes             {s['n_genes']:,}")
    print(f"pairs             {s['n_pairs']:,} distinct unordered ({s['n_same_gene_pairs']} "
          f"same-gene) of {s['n_possible_pairs']:,} possible "
          f"({100 * s['n_pairs'] / s['n_possible_pairs']:.1f}% complete)")
    if s["n_pairs_with_replicates"]:
        print(f"noise floor       median replicate sd {s['median_replicate_sd']:.4f} over "
              f"{s['n_pairs_with_replicates']:,} pairs with >1 measurement")
    else:
        print("noise floor       no replicated pairs (one value per pair): not estimable")
    print(f"phenotype         mean {s['y_mean']:.4f}, sd {s['y_sd']:.4f}, "
          f"strongest = {screen.direction.value}")
    b0, b1 = s["additive_fit_coef"]
    print(f"additive model    y = y_a + y_b explains R^2 = {s['additive_r2_sum']:.3f}; "
          f"fitted y = {b0:+.4f} + {b1:.4f}(y_a + y_b) explains R^2 = "
          f"{s['additive_r2_fit']:.3f} (Pearson {s['additive_pearson']:.3f})")
    if rep.dropped_genes_without_single:
        print(f"dropped           {len(rep.dropped_genes_without_single)} gene(s) without a "
              f"control row, {rep.n_pairs_dropped_without_single} pair(s)")
    if rep.renamed_symbols:
        print(f"renamed symbols   {len(rep.renamed_symbols)}: " + ", ".join(
            f"{k}->{v}" for k, v in list(rep.renamed_symbols.items())[:15]))
    if args.normalize_symbols:
        print(f"unresolved        {len(rep.unresolved_symbols)}: {rep.unresolved_symbols[:15]}")
        print(f"ambiguous         {len(rep.ambiguous_symbols)}: "
              f"{dict(list(rep.ambiguous_symbols.items())[:10])}")
    top = screen.strongest(args.top)
    add = screen.single_effects[top["gene_a"]] + screen.single_effects[top["gene_b"]]
    print(f"\nstrongest {len(top)} pairs:")
    print(f"  {'gene 1':<12}{'gene 2':<12}{'y':>9}{'y_a+y_b':>9}{'n_obs':>7}{'sd':>8}")
    for (_, r), a in zip(top.iterrows(), add):
        sd = "" if math.isnan(r["sd"]) else f"{r['sd']:.3f}"
        print(f"  {r['id1']:<12}{r['id2']:<12}{r['y']:>9.4f}{a:>9.4f}{r['n_obs']:>7}{sd:>8}")
    if args.plot:
        from naiad_bo.plotting import plot_additive

        print(f"\nplot saved to {plot_additive(screen, args.plot)}")
    if args.json:
        from naiad_bo.cli.jsonout import write_json

        out = dict(s, report=rep.as_dict(), strongest=top.to_dict(orient="records"))
        write_json(args.json, out)  # strict JSON: NaN (e.g. no replicates) -> null
        print(f"summary saved to {args.json}")
    return 0
