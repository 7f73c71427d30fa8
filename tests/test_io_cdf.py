"""Tests for planetml_lib.io.cdf: the shipped Wind CDFs and small CDFs written with cdflib in tmp_path."""

import cdflib
import numpy as np
import pandas as pd
import pytest
from cdflib.cdfwrite import CDF as CdfWriter

from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.cdf import detect_layout, normalize_units, read_cdaweb, read_cdf
from planetml_lib.testing import assert_timeseries_contract

WIND = DATA_DIR / "icme" / "cdaweb_wind_2024-05"
MFI = WIND / "wi_h0s_mfi_20240510_20240512.cdf"
SWE = WIND / "wi_h1s_swe_20240510_20240512.cdf"
FILL = -1e31


def write_cdf(path, source, times, variables):
    """Write an ISTP-like CDF: a TT2000 ``Epoch`` and float32 variables {name: (values, units, extra attrs)}."""
    seconds = pd.DatetimeIndex(times).as_unit("ns").asi8 / 1e9
    writer = CdfWriter(path)
    writer.write_globalattrs({"Logical_source": {0: source}})
    epoch = {"Variable": "Epoch", "Data_Type": CdfWriter.CDF_TIME_TT2000, "Num_Elements": 1, "Rec_Vary": True,
             "Dim_Sizes": []}
    writer.write_var(epoch, {"VAR_TYPE": "support_data"}, cdflib.cdfepoch.timestamp_to_tt2000(seconds))
    for name, (values, units, extra) in variables.items():
        values = np.asarray(values, dtype="float32")
        spec = {"Variable": name, "Data_Type": CdfWriter.CDF_FLOAT, "Num_Elements": 1, "Rec_Vary": True,
                "Dim_Sizes": list(values.shape[1:])}
        attrs = {"DEPEND_0": "Epoch", "VAR_TYPE": "data", "UNITS": units, "FILLVAL": [FILL, "CDF_FLOAT"], **extra}
        writer.write_var(spec, attrs, values)
    writer.close()
    return path


def minutes(n, start="2019-03-01T00:00:30"):
    return pd.date_range(start, periods=n, freq="1min")


def stereo_mag(path, n=30, source="STA_L1_MAG_RTN", start="2019-03-01T00:00:30"):
    """STEREO IMPACT MAG RTN: BFIELD (n, 4) = Br, Bt, Bn, |B|; Br = minute index, |B| = 10."""
    field = np.column_stack([np.arange(n), np.zeros(n), np.ones(n), np.full(n, 10.0)])
    return write_cdf(path, source, minutes(n, start), {"BFIELD": (field, "nT", {})})


def stereo_plastic(path, n=30, drop=()):
    """STEREO PLASTIC 1-min moments: 400 km/s, 5 cm^-3, 1e5 K, no sample in minutes 10-19."""
    keep = np.r_[0:10, 20:n]
    variables = {"proton_bulk_speed": (np.full(keep.size, 400.0), "km/s", {}),
                 "proton_number_density": (np.full(keep.size, 5.0), "cm^-3", {}),
                 "proton_temperature": (np.full(keep.size, 1e5), "K", {})}
    variables = {name: spec for name, spec in variables.items() if name not in drop}
    return write_cdf(path, "STA_L2_PLA_1DMAX_1MIN", minutes(n)[keep], variables)


def test_normalize_units():
    assert [normalize_units(u) for u in ("nT (1min)", "cm^{-3}", "#/cc", "km/sec", "K", None)] == [
        "nT", "cm^-3", "cm^-3", "km/s", "K", ""]


def test_read_cdf_real_wind_mfi_vector_split_and_fills():
    ds = read_cdf(MFI, {"BGSM": ("bx", "by", "bz")}, spacecraft="Wind", frame="GSM")
    assert_timeseries_contract(ds)
    assert ds.sizes["time"] == 3600
    assert ds["time"].values[0] == np.datetime64("2024-05-10T00:00:30")
    assert ds.attrs == {"spacecraft": "Wind", "frame": "GSM", "source": MFI.name,
                        "logical_source": "WI_H0S_MFI", "cadence": "1min"}
    assert ds["bz"].attrs["units"] == "nT" and ds["bz"].attrs["cdf_variable"] == "BGSM"
    raw = cdflib.CDF(MFI).varget("BGSM")
    assert int(sum(ds[c].isnull().sum() for c in ("bx", "by", "bz"))) == int((raw == np.float32(FILL)).sum()) == 9
    assert np.nanmax(np.abs(ds["bx"].values)) < 100
    np.testing.assert_allclose(ds["bx"].values[0], raw[0, 0], rtol=1e-6)


def test_read_cdf_defaults_keep_names_and_flag_fills():
    ds = read_cdf(SWE)
    assert list(ds.data_vars) == ["Proton_VX_moment", "Proton_VY_moment", "Proton_VZ_moment",
                                  "Proton_W_moment", "Proton_Np_moment"]
    assert ds.attrs["spacecraft"] == "WIND" and ds.attrs["logical_source"] == "WIND_H1S_SWE"
    assert ds["Proton_Np_moment"].attrs["units"] == "cm^-3"
    fill_row = ds.sel(time="2024-05-10T14:28:00.385")
    assert all(np.isnan(fill_row[name].item()) for name in ds.data_vars)
    assert int(ds["Proton_Np_moment"].isnull().sum()) == 1


def test_read_cdf_fill_and_valid_range(tmp_path):
    values = [1.0, FILL, 50.0, -50.0, 2.0]
    path = write_cdf(tmp_path / "x.cdf", "TEST", minutes(5), {
        "N": (values, "#/cc", {"VALIDMIN": [0.0, "CDF_FLOAT"], "VALIDMAX": [10.0, "CDF_FLOAT"]})})
    ds = read_cdf(path, {"N": "n"})
    np.testing.assert_array_equal(ds["n"].values, [1.0, np.nan, np.nan, np.nan, 2.0])
    assert ds["n"].attrs["units"] == "cm^-3"


def test_read_cdf_component_names(tmp_path):
    path = stereo_mag(tmp_path / "mag.cdf", n=3)
    assert list(read_cdf(path, {"BFIELD": "b"}).data_vars) == ["b0", "b1", "b2", "b3"]
    with pytest.raises(PlanetMLError, match=r"'BFIELD' has 4 component\(s\), names given \['bx', 'by', 'bz'\]"):
        read_cdf(path, {"BFIELD": ("bx", "by", "bz")})


def test_read_cdf_errors_name_the_file(tmp_path):
    with pytest.raises(PlanetMLError, match="nothing.cdf: file not found"):
        read_cdf(tmp_path / "nothing.cdf")
    (tmp_path / "text.cdf").write_text("not a CDF")
    with pytest.raises(PlanetMLError, match="text.cdf: not a readable CDF file"):
        read_cdf(tmp_path / "text.cdf")
    with pytest.raises(PlanetMLError, match=r"mfi.*variable\(s\) \['BGSE'\] not in file; found \['Epoch', 'BGSM'"):
        read_cdf(MFI, {"BGSE": "b"})


def test_read_cdaweb_real_wind_shock():
    ds = read_cdaweb([MFI, SWE])
    assert_timeseries_contract(ds)
    assert ds.attrs["spacecraft"] == "Wind" and ds.attrs["frame"] == "GSM" and ds.attrs["cadence"] == "10min"
    assert ds.attrs["layouts"] == "wind_mfi_gsm, wind_swe_h1"
    assert (np.diff(ds["time"].values) == np.timedelta64(10, "m")).all()
    assert ds["bx"].attrs["frame"] == "GSM" and ds["vx"].attrs["frame"] == "GSE"
    before = ds.sel(time=slice("2024-05-10T16:00", "2024-05-10T16:20"))
    after = ds.sel(time=slice("2024-05-10T16:40", "2024-05-10T17:00"))
    speed = np.sqrt(ds["vx"] ** 2 + ds["vy"] ** 2 + ds["vz"] ** 2)
    assert float(before["np"].max()) < 25 and float(after["np"].min()) > 40
    assert 440 < float(speed.sel(time=before.time).mean()) < 460
    assert 670 < float(speed.sel(time=after.time).mean()) < 730
    assert np.isnan(ds["bx"].sel(time="2024-05-09T23:00").item())  # SWE starts an hour before MFI


def test_read_cdaweb_derive_before_averaging_keeps_mean_magnitude():
    def magnitude(part):
        if "bt" not in part:
            part = part.assign(bt=np.sqrt(part.bx**2 + part.by**2 + part.bz**2).assign_attrs(units="nT"))
        return part

    bin_ = dict(time="2024-05-10T16:40")
    mean_of_magnitude = float(read_cdaweb(MFI, derive=magnitude)["bt"].sel(**bin_))
    averaged = read_cdaweb(MFI).sel(**bin_)
    magnitude_of_mean = float(np.sqrt(averaged.bx**2 + averaged.by**2 + averaged.bz**2))
    assert mean_of_magnitude > 20 > magnitude_of_mean


def test_read_cdaweb_stereo_means_and_empty_bins(tmp_path):
    first = stereo_mag(tmp_path / "mag1.cdf", n=15)
    second = stereo_mag(tmp_path / "mag2.cdf", n=15, start="2019-03-01T00:15:30")
    plastic = stereo_plastic(tmp_path / "pla.cdf")
    ds = read_cdaweb([first, second, plastic], freq="10min")
    assert ds.attrs["spacecraft"] == "STEREO-A" and ds.attrs["frame"] == "RTN"
    expected = pd.date_range("2019-03-01", periods=3, freq="10min")
    np.testing.assert_array_equal(ds["time"].values, expected.values)
    # Br of the second file restarts at 0 at minute 15: means of 0..9, 10..14 + 0..4, 5..14.
    np.testing.assert_allclose(ds["bx"].values, [4.5, 7.0, 9.5])
    np.testing.assert_allclose(ds["bt"].values, 10.0)
    np.testing.assert_array_equal(ds["vt"].values, [400.0, np.nan, 400.0])
    assert ds["tp"].attrs["units"] == "K" and ds["bx"].attrs["frame"] == "RTN"


def test_wind_k0_layout(tmp_path):
    v = np.tile([-400.0, 30.0, 0.0], (20, 1))
    path = write_cdf(tmp_path / "k0.cdf", "WI_K0_SWE", minutes(20), {
        "Np": (np.full(20, 7.0), "#/cc", {}), "V_GSE": (v, "km/sec", {}),
        "THERMAL_SPD": (np.full(20, 40.0), "km/s", {})})
    assert detect_layout(path).name == "wind_swe_k0"
    ds = read_cdaweb(path)
    assert set(ds.data_vars) == {"np", "vx", "vy", "vz", "vth"}
    np.testing.assert_allclose(ds["vx"].values, -400.0)
    assert ds["np"].attrs["units"] == "cm^-3" and ds["vy"].attrs["frame"] == "GSE"
    assert ds.attrs["spacecraft"] == "Wind" and ds.attrs["frame"] == "unknown"


def test_layout_detected_from_variables_when_source_unknown(tmp_path):
    path = stereo_mag(tmp_path / "mag.cdf", n=5, source="SOMETHING_ELSE")
    assert detect_layout(path).name == "stereo_mag_rtn"
    assert read_cdaweb(path).attrs["spacecraft"] == "unknown"


def test_missing_variable_names_file_variable_and_found(tmp_path):
    path = stereo_plastic(tmp_path / "pla.cdf", drop=("proton_temperature",))
    with pytest.raises(PlanetMLError) as info:
        read_cdaweb(path)
    message = str(info.value)
    assert "\n" not in message
    assert "pla.cdf: STA_L2_PLA_1DMAX_1MIN file lacks variable(s) ['proton_temperature']" in message
    assert "found ['Epoch', 'proton_bulk_speed', 'proton_number_density']" in message


def test_unknown_product(tmp_path):
    path = write_cdf(tmp_path / "odd.cdf", "XX_ODD", minutes(3), {"Q": ([1.0, 2.0, 3.0], "1", {})})
    with pytest.raises(PlanetMLError, match=r"odd.cdf: unknown product 'XX_ODD'.*found variables \['Epoch', 'Q'\]"):
        read_cdaweb(path)


def test_read_cdaweb_refuses_mixed_inputs(tmp_path):
    with pytest.raises(PlanetMLError, match=r"different spacecraft \['STEREO-A', 'Wind'\]"):
        read_cdaweb([MFI, stereo_mag(tmp_path / "mag.cdf")])
    k0 = write_cdf(tmp_path / "k0.cdf", "WI_K0_SWE", minutes(3), {
        "Np": ([1.0] * 3, "#/cc", {}), "V_GSE": (np.ones((3, 3)), "km/s", {}), "THERMAL_SPD": ([1.0] * 3, "km/s", {})})
    with pytest.raises(PlanetMLError, match="wind_swe_h1 and wind_swe_k0 both provide 'np'"):
        read_cdaweb([SWE, k0])
    with pytest.raises(PlanetMLError, match="freq='ten minutes' is not a fixed frequency"):
        read_cdaweb(MFI, freq="ten minutes")
    with pytest.raises(PlanetMLError, match="at least one CDF file"):
        read_cdaweb([])


def test_unexpected_units_are_refused(tmp_path):
    path = write_cdf(tmp_path / "pla.cdf", "STA_L2_PLA_1DMAX_1MIN", minutes(3), {
        "proton_bulk_speed": ([400.0] * 3, "km/s", {}), "proton_number_density": ([5.0] * 3, "cm^-3", {}),
        "proton_temperature": ([10.0] * 3, "eV", {})})
    with pytest.raises(PlanetMLError, match="pla.cdf: variable 'proton_temperature' has units 'eV', expected 'K'"):
        read_cdaweb(path)
