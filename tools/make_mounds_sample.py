"""Write the shipped mounds sample: a SIMULATED Mars DTM GeoTIFF (planetml_lib/data/mars_mounds/).

Run from the repository root: ``python tools/make_mounds_sample.py``. The seed lies outside the
training and test seeds of the shipped model, so the scene is new to it; float32 keeps the file small.
"""

from planetml_lib.cases.mars_mounds import Config, simulate_scene
from planetml_lib.datasets import DATA_DIR
from planetml_lib.io.geotiff import write_geotiff

SEED, PIXEL_M, SIZE = 20_000, 5.0, 320


def main():
    """Simulate the scene and write its DTM (metres, Mars equirectangular CRS); print the path."""
    dtm = simulate_scene(Config(), seed=SEED, pixel_m=PIXEL_M, size=SIZE)["dtm"]
    print(write_geotiff(dtm.astype("float32").assign_attrs(dtm.attrs), DATA_DIR / "mars_mounds" /
                        f"simulated_dtm_seed{SEED}_5m.tif"))


if __name__ == "__main__":
    main()
