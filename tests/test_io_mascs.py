"""MESSENGER MASCS VIRS DDR reader, on a 12-row excerpt of a real VIS product (tests/data/mascs)."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from planetml_lib.errors import DataFormatError, PlanetMLError
from planetml_lib.io.mascs import read_mascs_virs

MASCS = Path(__file__).parent / "data" / "mascs"
LABEL = MASCS / "virsvd_ob2_13051_143720.lbl"
DATA = MASCS / "virsvd_ob2_13051_143720.dat"
ROW_BYTES = 10458
PHOTOM_START = 2095  # START_BYTE 2096 of PHOTOM_IOF_SPECTRUM_DATA, from 0


@pytest.fixture(scope="module")
def ds():
    return read_mascs_virs(LABEL)


def _product(folder, fmt_folder=None):
    """Copy label, data and format file into ``folder`` (the format file into ``fmt_folder`` if given)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (LABEL, DATA):
        shutil.copy(path, folder / path.name)
    (fmt_folder or folder).mkdir(parents=True, exist_ok=True)
    shutil.copy(MASCS / "VIRSVD.FMT", (fmt_folder or folder) / "VIRSVD.FMT")
    return folder / LABEL.name, folder / DATA.name


def _one_line(error):
    message = str(error.value)
    assert "\n" not in message, message
    return message


def test_excerpt_reads_as_the_spectra_contract(ds):
    assert ds["reflectance"].dims == ("sample", "wavelength")
    assert ds.sizes == {"sample": 12, "wavelength": 362}  # 512 slots, the VIS window 0-361 holds wavelengths
    for name in ("reflectance", "iof", "reflectance_noise"):
        assert ds[name].dtype == np.float32 and ds[name].attrs["units"] == "1"
    wavelength = ds["wavelength"].values
    assert ds["wavelength"].attrs["units"] == "nm" and (np.diff(wavelength) > 0).all()
    assert 215 < wavelength[0] < 216 and 1053 < wavelength[-1] < 1055
    assert ds.attrs | {"source": ""} == {
        "spacecraft": "MESSENGER", "instrument": "MASCS VIRS", "detector": "VIS", "source": "",
        "product_id": "VIRSVD_OB2_13051_143720_DAT", "data_set_id": "MESS-E/V/H-MASCS-4-VIRS-DDR-V2.0",
        "target": "Mercury", "label": LABEL.name}
    assert ds.attrs["source"] == DATA.name


def test_sample_coordinates_are_plausible(ds):
    assert ds["time"].dtype == "datetime64[ns]"
    assert str(ds["time"].values[0]) == "2013-02-20T14:37:21.000000000"  # "13051T14:37:21": 2013, day 51
    assert (np.diff(ds["time"].values) > np.timedelta64(0)).all()
    assert ds["spectrum_number"].values.tolist() == list(range(12))
    assert ds["quality"].values[0] == "0111-9110-0001-2000"
    lat, lon = ds["lat"].values, ds["lon"].values
    assert np.isnan(lat[:2]).all() and np.isnan(lon[:2]).all()  # 1e32: no footprint on the first rows
    assert lat[2] == pytest.approx(6.726, abs=1e-3) and lon[2] == pytest.approx(73.10, abs=1e-2)
    assert (np.abs(lat[2:]) <= 90).all() and ((lon[2:] >= 0) & (lon[2:] < 360)).all()
    for angle in ("incidence", "emission", "phase"):
        values = ds[angle].values[2:]
        assert ds[angle].attrs["units"] == "deg" and ((values >= 0) & (values <= 180)).all(), angle


def test_fills_are_nan(ds):
    reflectance = ds["reflectance"].values
    assert np.isnan(reflectance[0]).all()  # the first spectrum of the observation is all 1e32
    assert np.isnan(reflectance[:, :20]).all()  # so are the 20 channels below 262 nm in every spectrum
    valid = reflectance[1:, 20:]
    assert np.isfinite(valid).all() and np.abs(valid).max() < 1
    assert 0.01 < np.nanmedian(ds["reflectance"].sel(wavelength=700, method="nearest").values) < 0.1


def test_a_fill_written_at_a_known_channel_becomes_nan(tmp_path):
    label, data = _product(tmp_path)
    table = bytearray(data.read_bytes())
    row, channel = 5, 100
    at = row * ROW_BYTES + PHOTOM_START + 4 * channel
    table[at:at + 4] = np.array(1e32, ">f4").tobytes()
    data.write_bytes(bytes(table))
    good, filled = read_mascs_virs(LABEL)["reflectance"].values, read_mascs_virs(label)["reflectance"].values
    assert np.isfinite(good[row, channel]) and np.isnan(filled[row, channel])
    filled[row, channel] = good[row, channel]
    np.testing.assert_array_equal(filled, good)


def test_label_or_data_path_give_the_same(ds):
    assert read_mascs_virs(DATA).identical(ds)
    assert read_mascs_virs(str(LABEL)).identical(ds)


def test_format_file_is_found_in_a_label_folder_of_the_volume_in_any_case(tmp_path):
    label, _ = _product(tmp_path / "data" / "ddr" / "vis", fmt_folder=tmp_path / "label")
    (tmp_path / "label" / "VIRSVD.FMT").rename(tmp_path / "label" / "virsvd.fmt")
    assert read_mascs_virs(label).sizes["sample"] == 12


def test_missing_file(tmp_path):
    with pytest.raises(PlanetMLError, match="file not found") as error:
        read_mascs_virs(tmp_path / "virsvd_nothing.lbl")
    assert "virsvd_nothing.lbl" in _one_line(error)


def test_missing_format_file_is_named(tmp_path):
    label, _ = _product(tmp_path)
    (tmp_path / "VIRSVD.FMT").unlink()
    with pytest.raises(DataFormatError, match=r"structure file VIRSVD\.FMT \(\^STRUCTURE\) not found") as error:
        read_mascs_virs(label)
    assert label.name in _one_line(error)


def test_label_not_beside_the_data_file(tmp_path):
    data = tmp_path / DATA.name
    shutil.copy(DATA, data)
    with pytest.raises(PlanetMLError, match="label not found beside it") as error:
        read_mascs_virs(data)
    assert DATA.name in _one_line(error)


def test_truncated_data_file(tmp_path):
    label, data = _product(tmp_path)
    data.write_bytes(DATA.read_bytes()[: 5 * ROW_BYTES + 100])
    with pytest.raises(DataFormatError, match="truncated binary table") as error:
        read_mascs_virs(label)
    message = _one_line(error)
    assert data.name in message and "12 rows x 10458 bytes = 125496 bytes" in message
    assert f"found {5 * ROW_BYTES + 100} bytes (5 whole rows)" in message


@pytest.mark.parametrize("text, problem", [
    (b"\xff\xfe garbled \x00\x01 bytes" * 4, "not a PDS3 label"),
    (b"", "empty file"),
    (LABEL.read_bytes()[:1500], "without its END line"),
])
def test_garbled_empty_or_cut_label(tmp_path, text, problem):
    label, _ = _product(tmp_path)
    label.write_bytes(text)
    with pytest.raises(DataFormatError, match=problem) as error:
        read_mascs_virs(label)
    assert label.name in _one_line(error)


def test_wrong_product_has_no_photometric_column(tmp_path):
    label, _ = _product(tmp_path)
    fmt = tmp_path / "VIRSVD.FMT"
    fmt.write_text(fmt.read_text().replace("PHOTOM_IOF_SPECTRUM_DATA", "OTHER_SPECTRUM_DATA"))
    with pytest.raises(DataFormatError, match="not a MASCS VIRS DDR product") as error:
        read_mascs_virs(label)
    assert label.name in _one_line(error) and "PHOTOM_IOF_SPECTRUM_DATA" in str(error.value)


def test_rows_with_different_wavelengths_are_refused(tmp_path):
    label, data = _product(tmp_path)
    table = bytearray(data.read_bytes())
    at = 3 * ROW_BYTES + 8243  # CHANNEL_WAVELENGTHS (START_BYTE 8244) of row 4
    table[at:at + 4] = np.array(300.0, ">f4").tobytes()
    data.write_bytes(bytes(table))
    with pytest.raises(DataFormatError, match="CHANNEL_WAVELENGTHS of row 4 differ") as error:
        read_mascs_virs(label)
    assert data.name in _one_line(error)
