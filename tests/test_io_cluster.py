"""Tests for planetml_lib.io.cluster: CSA-layout CEF and CDF files written in tmp_path, and a real MMS FGM CDF."""

from pathlib import Path

import cdflib
import numpy as np
import pandas as pd
import pytest
from cdflib.cdfwrite import CDF as CdfWriter

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.cef_writer import write_cef
from planetml_lib.io.cluster import CLUSTER_VARIABLES, R_E_KM, read_cluster
from planetml_lib.testing import assert_timeseries_contract

MMS = Path(__file__).parent / "data" / "mms1_fgm_brst_l2_20151016_130524.cdf"
CIS = "CIS-HIA_ONBOARD_MOMENTS"
FILL = -1e31


def fgm(folder, sc="C1", n=30, start="2003-02-12T10:00:02", product="FGM_SPIN", drop=()):
    """FGM spin resolution every 4 s: Bx = sample index, By = 2, Bz = -3, |B| = 5; 10 R_E sunward."""
    dataset_id = f"{sc}_CP_{product}"
    time = pd.date_range(start, periods=n, freq="4s")
    columns = {"time": time, f"B_vec_xyz_gse__{dataset_id}": (np.column_stack([np.arange(n), np.full(n, 2.0),
                                                                               np.full(n, -3.0)]), "nT"),
               f"B_mag__{dataset_id}": (np.full(n, 5.0), "nT"),
               f"sc_pos_xyz_gse__{dataset_id}": (np.tile([10 * R_E_KM, 0.0, -R_E_KM], (n, 1)), "km")}
    columns = {name: value for name, value in columns.items() if name.split("__")[0] not in drop}
    return write_cef(columns, Path(folder) / f"{dataset_id}__{time[0]:%Y%m%d_%H%M%S}_V01.cef", dataset_id)


def cis_cdf(path, sc="C1", times=None, temperature_units="MK"):
    """CIS-HIA onboard moments in the CSA CDF export: CDF_EPOCH time tags, 5 cm^-3, -400 km/s, 1 MK."""
    times = pd.DatetimeIndex(times if times is not None else pd.date_range("2003-02-12T10:00:00", periods=6,
                                                                           freq="20s"))
    dataset_id = f"{sc}_CP_{CIS}"
    n, time_name = len(times), f"time_tags__{dataset_id}"
    writer = CdfWriter(path)
    writer.write_globalattrs({"Logical_file_id": {0: dataset_id}})
    epoch = {"Variable": time_name, "Data_Type": CdfWriter.CDF_EPOCH, "Num_Elements": 1, "Rec_Vary": True,
             "Dim_Sizes": []}
    writer.write_var(epoch, {"UNITS": "s"}, cdflib.cdfepoch.timestamp_to_cdfepoch(times.as_unit("ns").asi8 / 1e9))
    density = np.full(n, 5.0)
    density[1] = FILL
    for stem, values, units in (("density", density, "particles cm^-3"),
                                ("velocity_gse", np.tile([-400.0, 20.0, 0.0], (n, 1)), "km s^-1"),
                                ("temperature", np.full(n, 1.0), temperature_units),
                                ("pressure", np.full(n, 0.1), "nPa")):
        values = np.asarray(values, dtype="float32")
        spec = {"Variable": f"{stem}__{dataset_id}", "Data_Type": CdfWriter.CDF_FLOAT, "Num_Elements": 1,
                "Rec_Vary": True, "Dim_Sizes": list(values.shape[1:])}
        attrs = {"DEPEND_0": time_name, "UNITS": units, "FILLVAL": [FILL, "CDF_FLOAT"]}
        writer.write_var(spec, attrs, values)
    writer.close()
    return path


def test_fgm_cef_and_cis_cdf_merged_on_the_cadence(tmp_path):
    ds = read_cluster([fgm(tmp_path), cis_cdf(tmp_path / "cis.cdf")])
    assert_timeseries_contract(ds)
    assert list(ds.data_vars) == list(CLUSTER_VARIABLES)
    np.testing.assert_array_equal(ds["time"].values, pd.date_range("2003-02-12T10:00", periods=2, freq="60s"))
    # Bx = index: samples 0..14 (10:00:02..10:00:58) then 15..29.
    np.testing.assert_allclose(ds["bx"].values, [7.0, 22.0])
    np.testing.assert_allclose(ds["bz"].values, -3.0)
    np.testing.assert_allclose(ds["x_gse"].values, 10.0)
    np.testing.assert_allclose(ds["z_gse"].values, -1.0)
    np.testing.assert_allclose(ds["density"].values, 5.0)  # the fill is not averaged in
    np.testing.assert_allclose(ds["vx"].values, -400.0)
    np.testing.assert_allclose(ds["temperature"].values, 1.0)
    assert {name: ds[name].attrs["units"] for name in ds.data_vars} == {
        name: units for name, (units, _) in CLUSTER_VARIABLES.items()}
    assert ds.attrs == {"spacecraft": "C1", "frame": "GSE", "missing": "", "cadence": "60s",
                        "source": f"Cluster Science Archive CDF and CEF-2.0: C1_CP_FGM_SPIN, C1_CP_{CIS}"}
    assert "pressure" not in ds


def test_cis_as_cef_native_times_and_fill(tmp_path):
    time = pd.date_range("2003-02-12T10:00:10", periods=3, freq="20s")
    dataset_id = f"C1_CP_{CIS}"
    path = write_cef({"time": time, "density": (np.array([5.0, FILL, 7.0]), "particles cm^-3"),
                      "velocity_gse": (np.tile([-400.0, 0.0, 10.0], (3, 1)), "km s^-1"),
                      "temperature": (np.array([1.0, 2.0, 3.0]), "MK")}, tmp_path / "cis.cef.gz", dataset_id)
    ds = read_cluster([path, fgm(tmp_path, n=5)], cadence=None)
    assert ds.attrs["source"] == f"Cluster Science Archive CEF-2.0: C1_CP_{CIS}, C1_CP_FGM_SPIN"
    assert ds.sizes["time"] == 7 and ds.attrs["cadence"] == "native"  # 10:00:02..18 every 4 s, 10:00:30, 10:00:50
    np.testing.assert_allclose(ds["density"].sel(time=time).values, [5.0, np.nan, 7.0])
    assert np.isnan(ds["density"].sel(time="2003-02-12T10:00:02").item())
    np.testing.assert_allclose(ds["bx"].dropna("time").values, np.arange(5.0))


def test_unsorted_duplicated_irregular_times(tmp_path):
    first = fgm(tmp_path / "a", n=10, start="2003-02-12T10:00:30")   # 10:00:30..10:01:06, Bx 0..9
    second = fgm(tmp_path / "b", n=10, start="2003-02-12T10:00:50")  # repeats 10:00:50..10:01:06 with Bx 0..4
    irregular = pd.DatetimeIndex(["2003-02-12T10:03:10", "2003-02-12T10:00:05", "2003-02-12T10:00:05",
                                  "2003-02-12T10:03:11"])
    ds = read_cluster([first, second, cis_cdf(tmp_path / "cis.cdf", times=irregular)])
    np.testing.assert_array_equal(ds["time"].values, pd.date_range("2003-02-12T10:00", periods=4, freq="60s"))
    # 10:00 bin: 10:00:30..10:00:58 of the first file (Bx 0..7); 10:01 bin: its 8, 9 then the second file's 5..9.
    np.testing.assert_allclose(ds["bx"].values, [3.5, (8 + 9 + 5 + 6 + 7 + 8 + 9) / 7, np.nan, np.nan])
    # The first of the two 10:00:05 records is kept: its density is the fill, its velocity is not.
    np.testing.assert_allclose(ds["density"].values, [np.nan, np.nan, np.nan, 5.0])
    np.testing.assert_allclose(ds["vx"].values, [-400.0, np.nan, np.nan, -400.0])


def test_units_converted_and_checked(tmp_path):
    ds = read_cluster(cis_cdf(tmp_path / "k.cdf", temperature_units="K"), cadence="20s")
    np.testing.assert_allclose(ds["temperature"].values, 1e-6)
    assert ds.attrs["missing"] == "bx, by, bz, b_mag, x_gse, y_gse, z_gse" and "bx" not in ds
    with pytest.raises(DataFormatError, match="ev.cdf: variable for 'temperature' has units 'eV', expected 'MK'"):
        read_cluster(cis_cdf(tmp_path / "ev.cdf", temperature_units="eV"))


def test_real_mms_fgm_magnetopause():
    native = read_cluster(MMS, cadence=None)
    assert_timeseries_contract(native)
    assert native.sizes["time"] == 17792
    assert native.attrs == {"spacecraft": "MMS1", "frame": "GSE", "cadence": "native",
                            "source": "MMS Science Data Center CDF: mms1_fgm_brst_l2",
                            "missing": "density, vx, vy, vz, temperature"}
    assert "density" not in native and "vx" not in native
    magnitude = np.sqrt(native["bx"] ** 2 + native["by"] ** 2 + native["bz"] ** 2)
    np.testing.assert_allclose(native["b_mag"].values, magnitude.values, rtol=1e-4)
    assert native["bz"].values[0] > 35 and native["bz"].values[-1] < -20
    assert 8.3 < float(native["x_gse"].mean()) < 8.35 and not native["x_gse"].isnull().any()
    minute = read_cluster(MMS)
    np.testing.assert_array_equal(minute["time"].values, pd.date_range("2015-10-16T13:05", periods=3, freq="60s"))
    assert minute["bz"].values[0] > 0 > minute["bz"].values[1]


def test_files_without_field_or_moments(tmp_path):
    other = write_cef({"time": pd.date_range("2003-02-12", periods=2, freq="60s"),
                       "sc_r_xyz_gse": (np.ones((2, 3)), "km")}, tmp_path / "pos.cef", "C3_CP_AUX_POSGSE_1M")
    with pytest.raises(DataFormatError) as info:
        read_cluster(other)
    message = str(info.value)
    assert "pos.cef: holds neither magnetic field nor plasma moments; looked for ['B_vec_xyz_gse__C?_CP_FGM_" in message
    assert "density__C?_CP_CIS-HIA_ONBOARD_MOMENTS" in message and "mms?_fgm_b_gse_<mode>_l2" in message
    assert "found ['time_tags__C3_CP_AUX_POSGSE_1M', 'sc_r_xyz_gse__C3_CP_AUX_POSGSE_1M']" in message
    with pytest.raises(DataFormatError, match=r"C1_CP_FGM_SPIN lacks variable\(s\) \['B_mag__C1_CP_FGM_SPIN'\]"):
        read_cluster(fgm(tmp_path, drop=("B_mag",)))


def test_bad_inputs_give_one_line_errors(tmp_path):
    path = fgm(tmp_path)
    (tmp_path / "C1_CH_FGM_SPIN.ceh").rename(tmp_path / "elsewhere.ceh")
    with pytest.raises(DataFormatError, match=f'INCLUDE = "C1_CH_FGM_SPIN.ceh" not found \\(looked in {tmp_path}\\)'):
        read_cluster(path)
    text = fgm(tmp_path / "cut").read_text()
    cut = tmp_path / "cut.cef"
    cut.write_text(text[:-20])
    (tmp_path / "elsewhere.ceh").rename(tmp_path / "C1_CH_FGM_SPIN.ceh")
    with pytest.raises(DataFormatError, match="cut.cef: record 30 .* truncated record"):
        read_cluster(cut)
    picture = tmp_path / "plot.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(DataFormatError, match=r"plot.png: neither a CDF nor a CEF-2.0 file \(starts with b.\\x89PNG"):
        read_cluster(picture)
    broken = tmp_path / "broken.cdf"
    broken.write_bytes(MMS.read_bytes()[:300_000])
    with pytest.raises(DataFormatError, match="broken.cdf: damaged or truncated CDF file"):
        read_cluster(broken)
    broken.write_bytes(MMS.read_bytes()[:2000])
    with pytest.raises(DataFormatError, match="broken.cdf: damaged or truncated CDF file"):
        read_cluster(broken)
    gz = write_cef({"time": pd.date_range("2003-02-12", periods=3, freq="4s"), "B_mag": np.ones(3)},
                   tmp_path / "cut.cef.gz", "C1_CP_FGM_SPIN")
    gz.write_bytes(gz.read_bytes()[:50])
    with pytest.raises(DataFormatError, match="cut.cef.gz: cannot read"):
        read_cluster(gz)
    with pytest.raises(PlanetMLError, match="nothing.cef: file not found"):
        read_cluster(tmp_path / "nothing.cef")


def test_mixed_inputs_refused(tmp_path):
    with pytest.raises(PlanetMLError, match=r"different spacecraft \['C1', 'C3'\]; read them separately"):
        read_cluster([fgm(tmp_path), cis_cdf(tmp_path / "c3.cdf", sc="C3")])
    with pytest.raises(PlanetMLError, match=r"different spacecraft \['C1', 'MMS1'\]"):
        read_cluster([fgm(tmp_path), MMS])
    with pytest.raises(PlanetMLError, match="C1_CP_FGM_SPIN and C1_CP_FGM_5VPS both provide 'bx'"):
        read_cluster([fgm(tmp_path), fgm(tmp_path, product="FGM_5VPS")])
    with pytest.raises(PlanetMLError, match="cadence='a minute' is not a positive fixed frequency"):
        read_cluster(fgm(tmp_path), cadence="a minute")
    with pytest.raises(PlanetMLError, match="at least one CEF or CDF file"):
        read_cluster([])
