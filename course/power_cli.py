"""``python -m course power spec.yaml``: a power curve from a model specification.

The YAML file names a design (or a data file) and the model with its values, as
``gl.specify`` takes them, and the simulation, as ``gl.power`` takes it::

    design: {type: rcbd, treatments: [T1, T2, T3, T4], blocks: 6}   # or data: trial.csv
    formula: y ~ trt + (1|block)
    family: nbinom1
    fixed: {"(Intercept)": 0.3, trtT2: -0.4, trtT3: -0.2, trtT4: -0.5}
    sd: {block: 0.3}
    dispersion: 0.3
    test: trt
    method: lrt
    nsim: 1000
    seed: 1
    along: block
    levels: [3, 4, 6, 8, 12]

Command-line flags override the simulation settings.  The curve is printed and, with
``--out``, written as ``power.csv`` and ``power.png``.
"""
from __future__ import annotations

from pathlib import Path

from .errors import UsageError

DESIGN_KEYS = ("design", "data")
MODEL_KEYS = ("formula", "family", "link", "fixed", "sd", "corr", "dispersion", "zi", "aux",
              "weights", "offset", "ziformula", "dispformula", "REML")
POWER_KEYS = ("test", "method", "nsim", "seed", "alpha", "along", "levels", "workers",
              "scheduler", "store")


def add_parser(sub) -> None:
    """The ``power`` subcommand (registered by :mod:`course.cli`)."""
    power = sub.add_parser(
        "power", help="simulated power of a planned experiment (how many blocks?)",
        description="Simulate data from a specified mixed model on a design, refit it, and "
                    "report how often the test of a term rejects, for each design size.")
    power.add_argument("spec", type=Path, help="the YAML specification (see course.power_cli)")
    power.add_argument("--nsim", type=int, help="simulations per design size")
    power.add_argument("--seed", type=int, help="random seed")
    power.add_argument("--workers", type=int, help="local Dask workers (1: in this process)")
    power.add_argument("--scheduler", metavar="ADDRESS",
                       help="a running Dask scheduler, e.g. tcp://host:8786")
    power.add_argument("--store", type=Path, help="folder for the results of each chunk")
    power.add_argument("--resume", action="store_true",
                       help="continue the run whose chunks are in --store")
    power.add_argument("--out", "-o", type=Path, help="folder for power.csv and power.png")
    power.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def read_spec(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise UsageError(f"no specification file {str(path)!r}")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(spec, dict):
        raise UsageError(f"{path}: expected a mapping of settings (formula:, test:, ...)")
    unknown = sorted(set(spec) - set(DESIGN_KEYS + MODEL_KEYS + POWER_KEYS))
    if unknown:
        raise UsageError(f"{path}: unknown settings {unknown}; known: "
                         f"{', '.join(DESIGN_KEYS + MODEL_KEYS + POWER_KEYS)}")
    for key in ("formula", "fixed", "test"):
        if key not in spec:
            raise UsageError(f"{path}: the setting {key!r} is required")
    if ("design" in spec) == ("data" in spec):
        raise UsageError(f"{path}: give either design: (a layout) or data: (a file)")
    return spec


def design_data(spec: dict, base: Path):
    import glmm_lib as gl

    if "data" in spec:
        return gl.datasets.read(base / spec["data"])
    design = dict(spec["design"]) if isinstance(spec["design"], dict) else None
    kind = design.pop("type", None) if design else None
    if kind not in gl.designs.__all__:
        raise UsageError(f"design: needs type: one of {', '.join(gl.designs.__all__)}")
    try:
        return getattr(gl.designs, kind)(**design)
    except TypeError as err:
        raise UsageError(f"design {kind}: {err}") from None


def cmd_power(args) -> int:
    import glmm_lib as gl

    spec = read_spec(args.spec)
    settings = {k: spec[k] for k in POWER_KEYS if k in spec}
    for key in ("nsim", "seed", "workers", "scheduler", "store"):
        value = getattr(args, key)
        if value is not None:
            settings[key] = str(value) if key == "store" else value
    try:
        data = design_data(spec, args.spec.parent)
        model = gl.specify(data=data, **{k: spec[k] for k in MODEL_KEYS if k in spec})
        curve = gl.power(model, resume=args.resume, progress=not args.quiet, **settings)
    except gl.GLMMInputError as err:
        raise UsageError(str(err)) from None
    print(curve.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    failed = int(curve["failed"].sum())
    print(f"\n{settings.get('method', 'lrt')} test of {spec['test']}, alpha "
          f"{settings.get('alpha', 0.05)}, seed {curve.attrs['seed']}; {failed} failed fits "
          f"left out; {curve.attrs['retried']} chunks retried")
    if args.out is not None:
        import matplotlib
        matplotlib.use("Agg")
        args.out.mkdir(parents=True, exist_ok=True)
        curve.to_csv(args.out / "power.csv", index=False)
        curve.plot().figure.savefig(args.out / "power.png", dpi=120, bbox_inches="tight")
        print(f"wrote {args.out / 'power.csv'} and {args.out / 'power.png'}")
    return 0
