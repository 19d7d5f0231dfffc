"""Observed rainfall CSV files: reading, units, every malformed-file message, period coverage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from hydro.errors import InputError, ScenarioError
from hydro.rain import RainSeries, read_rain_csv

GOOD = """\
# two gauges, depth per 5-minute interval
time,RG1,RG2
2024-06-20 08:00,0.0,0.5
2024-06-20 08:05,1.5,2.0

2024-06-20T08:10,3.0,0.0
2024-06-20T08:15:00,0.5,1.0
"""


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "rain.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding=encoding)
        return path

    return write


# --- reading ------------------------------------------------------------------------------------


def test_reads_depths_per_interval(write):
    series = read_rain_csv(write(GOOD))
    assert series.gauges == ("RG1", "RG2")
    assert series.step == 300.0
    assert series.times.dtype == np.dtype("datetime64[ns]")
    assert series.times[0] == np.datetime64("2024-06-20T08:00")
    assert series.times[-1] == np.datetime64("2024-06-20T08:15")
    assert series.intensity.shape == (4, 2)
    # 1.5 mm in 300 s = 5e-6 m/s
    assert series.intensity[1, 0] == pytest.approx(1.5e-3 / 300.0)
    np.testing.assert_allclose(series.depth, [5.0e-3, 3.5e-3])
    np.testing.assert_allclose(series.to_mm_per_hour()[1], [18.0, 24.0])
    assert series.end == np.datetime64("2024-06-20T08:20")


def test_reads_intensities_in_mm_per_hour(write):
    series = read_rain_csv(write("time,A\n2024-06-20 08:00,36\n2024-06-20 08:10,0\n"), units="mm/h")
    assert series.intensity[0, 0] == pytest.approx(1e-5)  # 36 mm/h
    assert series.depth[0] == pytest.approx(6e-3)  # 36 mm/h over 10 minutes


def test_end_labels_shift_back_one_step(write):
    series = read_rain_csv(write(GOOD), label="end")
    assert series.times[0] == np.datetime64("2024-06-20T07:55")
    assert series.end == np.datetime64("2024-06-20T08:15")


def test_byte_order_mark_and_semicolons(write):
    text = "\ufefftime;RG1\n2024-06-20 08:00;1\n2024-06-20 08:01;2\n"
    series = read_rain_csv(write(text), delimiter=";")
    assert series.gauges == ("RG1",)
    assert series.step == 60.0


def test_utc_offsets_become_utc(write):
    text = "time,RG1\n2024-06-20T08:00+08:00,1\n2024-06-20T08:05+08:00,2\n"
    series = read_rain_csv(write(text))
    assert series.times[0] == np.datetime64("2024-06-20T00:00")


def test_explicit_step_allows_one_row(write):
    series = read_rain_csv(write("time,RG1\n2024-06-20 08:00,3\n"), step=600)
    assert series.intensity[0, 0] == pytest.approx(3e-3 / 600)


def test_gauge_lookup(write):
    series = read_rain_csv(write(GOOD))
    np.testing.assert_array_equal(series.gauge("RG2"), series.intensity[:, 1])
    with pytest.raises(ScenarioError, match=r"no rain gauge 'RG3'; did you mean"):
        series.gauge("RG3")


# --- malformed files: the message names file, line and gauge ------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", r"the file is empty"),
        ("# only a comment\n\n", r"the file is empty"),
        ("time,RG1\n", r"no data rows"),
        ("time\n2024-06-20 08:00\n", r"line 1: the header names no rain gauge"),
        ("time,RG1,\n2024-06-20 08:00,1,2\n", r"line 1: column 3 of the header has no gauge name"),
        ("time,RG1,RG1\n2024-06-20 08:00,1,2\n", r"line 1: gauge 'RG1' appears more than once"),
        (
            "time,RG1\n2024-06-20 08:00,1\n20/06/2024 08:05,1\n",
            r"line 3: time '20/06/2024 08:05' is not a date and time",
        ),
        ("time,RG1,RG2\n2024-06-20 08:00,1,x\n", r"line 2, gauge 'RG2': 'x' is not a number"),
        (
            "time,RG1\n2024-06-20 08:00,1\n2024-06-20 08:05,-0.2\n",
            r"line 3, gauge 'RG1': rainfall -0.2 is negative",
        ),
        ("time,RG1\n2024-06-20 08:00,inf\n", r"line 2, gauge 'RG1': 'inf' is not a finite number"),
        ("time,RG1,RG2\n2024-06-20 08:00,1\n", r"line 2: 2 columns; expected 3"),
        (
            "time,RG1,RG2\n2024-06-20 08:00,1,2\n2024-06-20 08:05,,2\n2024-06-20 08:10,NaN,2\n",
            r"gauge 'RG1' has missing values at lines 3, 4",
        ),
        (
            "time,RG1,RG2\n2024-06-20 08:00,1,nan\n2024-06-20 08:05,2,NaN\n",
            r"gauge 'RG2' has missing values at lines 2, 3; expected a number on every row",
        ),
        (
            "time,RG1\n2024-06-20 08:00,1\n2024-06-20 08:05,NA\n",
            r"gauge 'RG1' has missing values at line 3",
        ),
        ("time,RG1\n2024-06-20 08:00,1\n,1\n", r"line 3: time '' is not a date and time"),
        (
            "time,RG1,RG2\n2024-06-20 08:00,1,\n2024-06-20 08:05,,2\n",
            r"gauge 'RG2' has missing values at line 2 \(and gaps at 1 other gauge",
        ),
        (
            "time,RG1\n2024-06-20 08:00,1\n2024-06-20 08:05,1\n2024-06-20 08:05,1\n",
            r"duplicate times at line 4",
        ),
        (
            "time,RG1\n2024-06-20 08:00,1\n2024-06-20 08:10,1\n2024-06-20 08:05,1\n",
            r"times go backwards at line 4; expected rows sorted by time",
        ),
        (
            "time,RG1\n2024-06-20 08:00,1\n2024-06-20 08:05,1\n2024-06-20 08:10,1\n"
            "2024-06-20 08:25,1\n2024-06-20 08:30,1\n",
            r"irregular time step between lines 4-5 \(15 min\); expected every row 5 min",
        ),
        ("time,RG1\n2024-06-20 08:00,1\n", r"a single row cannot tell the time step"),
        (
            "time,RG1\n2024-06-20T08:00+08:00,1\n2024-06-20T08:05,1\n",
            r"line 3: some times carry a UTC offset and others do not",
        ),
    ],
)
def test_malformed_files(write, text, pattern):
    path = write(text)
    with pytest.raises(InputError, match=pattern) as info:
        read_rain_csv(path)
    assert str(info.value).startswith(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope.csv: no such rainfall file"):
        read_rain_csv(tmp_path / "nope.csv")


def test_not_utf8(write, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"time,RG\xe9\n2024-06-20 08:00,1\n")
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        read_rain_csv(path)


def test_irregular_step_against_the_given_step(write):
    # line numbers count the comment and the blank line of GOOD
    with pytest.raises(
        InputError,
        match=r"between lines 3-4 \(5 min\), 4-6 \(5 min\), 6-7 "
        r"\(5 min\); expected every row 1 min",
    ):
        read_rain_csv(write(GOOD), step=60)


def test_many_gaps_are_summarised(write):
    rows = "".join(f"2024-06-20 {8 + k // 60:02d}:{k % 60:02d},\n" for k in range(9))
    with pytest.raises(InputError, match=r"lines 2, 3, 4, 5, 6 and 4 more"):
        read_rain_csv(write("time,RG1\n" + rows))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"units": "in"}, "units = 'in'; expected 'mm'"),
        ({"label": "middle"}, "label = 'middle'"),
        ({"step": 0}, "step = 0; expected a number of seconds > 0"),
    ],
)
def test_bad_options(write, kwargs, pattern):
    with pytest.raises(InputError, match=pattern):
        read_rain_csv(write(GOOD), **kwargs)


# --- coverage of a simulation period ------------------------------------------------------------


def test_covers(write):
    series = read_rain_csv(write(GOOD))  # 08:00 to 08:20
    assert series.covers("2024-06-20 08:00", "2024-06-20 08:20")
    assert series.covers(dt.datetime(2024, 6, 20, 8, 5), np.datetime64("2024-06-20T08:10"))
    assert not series.covers("2024-06-20 07:59", "2024-06-20 08:10")
    assert not series.covers("2024-06-20 08:00", "2024-06-20 08:21")
    series.check_covers("2024-06-20 08:00", "2024-06-20 08:20")


def test_check_covers_says_what_is_missing(write):
    path = write(GOOD)
    series = read_rain_csv(path)
    with pytest.raises(ScenarioError) as info:
        series.check_covers("2024-06-20 08:00", "2024-06-20 09:00")
    message = str(info.value)
    assert str(path) in message
    assert "2024-06-20 08:00:00 to 2024-06-20 08:20:00" in message
    assert "2024-06-20 09:00:00" in message
    with pytest.raises(ScenarioError, match=r"ends .* before it starts"):
        series.check_covers("2024-06-20 08:10", "2024-06-20 08:00")
    with pytest.raises(ScenarioError, match="is not a date and time"):
        series.check_covers("soon", "2024-06-20 08:00")


def test_between_and_dataset(write):
    series = read_rain_csv(write(GOOD))
    part = series.between("2024-06-20 08:07", "2024-06-20 08:15")
    assert part.times.size == 2 and part.times[0] == np.datetime64("2024-06-20T08:05")
    ds = series.to_dataset(start="2024-06-20 07:00")
    assert ds["rain_intensity"].dims == ("scenario", "time", "gauge")
    assert ds["rain_intensity"].attrs["units"] == "m s-1"
    assert ds["time"].values[0] == np.timedelta64(1, "h")
    assert list(ds["gauge"].values) == ["RG1", "RG2"]
    np.testing.assert_allclose(ds["rain_intensity"].values[0], series.intensity, rtol=1e-6)


def test_series_checks_its_shape():
    with pytest.raises(ValueError, match="does not match"):
        RainSeries(
            times=np.array(["2024-06-20T08:00"], dtype="datetime64[ns]"),
            gauges=("a", "b"),
            intensity=np.zeros((1, 3)),
            step=60,
        )
