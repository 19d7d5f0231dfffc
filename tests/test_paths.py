"""Where hydro may read and write (hydro.paths): bundles, allowed folders, outputs, names."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from hydro.errors import OutputError, ScenarioError
from hydro.paths import (
    bundle_root,
    check_file_name,
    check_output,
    inside,
    read_roots,
)
from hydro.results import write_netcdf
from hydro.scenario.loader import read_scenario

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_env_roots(monkeypatch):
    monkeypatch.delenv("HYDRO_ALLOW_PATH", raising=False)


def test_a_bundle_is_the_nearest_folder_with_a_marker(tmp_path: Path):
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    scenario = deep / "s.toml"
    assert bundle_root(scenario) == deep.resolve()  # no marker: its own folder
    (tmp_path / "a" / ".hydro-bundle").write_text("")
    assert bundle_root(scenario) == (tmp_path / "a").resolve()
    (tmp_path / "a" / "b" / ".hydro-bundle").write_text("")
    assert bundle_root(scenario) == (tmp_path / "a" / "b").resolve()  # the nearest wins
    assert bundle_root(REPO / "scenarios" / "supply" / "baseline_2024.toml") == REPO


def test_read_roots_add_allowed_and_environment_folders(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HYDRO_ALLOW_PATH", os.pathsep.join([str(tmp_path / "env"), ""]))
    roots = read_roots(tmp_path / "s.toml", allow=[tmp_path / "extra"])
    assert roots == (
        tmp_path.resolve(),
        (tmp_path / "extra").resolve(),
        (tmp_path / "env").resolve(),
    )


def test_links_cannot_lead_out_of_a_bundle(tmp_path: Path):
    (tmp_path / "bundle").mkdir()
    (tmp_path / "secret.csv").write_text("x")
    (tmp_path / "bundle" / "rain.csv").symlink_to(tmp_path / "secret.csv")
    roots = ((tmp_path / "bundle").resolve(),)
    assert not inside(tmp_path / "bundle" / "rain.csv", roots)
    assert not inside(tmp_path / "bundle" / ".." / "secret.csv", roots)
    assert inside(tmp_path / "bundle" / "x" / ".." / "y.csv", roots)


def test_allowed_folders_let_a_scenario_include_outside_its_bundle(tmp_path: Path, no_env_roots):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.toml").write_text('network = "n.inp"\n')
    (tmp_path / "mine").mkdir()
    scenario = tmp_path / "mine" / "s.toml"
    scenario.write_text('include = "../shared/base.toml"\n')
    with pytest.raises(ScenarioError, match=r"include: .*outside the folders"):
        read_scenario(scenario)
    file = read_scenario(scenario, allow=[tmp_path / "shared"])
    assert file.table["network"] == str((tmp_path / "shared" / "n.inp").resolve())
    assert file.files == (scenario.resolve(), (tmp_path / "shared" / "base.toml").resolve())


def test_output_checks(tmp_path: Path):
    model = tmp_path / "m.inp"
    model.write_text("x")
    assert check_output(tmp_path / "new.nc", inputs=[model]) == tmp_path / "new.nc"
    (tmp_path / "old.nc").write_text("previous")
    assert check_output(tmp_path / "old.nc", inputs=[model])  # a regular file may be replaced
    os.link(model, tmp_path / "same.inp")
    for bad, words in [
        (model, "is an input of this run"),
        (tmp_path / "same.inp", "is an input of this run"),  # same inode, other name
        (tmp_path, "is a folder"),
        (Path("/dev/null"), "device, FIFO or socket"),
        (tmp_path / "none" / "x.nc", "does not exist"),
    ]:
        with pytest.raises(OutputError, match=words):
            check_output(bad, inputs=[model])


def test_a_full_disk_is_a_plain_error_and_leaves_nothing(tmp_path: Path, monkeypatch):
    ds = xr.Dataset({"x": ("scenario", np.ones(1))}, coords={"scenario": ["a"]})
    previous = write_netcdf(ds, tmp_path / "out.nc").read_bytes()

    def full(self, path, **kwargs):
        Path(path).write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    with pytest.raises(OutputError, match="no space left on the disk holding"):
        write_netcdf(ds.assign(x=ds["x"] * 2), tmp_path / "out.nc")
    assert (tmp_path / "out.nc").read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_a_plain_error(tmp_path: Path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="no permission to write"):
            check_output(folder / "x.nc")
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize(
    "name, words",
    [
        ("../up", "path separator"),
        ("/abs/olute", "path separator"),
        ("a\\b", "path separator"),
        ("..", "starts with '.'"),
        (".hidden", "starts with '.'"),
        ("-rf", "starts with"),
        ("tab\there", "control characters"),
        ("", "is empty"),
        ("x" * 200, "longer than"),
    ],
)
def test_names_that_cannot_be_file_names(name: str, words: str):
    with pytest.raises(ScenarioError, match=words):
        check_file_name(name, source="s.toml")


def test_plain_names_pass():
    for name in ("p30_3h flood", "暴雨 30年", "v1.2"):
        assert check_file_name(name, source="s.toml") == name
