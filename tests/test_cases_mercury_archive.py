"""Mercury boundaries on archive-sized and awkward input: orbit-by-orbit prediction, cadences, gaps,
positions in MSM and spikes. All data SIMULATED (planetml_lib.simulate), written in the real layouts."""

import warnings

import numpy as np
import pandas as pd
import pytest

from planetml_lib.cases import mercury_boundaries as case
from planetml_lib.cli import main
from planetml_lib.datasets import load_catalog, load_messenger_orbits
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.orbit_stream import OrbitStream
from planetml_lib.io.pds import read_messenger_mag
from planetml_lib.io.pds_writer import write_messenger_mag
from planetml_lib.preprocess.mercury import DIPOLE_OFFSET_KM
from planetml_lib.simulate import simulate_orbits
from planetml_lib.testing import assert_events_contract

ORBITS = [1500, 1501, 1502]  # consecutive 8-h orbits, 2012-12-06..07


def simulated(orbits=ORBITS, cadence="60s"):
    return simulate_orbits(orbits, load_catalog("philpott2020"), cadence).drop_vars("region")


def write_csv(ds, path):
    """``ds`` in the digitised 10-s CSV layout (one file, whatever its span)."""
    columns = {"x_km": "x_mso", "y_km": "y_mso", "z_km": "z_mso", "bx_nT": "bx", "by_nT": "by", "bz_nT": "bz"}
    table = pd.DataFrame({"time_utc": pd.DatetimeIndex(ds["time"].values).strftime("%Y-%m-%dT%H:%M:%S"),
                          **{column: ds[name].values for column, name in columns.items()}})
    table.to_csv(path, index=False)
    return path


@pytest.fixture
def model(fast_case):
    return fast_case("mercury_boundaries").trained


def test_files_spanning_more_than_a_week_are_streamed_and_predicted(fast_case, tmp_path, capsys):
    near = write_messenger_mag(simulated([1500]), tmp_path)
    assert "orbit" in case.read_input(near).coords
    paths = near + write_messenger_mag(simulated([1530]), tmp_path)  # ten days on
    stream = case.read_input(paths)
    assert isinstance(stream, OrbitStream) and stream.span() > pd.Timedelta(days=7)
    with pytest.raises(PlanetMLError, match="files spanning 10 days are read orbit by orbit; predict them"):
        case.prepare_for_model(stream, case.Config())
    output = tmp_path / "crossings.csv"
    assert main(["predict", "mercury", "--model", str(fast_case("mercury_boundaries").folder), "--input",
                 *map(str, paths), "--output", str(output)]) == 0
    assert output.read_text().startswith("start,end,label") and capsys.readouterr().out.endswith(f"{output}\n")


def test_a_stream_predicts_what_the_dataset_of_the_same_files_does(model, tmp_path):
    paths = write_messenger_mag(simulated(), tmp_path)
    whole = case.predict(model, case.read_input(paths))
    streamed = case.predict(model, OrbitStream(paths, read_messenger_mag))
    np.testing.assert_array_equal(streamed.values.values, whole.values.values)
    pd.testing.assert_frame_equal(streamed.events, whole.events)
    assert_events_contract(streamed.events)
    assert set(streamed.events["orbit"]) <= set(ORBITS) and streamed.values.dtype == np.int8
    assert (streamed.values >= 0).mean() > 0.95  # a region wherever there are data


def test_a_file_of_several_orbits_with_gaps_keeps_them_gaps(model, tmp_path):
    ds = simulated([1500, 1501, 1502, 1503])
    time = pd.DatetimeIndex(ds["time"].values)
    inside = (time >= "2012-12-07 06:00") & (time < "2012-12-07 08:00")  # two hours of orbit 1502
    kept = ds.isel(time=~(inside | (ds["orbit"].values == 1501)))
    result = case.predict(model, case.read_input(write_csv(kept, tmp_path / "orbits.csv")))
    assert set(result.events["orbit"]) <= {1500, 1502, 1503}
    predicted = pd.DatetimeIndex(result.values["time"].values)
    in_gap = (predicted > "2012-12-07 06:01") & (predicted < "2012-12-07 07:59")
    assert in_gap.any() and (result.values.values[in_gap] == -1).all()
    assert not ((predicted > "2012-12-06 20:05") & (predicted < "2012-12-07 03:55")).any()  # orbit 1501: no rows
    spans = load_messenger_orbits().set_index("orbit").loc[result.events["orbit"]]
    assert (result.events["start"].to_numpy() >= spans["start"].to_numpy()).all()  # each crossing in its own orbit
    assert (result.events["end"].to_numpy() <= spans["end"].to_numpy()).all()


def test_finer_input_is_averaged_onto_the_model_grid_across_orbit_boundaries(model):
    finer = simulated([1500, 1501], "10s")  # the fast model's cadence is 60 s
    predicted = case.predict(model, finer).values["time"].values
    whole = case.prepare_for_model(finer.drop_vars("orbit"), model.config)["time"].values  # one grid, no orbits
    np.testing.assert_array_equal(predicted, whole)  # no bin split between two orbits, none left out


def test_coarser_input_is_warned_about_once_for_all_orbits(model):
    coarse = simulated(ORBITS, "300s")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        case.predict(model, coarse)
    messages = [str(w.message) for w in caught if "coarser" in str(w.message)]
    assert len(messages) == 1 and "input cadence 300s is coarser than the model's 60s" in messages[0]


def test_positions_in_msm_are_refused_in_one_line(fast_case, tmp_path, capsys):
    ds = simulated([1500])
    msm = ds.assign(z_mso=ds["z_mso"] - DIPOLE_OFFSET_KM)
    path, = write_messenger_mag(msm, tmp_path)
    code = main(["predict", "mercury", "--model", str(fast_case("mercury_boundaries").folder), "--input", str(path),
                 "--output", str(tmp_path / "c.csv")])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "c.csv").exists()
    assert f"{path.name} (orbit 1500): the positions look like MSM, not MSO" in err
    assert "z_MSO = z_MSM + 484 km" in err


def test_isolated_spikes_are_removed_before_averaging_and_counted():
    clean = simulated([1500], "1s").isel(time=slice(0, 7200)).assign_attrs(source="spiky.TAB")
    where = np.random.default_rng(0).choice(np.arange(50, 7150), 25, replace=False)
    spiky = clean.copy(deep=True)
    spiky["bx"].values[where] += 300.0
    config = case.Config()
    with pytest.warns(UserWarning, match=r"spiky.TAB: removed 25 isolated spike\(s\) .* before averaging to 10s"):
        despiked = case.prepare_for_model(spiky, config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reference = case.prepare_for_model(clean, config)
    assert np.nanmax(np.abs(despiked["bx"] - reference["bx"])) < 5.0  # a spike would shift its bin by 30 nT


def test_ten_second_input_is_not_despiked():
    ds = simulated([1500], "10s")
    ds["bx"].values[100] += 300.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepared = case.prepare_for_model(ds, case.Config())
    assert prepared["bx"].values[100] > 250.0
