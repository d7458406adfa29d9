"""The shipped data sets and their loader."""

from __future__ import annotations

import csv
import gzip
import json
import shutil

import pandas as pd
import pytest

from conftest import REPO
from glmm_lib import datasets

DATA = REPO / "data"


def test_available_lists_the_shipped_files():
    assert datasets.available() == ["balanced_pigs", "beall_webworms", "belenky_sleepstudy",
                                    "crowder_seeds", "greenhouse_pots", "john_alpha",
                                    "lme4_dyestuff2", "lme4_insteval", "rat_bodyweight",
                                    "swine_weights", "yates_oats"]
    shipped = [f.name.split(".")[0] for f in DATA.iterdir() if f.name.endswith((".csv", ".csv.gz"))]
    assert sorted(shipped) == datasets.available()


def test_beall_webworms_is_typed_in_the_stated_level_order():
    df = datasets.load("beall_webworms")
    assert df.shape == (1300, 7)
    assert list(df.columns) == ["row", "col", "y", "block", "trt", "spray", "lead"]
    for col in ("row", "col", "y"):
        assert df[col].dtype == "int64"
    assert list(df["block"].cat.categories) == [f"B{i}" for i in range(1, 14)]  # B2 before B10
    assert list(df["trt"].cat.categories) == ["T1", "T2", "T3", "T4"]
    assert list(df["spray"].cat.categories) == ["N", "Y"]
    assert list(df["lead"].cat.categories) == ["N", "Y"]
    assert not df["block"].cat.ordered
    assert not df.isna().any().any()
    assert (df["y"] >= 0).all()
    # The RCBD: 13 blocks x 4 treatments x 25 unit areas, one count per field position.
    assert (df.groupby(["block", "trt"], observed=True).size() == 25).all()
    assert not df.duplicated(["row", "col"]).any()
    # trt is the 2x2 factorial spray x lead: T1 none, T2 spray, T3 lead, T4 both.
    combos = df.groupby("trt", observed=True)[["spray", "lead"]].first().astype(str)
    assert combos.to_dict("index") == {
        "T1": {"spray": "N", "lead": "N"}, "T2": {"spray": "Y", "lead": "N"},
        "T3": {"spray": "N", "lead": "Y"}, "T4": {"spray": "Y", "lead": "Y"},
    }


def test_crowder_seeds_is_typed_in_the_stated_level_order():
    df = datasets.load("crowder_seeds")
    assert df.shape == (21, 5)
    assert list(df["plate"].cat.categories) == [f"P{i}" for i in range(1, 22)]
    assert list(df["gen"].cat.categories) == ["O73", "O75"]
    assert list(df["extract"].cat.categories) == ["bean", "cucumber"]
    assert df["germ"].dtype == "int64" and df["n"].dtype == "int64"
    assert ((df["germ"] >= 0) & (df["germ"] <= df["n"])).all()
    assert df["plate"].is_unique


def test_lme4_insteval_is_lme4s_crossed_design():
    df = datasets.load("lme4_insteval")
    assert df.shape == (73421, 7)
    assert [df[c].cat.categories.size for c in ("s", "d", "dept")] == [2972, 1128, 14]
    assert list(df["service"].cat.categories) == ["0", "1"]
    assert df["y"].between(1, 5).all()


def test_greenhouse_pots_is_a_crd_with_subsampling():
    """4 fertilizers x 4 pots x 4 plants; each pot on one fertilizer; the file is what
    data/make_pots.py makes."""
    import subprocess
    import sys

    df = datasets.load("greenhouse_pots")
    assert df.shape == (64, 4)
    assert list(df["fertilizer"].cat.categories) == ["F1", "F2", "F3", "F4"]
    assert (df.groupby("pot", observed=True)["fertilizer"].nunique() == 1).all()
    assert (df.groupby("fertilizer", observed=True)["pot"].nunique() == 4).all()
    assert (df.groupby("pot", observed=True).size() == 4).all()
    check = subprocess.run([sys.executable, "data/make_pots.py", "--check"], cwd=REPO,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


def test_load_matches_the_raw_csv():
    raw = pd.read_csv(DATA / "crowder_seeds.csv")
    df = datasets.load("crowder_seeds")
    assert df["germ"].tolist() == raw["germ"].tolist()
    assert df["plate"].astype(str).tolist() == raw["plate"].tolist()


def test_each_load_is_a_fresh_frame():
    first = datasets.load("crowder_seeds")
    first.loc[0, "germ"] = -1
    assert datasets.load("crowder_seeds").loc[0, "germ"] != -1


def test_unknown_name_lists_the_available_data_sets():
    with pytest.raises(datasets.DatasetError,
                       match="available data sets: balanced_pigs, beall_webworms, belenky_sleepstudy"):
        datasets.load("beall")
    with pytest.raises(ValueError):  # DatasetError is a ValueError
        datasets.load("crowder_seeds.csv")


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    monkeypatch.setattr(datasets, "SHIPPED", copy)
    return copy


def test_value_outside_the_levels_is_an_error(data_copy):
    path = data_copy / "crowder_seeds.csv"
    path.write_text(path.read_text().replace("O73", "O99", 1))
    with pytest.raises(datasets.DatasetError, match=r"column 'gen' has values \['O99'\] outside its levels"):
        datasets.load("crowder_seeds")


def test_missing_value_and_wrong_columns_are_errors(data_copy):
    path = data_copy / "crowder_seeds.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:1] + [lines[1].replace(",bean,", ",,")] + lines[2:]) + "\n")
    with pytest.raises(datasets.DatasetError, match="'extract' has missing values"):
        datasets.load("crowder_seeds")
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")
    with pytest.raises(datasets.DatasetError, match="do not match the description"):
        datasets.load("crowder_seeds")


def test_every_column_is_described_with_type_unit_and_source():
    package = json.loads((DATA / "datapackage.json").read_text())
    readme = (DATA / "README.md").read_text()
    for res in package["resources"]:
        # a published data set cites its DOI (a book without one: the CRAN package that
        # distributes the data); a simulated one names its seeded script in data/
        paths = [s["path"] for s in res["sources"] if "path" in s]
        assert any(p.startswith(("https://doi.org/", "https://CRAN.R-project.org/package="))
                   or (DATA / p).is_file() for p in paths)
        opener = gzip.open if res["path"].endswith(".gz") else open
        with opener(DATA / res["path"], "rt", newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        fields = res["schema"]["fields"]
        assert [f["name"] for f in fields] == header
        for field in fields:
            assert field["type"] in {"integer", "number", "string"}
            assert field["unit"] and field["description"]
            assert f"`{field['name']}`" in readme
        assert res["path"] in readme
    assert package["licenses"]


def test_the_data_are_package_data_and_importing_loads_no_plotting():
    """glmm_lib finds its data inside the package (glmm_lib/data links to the repository's
    data/), and ``import glmm_lib`` loads neither matplotlib nor the course package."""
    import subprocess
    import sys

    assert (REPO / "glmm_lib" / "data" / "datapackage.json").samefile(DATA / "datapackage.json")
    code = ("import sys, glmm_lib; glmm_lib.datasets.load('crowder_seeds'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'course'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"
