"""The numpy reader of SWMM's binary output against the swmm-toolkit output library (exact)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from swmm.toolkit import output as swmm_output
from swmm.toolkit import shared_enum as se
from swmm.toolkit import solver

from hydro.drainage import read_inp, read_out
from hydro.drainage.swmm.engine import engine_text
from hydro.errors import InputError
from tests.conftest import CORPUS

DATA = Path(__file__).parent / "data" / "swmm"
MODELS = [pytest.param(DATA / "tiny.inp", id="tiny")] + [
    pytest.param(CORPUS / "swmm" / name, id=name.removesuffix(".inp"), marks=pytest.mark.corpus)
    for name in ("Example1.inp", "Example3.inp", "Sprenger.inp")
]


def _bare_run(model: Path, folder: Path) -> Path:
    if not model.is_file():
        pytest.skip(f"model not found: {model}")
    copy = folder / model.name  # with [REPORT] ... ALL, as hydro runs it
    copy.write_text(engine_text(read_inp(model)), encoding="utf-8")
    solver.swmm_run(str(copy), str(folder / "bare.rpt"), str(folder / "bare.out"))
    return folder / "bare.out"


@pytest.mark.parametrize("model", MODELS)
def test_reader_equals_toolkit_getters(model, tmp_path):
    path = _bare_run(model, tmp_path)
    out = read_out(path)
    handle = swmm_output.init()
    swmm_output.open(handle, str(path))
    try:
        n = swmm_output.get_times(handle, se.Time.NUM_PERIODS)
        assert out.n_periods == n
        assert out.report_step == swmm_output.get_times(handle, se.Time.REPORT_STEP)
        assert out.start_date == swmm_output.get_start_date(handle)
        assert list(swmm_output.get_proj_size(handle)) == [
            len(out.subcatchments),
            len(out.nodes),
            len(out.links),
            1,
            len(out.pollutants),
        ]
        for kind, names in (
            (se.ElementType.SUBCATCH, out.subcatchments),
            (se.ElementType.NODE, out.nodes),
            (se.ElementType.LINK, out.links),
        ):
            assert [swmm_output.get_elem_name(handle, kind, i) for i in range(len(names))] == list(
                names
            )
        for i in range(len(out.nodes)):
            for attr in list(se.NodeAttribute)[:6]:
                series = swmm_output.get_node_series(handle, i, attr, 0, n - 1)
                assert np.array_equal(out.node_values[attr.value][:, i], series)
        for i in range(len(out.links)):
            for attr in list(se.LinkAttribute)[:5]:
                series = swmm_output.get_link_series(handle, i, attr, 0, n - 1)
                assert np.array_equal(out.link_values[attr.value][:, i], series)
        for i in range(len(out.subcatchments)):
            for attr in list(se.SubcatchAttribute)[:8]:
                series = swmm_output.get_subcatch_series(handle, i, attr, 0, n - 1)
                assert np.array_equal(out.subcatch_values[attr.value][:, i], series)
        for attr in se.SystemAttribute:
            series = swmm_output.get_system_series(handle, attr, 0, n - 1)
            assert np.array_equal(out.system_values[attr.value], series)
        last = n - 1
        assert np.array_equal(
            out.node_values[:, last, :].T.ravel(),
            np.concatenate(
                [swmm_output.get_node_result(handle, last, i) for i in range(len(out.nodes))]
            ),
        )
        depth = swmm_output.get_node_attribute(handle, last, se.NodeAttribute.INVERT_DEPTH)
        assert np.array_equal(out.node_values[0, last], depth)
        assert out.error_code == 0
        assert out.version == 52004
    finally:
        swmm_output.close(handle)


def test_properties_and_dates(tmp_path):
    out = read_out(_bare_run(DATA / "tiny.inp", tmp_path))
    assert out.flow_units == "CMS"
    assert out.nodes == ("J1", "J2", "O1") and out.links == ("C1", "C2")
    assert out.node_type.tolist() == [0, 0, 1]
    assert out.node_invert.tolist() == [10.0, 9.5, 9.0]
    assert out.node_full_depth.tolist() == [1.5, 1.5, pytest.approx(0.6)]  # outfall: crown of C2
    assert out.link_full_depth.tolist() == pytest.approx([0.3, 0.6])
    assert out.link_length.tolist() == [100.0, 100.0]
    assert out.subcatch_area.tolist() == pytest.approx([5.0])
    stamps = out.datetimes()
    assert str(stamps[0]) == "2024-06-01T00:00:10.001"  # SWMM adds 1 ms to every stamp
    assert out.node_values.flags["C_CONTIGUOUS"]
    assert out.node_values.shape == (6, 1080, 3)


def test_not_an_output_file(tmp_path):
    path = tmp_path / "x.out"
    path.write_bytes(b"\x00" * 200)
    with pytest.raises(InputError, match=r"x.out: not a complete SWMM output file"):
        read_out(path)
    small = tmp_path / "small.out"
    small.write_bytes(b"abc")
    with pytest.raises(InputError, match=r"small.out: not a SWMM output file"):
        read_out(small)
    with pytest.raises(InputError, match="no such file"):
        read_out(tmp_path / "missing.out")


def test_truncated_output(tmp_path):
    path = _bare_run(DATA / "tiny.inp", tmp_path)
    data = path.read_bytes()
    cut = tmp_path / "cut.out"
    # keep the header and the closing records, drop most periods
    cut.write_bytes(data[:4000] + data[-24:])
    with pytest.raises(InputError, match=r"cut.out: .*truncated"):
        read_out(cut)
