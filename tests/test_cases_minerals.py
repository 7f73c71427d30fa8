"""Minerals case: splits by physical sample, the prediction table, bad spectra, the CLI."""

import json

import numpy as np
import pandas as pd
import pytest

from planetml_lib.cases import asteroid_taxonomy, minerals
from planetml_lib.cli import main
from planetml_lib.errors import PlanetMLError
from planetml_lib.preprocess.mineralogy import VOLUMES, sample_keys


@pytest.fixture
def trained(fast_case):
    run = fast_case("minerals")
    return minerals.load_trained(run.folder), run.folder


def test_splits_never_share_a_physical_sample_and_cover_every_labelled_spectrum():
    data = minerals.load_data(minerals.Config())
    keys = {name: set(sample_keys(ds)) for name, ds in data.items()}
    assert not (keys["train"] & keys["validation"] or keys["train"] & keys["test"] or keys["validation"] & keys["test"])
    assert sum(ds.sizes["sample"] for ds in data.values()) == minerals.labelled_spectra().sizes["sample"] == 536


def test_the_table_has_one_row_per_spectrum_in_input_order_with_uncertainties(trained):
    model, _ = trained
    spectra = minerals.load_data(model.config)["test"].isel(sample=[4, 0, 2])
    values, rows = minerals.predict(model, spectra)
    assert rows["SpectrumID"].tolist() == spectra["SpectrumID"].values.tolist()
    np.testing.assert_allclose(rows[list(VOLUMES)].sum(axis=1), 1.0, rtol=1e-5)
    for name in ("OL_vol", "PLG_An", "CPX_Wo"):
        assert (rows[f"{name}_std"] >= 0).all() and rows[name].between(0, 1).all()
    assert rows[["OL_p", "OPX_p", "CPX_p", "PLG_p"]].stack().between(0, 1).all()
    assert values.sizes == {"sample": 3, "member": 2, "output": 14}


def test_a_spectrum_in_percent_and_micrometres_predicts_like_the_original(trained, tmp_path):
    model, _ = trained
    spectrum = minerals.load_data(model.config)["test"].isel(sample=[0])
    wavelength, reflectance = spectrum["wavelength"].values, spectrum["reflectance"].values[0]
    path = tmp_path / "spectrum.txt"
    order = np.random.default_rng(1).permutation(wavelength.size)  # unsorted rows too
    path.write_text("".join(f"{w / 1000:.3f}\t{100 * 0.3 * r:.6f}\n" for w, r in zip(wavelength[order],
                                                                                      reflectance[order], strict=True)))
    from_file = minerals.predict(model, minerals.read_input([path])).rows
    original = minerals.predict(model, spectrum).rows
    np.testing.assert_allclose(from_file[list(VOLUMES)].values, original[list(VOLUMES)].values, atol=1e-4)


def test_a_spectrum_that_stops_short_is_refused_not_extrapolated(trained, tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("".join(f"{w} 0.3\n" for w in range(500, 2000, 10)))
    with pytest.raises(PlanetMLError, match=r"covers 500-1990 nm; the model needs 450-2450 nm"):
        minerals.read_input([path])


def test_cli_predict_writes_one_row_per_input_spectrum(trained, tmp_path, capsys):
    _, folder = trained
    inputs = minerals.example_input(tmp_path / "in")
    output = tmp_path / "predictions.csv"
    assert main(["predict", "minerals", "--model", str(folder), "--input", *map(str, inputs),
                 "--output", str(output)]) == 0
    table, given = pd.read_csv(output), pd.read_csv(inputs[0])
    assert table["SpectrumID"].tolist() == given["SpectrumID"].tolist()
    assert {"OL_vol", "OL_vol_std", "PLG_An", "PLG_An_std", "CPX_p"} <= set(table.columns)
    assert "3 rows written to" in capsys.readouterr().out


def test_cli_predict_a_broken_spectrum_is_one_line(trained, tmp_path, capsys):
    _, folder = trained
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"wavelength": [450, 500], "reflectance": [0.1]}))
    code = main(["predict", "minerals", "--model", str(folder), "--input", str(path),
                 "--output", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "broken.json" in err[0] and "one length" in err[0]


def test_nearest_library_spectrum_of_a_library_spectrum_is_itself():
    library = minerals.labelled_spectra().isel(sample=[10])
    nearest = minerals.nearest_spectra(library, k=2)
    assert nearest["SpectrumID"].iloc[0] == library["SpectrumID"].item() and nearest["angle_deg"].iloc[0] < 1e-3
    assert nearest["rank"].tolist() == [1, 2]


def test_taxonomy_folds_never_split_an_asteroid():
    asteroids = asteroid_taxonomy.load_asteroids("complex")
    assert len(set(asteroids["taxonomy"].values)) <= 10
    predictions = asteroid_taxonomy.cross_validated(asteroids)
    assert predictions.groupby("asteroid_number")["fold"].nunique().max() == 1
    assert len(predictions) == asteroids.sizes["sample"]
    scores = asteroid_taxonomy.taxonomy_scores(predictions)
    assert set(scores["metric"]) == {"accuracy", "kappa", "n_asteroids"} and len(scores) == 15


def test_unknown_taxonomy_level_is_named():
    with pytest.raises(PlanetMLError, match="unknown taxonomy level 'subclass'"):
        asteroid_taxonomy.load_asteroids("subclass")
