"""A report job: the data, the model and the folder a report goes to; checked before
anything is written, and read by the dozen from a jobs file (CSV or YAML)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CourseError

JOB_FIELDS = ("name", "data", "formula", "family", "link", "means", "title", "n_sim", "seed",
              "factors", "sheet", "sep", "decimal", "encoding", "reml", "ziformula",
              "dispformula", "weights", "reference", "max_levels")
REQUIRED_FIELDS = ("data", "formula", "family")


@dataclass
class ReportJob:
    """One report: the data, the model, and the folder it goes to."""

    data: Path
    formula: str
    family: str
    out: Path
    means: str | None = None
    link: str | None = None
    title: str | None = None
    n_sim: int = 250
    seed: int = 1
    factors: list = field(default_factory=list)
    sheet: str | int | None = None
    sep: str | None = None              # text files: the separator, decimal mark and
    decimal: str | None = None          # encoding (found when not given)
    encoding: str | None = None
    reml: bool | None = None            # None: REML for gaussian identity-link models
    ziformula: str | None = None
    dispformula: str | None = None
    weights: str | None = None          # a column of the data
    references: list = field(default_factory=list)   # "COLUMN=LEVEL"
    max_levels: int | None = None       # allow fixed factors with this many levels

    @property
    def name(self) -> str:
        return self.out.name

    def parameters(self, result_file: str) -> dict:
        """The values papermill injects into the notebook's parameters cell."""
        title = self.title or f"Analysis of {self.data.name}"
        return {
            "data_path": str(self.data.resolve()),
            "sheet": self.sheet,
            "formula": self.formula,
            "family": self.family,
            "link": self.link,
            "factors": list(self.factors),
            "sep": self.sep,
            "decimal": self.decimal,
            "encoding": self.encoding,
            "reml": self.reml,
            "ziformula": self.ziformula,
            "dispformula": self.dispformula,
            "weights": self.weights,
            "references": list(self.references),
            "max_levels": self.max_levels,
            "means": self.means,
            "title": title,
            "source_name": self.data.name,
            "n_sim": int(self.n_sim),
            "seed": int(self.seed),
            "result_file": result_file,
        }


@dataclass
class ReportResult:
    """What happened to one job: ``status`` is ok, warning, failed or skipped."""

    name: str
    out: str
    status: str
    message: str = ""
    seconds: float = 0.0
    summary: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "failed"


# --- checking a job before anything is written --------------------------------------------
def check_job(job: ReportJob):
    """Read the data and build the model (no fit) exactly as the notebook will.

    Raises :class:`ReportInputError` with one clear message for a missing or
    unreadable file, an unknown column, a column of numbers holding text, a
    response of the wrong kind, a one-level grouping factor, a formula that does
    not parse, an unknown family, a fixed factor with too many levels or means
    that are not fixed factors. Returns the ``GLMMModel``.
    """
    from .inputs import ReportInputError, load_inputs

    if not str(job.formula or "").strip():
        raise ReportInputError("no model formula given (--formula \"y ~ trt + (1|block)\")")
    if not str(job.family or "").strip():
        raise ReportInputError("no family given (--family poisson, nbinom1, binomial, ...)")
    try:
        n_sim, _ = int(job.n_sim), int(job.seed)
    except (TypeError, ValueError):
        raise ReportInputError(f"n_sim and seed must be whole numbers, got {job.n_sim!r} and "
                               f"{job.seed!r}") from None
    if n_sim < 10:
        raise ReportInputError(f"n_sim must be at least 10 (250 is usual), got {n_sim}")
    params = job.parameters("")
    for name in ("result_file", "title", "source_name", "n_sim", "seed"):
        params.pop(name)
    return load_inputs(**params).model


# --- many reports: the jobs file -----------------------------------------------------------
def _split_list(value) -> list:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).replace(";", ",").split(",") if v.strip()]


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or \
        (isinstance(value, str) and not value.strip())


def _yes_no(value) -> bool | None:
    """reml: yes/no, true/false, 1/0 (blank: the default)."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "1", "reml"):
        return True
    if text in ("no", "false", "0", "ml"):
        return False
    raise ValueError(f"reml must be yes or no, got {value!r}")


def read_jobs(path: Path, out: Path) -> list[ReportJob]:
    """Jobs from a CSV or YAML file, one report per row/entry.

    Fields: ``data``, ``formula``, ``family`` (required), ``name`` (the report's
    folder under ``out``; default: the data file's name, numbered if repeated),
    ``means``, ``link``, ``title``, ``n_sim``, ``seed``, ``factors`` (comma- or
    semicolon-separated), ``sheet``, ``sep``, ``decimal``, ``encoding``, ``reml`` (yes or
    no; blank: REML for gaussian identity-link models), ``ziformula``, ``dispformula``,
    ``weights``, ``reference`` (``COLUMN=LEVEL``, comma-separated) and ``max_levels``, as
    the command line's options. Relative data paths are relative to the
    jobs file. YAML: a list of mappings, or ``{defaults: {...}, jobs: [...]}``.
    Problems with the file itself (unknown or missing fields, repeated names)
    raise :class:`CourseError` before any report is made.
    """
    import pandas as pd
    import yaml

    path = Path(path)
    if not path.is_file():
        raise CourseError(f"jobs file not found: {path}")
    suffix = path.suffix.lower()
    defaults = {}
    if suffix in (".yaml", ".yml"):
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise CourseError(f"{path.name} is not valid YAML: {err}") from None
        if isinstance(loaded, dict):
            defaults = loaded.get("defaults") or {}
            entries = loaded.get("jobs")
        else:
            entries = loaded
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise CourseError(f"{path.name}: expected a list of jobs (mappings), or "
                              "{defaults: {...}, jobs: [...]}")
    elif suffix in (".csv", ".tsv", ".txt"):
        try:
            frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False,
                                skipinitialspace=True, comment="#")
        except Exception as err:  # noqa: BLE001
            raise CourseError(f"cannot read the jobs file {path.name}: {err}") from None
        frame.columns = [c.strip() for c in frame.columns]
        entries = [{k: (v if v != "" else None) for k, v in row.items()}
                   for row in frame.to_dict("records")]
    else:
        raise CourseError(f"jobs file {path.name}: expected .csv or .yaml, got {suffix!r}")
    if not entries:
        raise CourseError(f"{path.name} lists no jobs")
    jobs, names = [], {}
    for number, entry in enumerate(entries, start=1):
        entry = {**defaults, **{str(k).strip(): v for k, v in entry.items()}}
        unknown = sorted(set(entry) - set(JOB_FIELDS))
        if unknown:
            raise CourseError(f"{path.name}, job {number}: unknown field(s) {', '.join(unknown)}; "
                              f"the fields are: {', '.join(JOB_FIELDS)}")
        missing = [f for f in REQUIRED_FIELDS if _blank(entry.get(f))]
        if missing:
            raise CourseError(f"{path.name}, job {number}: missing {', '.join(missing)}")
        data = Path(str(entry["data"]).strip())
        if not data.is_absolute():
            data = path.parent / data
        name = str(entry.get("name") or "").strip() or data.stem
        if _blank(entry.get("name")) and name in names:
            name = f"{name}-{number}"
        if "/" in name or name.startswith("."):
            raise CourseError(f"{path.name}, job {number}: the name {name!r} must be a plain "
                              "folder name")
        if name in names:
            raise CourseError(f"{path.name}: jobs {names[name]} and {number} have the same "
                              f"name {name!r}; names must be unique")
        names[name] = number
        try:
            n_sim = int(float(entry.get("n_sim") or 250))
            seed = int(float(entry.get("seed") if not _blank(entry.get("seed")) else 1))
        except ValueError:
            raise CourseError(f"{path.name}, job {number}: n_sim and seed must be numbers") \
                from None
        sheet = entry.get("sheet")
        try:
            reml = _yes_no(entry.get("reml"))
            max_levels = None if _blank(entry.get("max_levels")) else \
                int(float(entry["max_levels"]))
        except ValueError as err:
            raise CourseError(f"{path.name}, job {number}: {err}") from None
        text = {f: None if _blank(entry.get(f)) else str(entry[f]).strip()
                for f in ("sep", "decimal", "encoding", "ziformula", "dispformula", "weights")}
        jobs.append(ReportJob(
            data=data, formula=str(entry["formula"]), family=str(entry["family"]).strip(),
            out=Path(out) / name,
            means=None if _blank(entry.get("means")) else str(entry["means"]).strip(),
            link=None if _blank(entry.get("link")) else str(entry["link"]).strip(),
            title=None if _blank(entry.get("title")) else str(entry["title"]),
            n_sim=n_sim, seed=seed, factors=_split_list(entry.get("factors")),
            sheet=None if _blank(sheet) else sheet, reml=reml, max_levels=max_levels,
            references=_split_list(entry.get("reference")), **text,
        ))
    return jobs
