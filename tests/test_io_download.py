"""Tests for planetml_lib.io.download, offline: a closed loopback port and a fake CDAS server on 127.0.0.1."""

import json
import socket

import pytest
from localhttp import QuietHandler, serving

from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.cdf import read_cdf
from planetml_lib.io.download import cdaweb_data_url, default_variables, download_cdaweb

MFI = DATA_DIR / "icme" / "cdaweb_wind_2024-05" / "wi_h0s_mfi_20240510_20240512.cdf"


class FakeCdas(QuietHandler):
    """Answers like CDAS under /ok, /empty (no data), /html (a non-CDF file) and 404 elsewhere."""

    requests = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        FakeCdas.requests.append((self.path, self.headers.get("Accept")))
        root = f"http://127.0.0.1:{self.server.server_port}"
        if self.path.startswith(("/ok/dataviews", "/html/dataviews")):
            kind = self.path.split("/")[1]
            self.send_body(json.dumps({"FileDescription": [{"Name": f"{root}/files/{kind}.cdf"}]}).encode())
        elif self.path.startswith("/empty/"):
            self.send_body(json.dumps({"Message": ["No data available."]}).encode())
        elif self.path == "/files/ok.cdf":
            self.send_body(MFI.read_bytes())
        elif self.path == "/files/html.cdf":
            self.send_body(b"<html>maintenance</html>")
        else:
            self.send_error(404, "Not Found")



@pytest.fixture(scope="module")
def server():
    with serving(FakeCdas) as url:
        yield url


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_url_building():
    url = cdaweb_data_url("wi_h1_swe", "2024-05-10T02:00+02:00", "2024-05-11", ["Proton_Np_moment", "Proton_W_moment"])
    assert url == ("https://cdaweb.gsfc.nasa.gov/WS/cdasr/1/dataviews/sp_phys/datasets/WI_H1_SWE/data/"
                   "20240510T000000Z,20240511T000000Z/Proton_Np_moment,Proton_W_moment?format=cdf")
    assert cdaweb_data_url("X", "2024", "2025", ["A B"], base_url="http://h/").startswith("http://h/dataviews/")
    assert cdaweb_data_url("X", "2024", "2025", ["A B"]).endswith("/A%20B?format=cdf")


def test_default_variables():
    assert default_variables("WI_H0_MFI") == ["BGSM"]
    assert default_variables("sta_l2_pla_1dmax_1min") == [
        "proton_number_density", "proton_bulk_speed", "proton_temperature"]
    with pytest.raises(PlanetMLError, match="no default variables for dataset 'AC_H0_MFI'; pass variables="):
        default_variables("AC_H0_MFI")


def test_offline_gives_one_line(tmp_path):
    port = closed_port()
    with pytest.raises(PlanetMLError) as info:
        download_cdaweb("WI_H0_MFI", "2024-05-10", "2024-05-11", tmp_path, base_url=f"http://127.0.0.1:{port}",
                        timeout=5)
    message = str(info.value)
    assert message.startswith(f"cannot reach 127.0.0.1:{port}: offline?") and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_download_writes_a_readable_cdf(server, tmp_path):
    path = download_cdaweb("WI_H0_MFI", "2024-05-10", "2024-05-12T12:00", tmp_path / "cdf", base_url=f"{server}/ok",
                           timeout=5)
    assert path == tmp_path / "cdf" / "wi_h0_mfi_20240510_20240512.cdf"
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert read_cdf(path, {"BGSM": "b"}).sizes["time"] == 3600
    request = "/ok/dataviews/sp_phys/datasets/WI_H0_MFI/data/20240510T000000Z,20240512T120000Z/BGSM?format=cdf"
    assert (request, "application/json") in FakeCdas.requests


@pytest.mark.parametrize(
    ("root", "message"),
    [
        ("empty", r"CDAWeb has no WI_H0_MFI \['BGSM'\] data from 2024-05-10 00:00:00 to .*: No data available\."),
        ("html", r"the file CDAWeb sent \(.*/files/html.cdf\) is not a CDF"),
        ("gone", r"CDAWeb answered HTTP 404 \(Not Found\) to http://127.0.0.1:\d+/gone/dataviews/"),
    ],
)
def test_server_problems_are_one_line_errors(server, tmp_path, root, message):
    with pytest.raises(PlanetMLError, match=message):
        download_cdaweb("WI_H0_MFI", "2024-05-10", "2024-05-11", tmp_path, base_url=f"{server}/{root}", timeout=5)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_bad_times(tmp_path):
    with pytest.raises(PlanetMLError, match="end .* must be after start"):
        download_cdaweb("WI_H0_MFI", "2024-05-11", "2024-05-10", tmp_path)
    with pytest.raises(PlanetMLError, match="start='yesterday' is not a time"):
        download_cdaweb("WI_H0_MFI", "yesterday", "2024-05-10", tmp_path)
