"""Delimited files in any common encoding and dialect (issue 15, items 3 and 4)."""

from __future__ import annotations

import pandas as pd
import pytest

from course.text_tables import (TableReadError, read_delimited, sniff_decimal,
                                sniff_separator, text_in_number_columns)

EUROPEAN = "bloc;traitement;dose;germées\nB1;témoin;0,5;12\nB1;cuivre;1,25;8\nB2;témoin;2;15\n"


def test_semicolon_and_decimal_comma_are_found(tmp_path):
    path = tmp_path / "essai.csv"
    path.write_text(EUROPEAN, encoding="utf-8")
    df, dialect, notes = read_delimited(path)
    assert (dialect.separator, dialect.decimal) == (";", ",")
    assert df["dose"].tolist() == [0.5, 1.25, 2.0]
    assert pd.api.types.is_float_dtype(df["dose"])
    assert "semicolon-separated, decimal comma" in notes[-1]


def test_latin1_file_is_read_with_a_note(tmp_path):
    path = tmp_path / "essai.csv"
    path.write_bytes(EUROPEAN.encode("latin-1"))
    df, dialect, notes = read_delimited(path)
    assert dialect.encoding == "cp1252"
    assert list(df.columns)[-1] == "germées" and df["traitement"][0] == "témoin"
    assert "not UTF-8 (first non-UTF-8 byte on line 1)" in notes[0]


def test_utf8_with_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffa,b\n1,2\n".encode("utf-8"))
    df, dialect, notes = read_delimited(path)
    assert list(df.columns) == ["a", "b"] and dialect.encoding == "utf-8" and not notes


def test_given_options_win(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("a|b\n1,5|2\n", encoding="utf-8")
    df, dialect, _ = read_delimited(path, separator="|", decimal=",")
    assert df["a"].tolist() == [1.5]
    path.write_bytes("é\n1\n".encode("latin-1"))
    with pytest.raises(TableReadError, match="not valid ascii: byte 0xe9 on line 1"):
        read_delimited(path, encoding="ascii")
    with pytest.raises(TableReadError, match="unknown encoding"):
        read_delimited(path, encoding="klingon")
    with pytest.raises(TableReadError, match="--sep"):
        read_delimited(path, separator="x")


def test_sniffing_rules():
    assert sniff_separator("a,b,c\n1,2,3\n") == ","
    assert sniff_separator("a;b\n1,5;2\n") == ";"
    assert sniff_separator("a\tb\n1\t2\n") == "\t"
    assert sniff_decimal("a;b\n1,5;2\n", ";") == ","
    assert sniff_decimal("a;b\n1.5;2,5\n", ";") == "."      # mixed: never guess a comma
    assert sniff_decimal("a,b\n1,2\n", ",") == "."


def test_text_in_a_column_of_numbers_is_reported_by_line():
    df = pd.DataFrame({"dose": ["1.5", "2", "n/a", "3", "4", "5"],
                       "trt": ["T1", "T2", "T1", "T2", "T1", "T2"]})
    found = text_in_number_columns(df)
    assert found == {"dose": [(4, "n/a")]}
