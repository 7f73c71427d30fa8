"""Spectrum readers: the RELAB table layout, JSON and two-/three-column text, to the spectra contract."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planetml_lib.errors import PlanetMLError
from planetml_lib.io.spectra import (
    read_envi_library,
    read_spectra,
    read_spectra_csv,
    read_spectrum_ascii,
    read_spectrum_json,
    wavelength_in_nm,
)

DATA = Path(__file__).parent / "data"
RELAB = DATA / "relab_spectra_excerpt.csv"
JSON = DATA / "spectrum_olivine_um.json"
ASCII = DATA / "spectrum_olivine_um.txt"


def test_the_table_layout_keeps_every_value_and_label():
    ds = read_spectra_csv(RELAB)
    table = pd.read_csv(RELAB)
    assert ds["reflectance"].dims == ("sample", "wavelength") and ds.sizes == {"sample": 6, "wavelength": 401}
    assert ds["wavelength"].attrs["units"] == "nm" and ds["wavelength"].values[[0, -1]].tolist() == [450, 2450]
    np.testing.assert_array_equal(ds["reflectance"].values, table.filter(regex=r"^R\d").to_numpy())
    assert ds["SampleID"].values.tolist() == table["SampleID"].tolist()
    np.testing.assert_array_equal(ds["OL_vol"].values, table["OL_vol"].to_numpy())


def test_json_and_text_in_micrometres_read_as_the_same_spectrum_in_nm():
    from_json, from_text = read_spectrum_json(JSON), read_spectrum_ascii(ASCII)
    for ds in (from_json, from_text):
        assert ds["wavelength"].attrs == {"units": "nm", "long_name": "wavelength", "unit_in_file": "um"}
        assert ds["wavelength"].values[0] == pytest.approx(450.0) and ds["wavelength"].values[-1] == pytest.approx(2450)
    np.testing.assert_allclose(from_text["reflectance"].values, from_json["reflectance"].values, atol=5e-6)
    relab = read_spectra_csv(RELAB).isel(sample=0).sel(wavelength=from_json["wavelength"].values)
    np.testing.assert_allclose(from_json["reflectance"].values[0], relab["reflectance"].values)
    assert from_json["OL_vol"].item() == relab["OL_vol"].item() and "error" in from_json
    assert from_text["SpectrumID"].item() == "spectrum_olivine_um"


def test_json_lists_share_one_grid_and_null_is_a_missing_point(tmp_path):
    one = json.loads(JSON.read_text())
    two = dict(one, SpectrumID="other", reflectance=[None] + one["reflectance"][1:])
    path = tmp_path / "two.json"
    path.write_text(json.dumps([one, two]))
    ds = read_spectra(path)
    assert ds.sizes["sample"] == 2 and np.isnan(ds["reflectance"].values[1, 0])
    path.write_text(json.dumps([one, dict(two, wavelength=one["wavelength"][::-1])]))
    with pytest.raises(PlanetMLError, match="share one wavelength grid"):
        read_spectra(path)


def test_text_with_a_nan_point_and_an_error_column(tmp_path):
    path = tmp_path / "s.dat"
    path.write_text("450, 0.20, 0.01\n500, nan, 0.01\n550, 0.24, 0.02\n")
    ds = read_spectra(path)
    assert np.isnan(ds["reflectance"].values[0, 1]) and ds["error"].values[0].tolist() == [0.01, 0.01, 0.02]


@pytest.mark.parametrize("text, message", [
    ("450 0.2\n500 0.3 0.1 9\n550 0.3\n", "cannot read as a table|expected 2 or 3 columns"),
    ("450 0.2\n500 abc\n550 0.3\n", "line 2: not a number"),
    ("450 0.2\n500\n550 0.3\n", "line 2 has 1 of 2 fields"),
    ("45 0.2\n50 0.3\n55 0.3\n", r"wavelengths 45-55 are neither nm nor µm"),
    ("450 nan\n500 nan\n550 nan\n", "no reflectance value"),
])
def test_bad_text_spectra_are_named(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(PlanetMLError, match=message) as error:
        read_spectra(path)
    assert "bad.txt" in str(error.value)


def test_a_table_without_reflectance_columns_or_with_text_in_one(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("SampleID,a,b\nx,1,2\n")
    with pytest.raises(PlanetMLError, match="reflectance columns named R<wavelength in nm>"):
        read_spectra(path)
    path.write_text("SampleID,R450,R500,R550\nx,0.1,0.2,0.3\ny,0.1,oops,0.3\n")
    with pytest.raises(PlanetMLError, match="line 3, column R500: not a number"):
        read_spectra(path)


def test_an_envi_library_reads_from_either_file_like_the_table():
    table = read_spectra_csv(RELAB).isel(sample=[0, 1], wavelength=slice(None, None, 4))
    for name in ("relab_olivine_opx.sli", "relab_olivine_opx.hdr"):
        ds = read_spectra(DATA / name)
        assert ds["SpectrumID"].values.tolist() == table["SpectrumID"].values.tolist()
        np.testing.assert_array_equal(ds["wavelength"].values, table["wavelength"].values)
        np.testing.assert_allclose(ds["reflectance"].values, table["reflectance"].values, rtol=1e-6)


def test_an_envi_library_without_its_header_or_data_is_named(tmp_path):
    lonely = tmp_path / "lib.sli"
    lonely.write_bytes((DATA / "relab_olivine_opx.sli").read_bytes())
    with pytest.raises(PlanetMLError, match=r"lib.sli: no ENVI header \(lib.hdr\)"):
        read_envi_library(lonely)
    header = tmp_path / "other.hdr"
    header.write_bytes((DATA / "relab_olivine_opx.hdr").read_bytes())
    with pytest.raises(PlanetMLError, match="other.sli: the data file of other.hdr is missing"):
        read_envi_library(header)


def test_wrong_byte_order_gives_values_that_are_not_reflectances(tmp_path):
    (tmp_path / "lib.sli").write_bytes((DATA / "relab_olivine_opx.sli").read_bytes())
    header = (DATA / "relab_olivine_opx.hdr").read_text().replace("byte order = 0", "byte order = 1")
    (tmp_path / "lib.hdr").write_text(header)
    with pytest.raises(PlanetMLError, match="are not reflectances"):
        read_envi_library(tmp_path / "lib.sli")


def test_unknown_suffix_and_wavelength_units():
    with pytest.raises(PlanetMLError, match="unknown spectrum format '.xls'"):
        read_spectra(DATA / "library.xls")
    assert wavelength_in_nm([0.45, 2.45], "x")[1] == "um" and wavelength_in_nm([450, 2450], "x")[1] == "nm"
