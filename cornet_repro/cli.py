"""The ``cornet-repro`` command line.

``cornet-repro figure fig1 -p threshold 0.6 --out figures_out`` runs one figure notebook with
parameters and writes its PNG and PDF files. Other subcommands are registered by their modules.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml

from .notebook_runner import NOTEBOOK_DIR, NotebookError, execute_notebook, notebook_names, notebook_parameter_names


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest parent with ``_toc.yml`` and ``notebooks/``."""
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for base in candidates:
        for folder in (base, *base.parents):
            if (folder / "_toc.yml").exists() and (folder / NOTEBOOK_DIR).is_dir():
                return folder
    raise SystemExit("cornet-repro: cannot find the repository (a folder with _toc.yml and notebooks/); "
                     "run from inside the clone or pass --root")


def resolve_notebook(root: Path, name: str) -> str:
    """``fig1`` → ``fig1_brainscore_vs_imagenet``: exact name or unique prefix."""
    names = notebook_names(root)
    if name in names:
        return name
    matches = [n for n in names if n.startswith(name + "_") or n.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    hint = f"ambiguous: {matches}" if matches else f"available: {', '.join(names)}"
    raise SystemExit(f"cornet-repro: no single notebook called {name!r} ({hint})")


def parse_parameters(pairs: Sequence[Sequence[str]]) -> dict[str, Any]:
    """``-p name value`` pairs; values are read as YAML (0.6 → float, false → bool, [a, b] → list)."""
    out = {}
    for name, value in pairs:
        try:
            out[name] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise SystemExit(f"cornet-repro: parameter {name}: cannot read value {value!r} ({exc})") from exc
    return out


def cmd_figure(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve() if args.root else find_root()
    if args.list:
        for name in notebook_names(root):
            params = notebook_parameter_names(root / NOTEBOOK_DIR / f"{name}.ipynb")
            print(f"{name}: {', '.join(params)}")
        return 0
    if not args.name:
        raise SystemExit("cornet-repro figure: name a figure (e.g. fig1) or use --list")
    name = resolve_notebook(root, args.name)
    source = root / NOTEBOOK_DIR / f"{name}.ipynb"
    params = parse_parameters(args.parameter or [])
    out = Path(args.out).resolve()
    if "figure_dir" in notebook_parameter_names(source):
        params.setdefault("figure_dir", str(out))
    try:
        executed = execute_notebook(source, out / f"{name}.ipynb", params, cwd=root)
    except NotebookError as exc:
        print(f"cornet-repro: {exc}", file=sys.stderr)
        return 1
    written = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".pdf"))
    print(f"executed {executed}\nfigure files in {out}: {', '.join(written) or 'none (this notebook has no figure)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cornet-repro", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fig = sub.add_parser("figure", help="run one figure notebook with parameters; write PNG and PDF",
                         description="Run notebooks/<name>.ipynb through papermill with parameters.")
    fig.add_argument("name", nargs="?", help="figure notebook: fig1 … fig5, table_a1, claims_check")
    fig.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="set a parameter of the notebook's parameters cell (value read as YAML)")
    fig.add_argument("--out", default="figures_out", help="output folder (default: figures_out)")
    fig.add_argument("--root", help="repository root (default: found from the current folder)")
    fig.add_argument("--list", action="store_true", help="list the notebooks and their parameters")
    fig.set_defaults(func=cmd_figure)
    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction) -> None:
    """Subcommands owned by other modules (training, scoring, simulation), added when present."""
    import importlib

    for module_name in ("cornet_repro.train", "cornet_repro.results", "cornet_repro.data.simulated"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        register = getattr(module, "register_cli", None)
        if register is not None:
            register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
