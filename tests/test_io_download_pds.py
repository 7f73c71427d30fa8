"""Tests for the PDS MESSENGER MAG download, offline: a closed loopback port and a fake PDS server on 127.0.0.1."""

import socket

import pytest
from localhttp import QuietHandler, serving

from planetml_lib.datasets import DATA_DIR
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.download import download_messenger_mag, messenger_mag_url
from planetml_lib.io.pds import read_messenger_mag

TAB = DATA_DIR / "mercury" / "MAGMSOSCIAVG11083_01_V08.TAB"


class FakePds(QuietHandler):
    """Serves the test table under /ok/..., an HTML page under /html/... and 404 elsewhere."""

    requests = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        FakePds.requests.append(self.path)
        if self.path.startswith("/ok/2011/060_090_MAR/MAGMSOSCIAVG11083_01_V08.TAB"):
            self.send_body(TAB.read_bytes())
        elif self.path.startswith("/html/"):
            self.send_body(b"<html><body>maintenance</body></html>\n")
        else:
            self.send_error(404, "Not Found")



@pytest.fixture(scope="module")
def server():
    with serving(FakePds) as url:
        yield url


@pytest.mark.parametrize(("date", "cadence", "tail"), [
    ("2011-03-24T01:10", 1, "2011/060_090_MAR/MAGMSOSCIAVG11083_01_V08.TAB"),
    ("2012-02-29", 5, "2012/032_060_FEB/MAGMSOSCIAVG12060_05_V08.TAB"),  # leap year
    ("2012-12-31T23:59", 10, "2012/336_366_DEC/MAGMSOSCIAVG12366_10_V08.TAB"),
    ("2015-04-30", 60, "2015/091_120_APR/MAGMSOSCIAVG15120_60_V08.TAB"),
])
def test_url_follows_the_pds_archive_layout(date, cadence, tail):
    url = messenger_mag_url(date, cadence)
    assert url == f"https://pds-ppi.igpp.ucla.edu/data/mess-mag-calibrated/data/mso-avg/{tail}"


def test_bad_cadence_and_date():
    with pytest.raises(PlanetMLError, match=r"cadence_s=2 is not one of \(1, 5, 10, 60\)"):
        messenger_mag_url("2012-01-01", 2)
    with pytest.raises(PlanetMLError, match="date='soon' is not a time"):
        messenger_mag_url("soon", 1)


def test_download_writes_a_readable_table(server, tmp_path):
    path = download_messenger_mag("2011-03-24", 1, tmp_path / "mag", base_url=f"{server}/ok", timeout=5)
    assert path == tmp_path / "mag" / "MAGMSOSCIAVG11083_01_V08.TAB"
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert read_messenger_mag(path).equals(read_messenger_mag(TAB))
    assert "/ok/2011/060_090_MAR/MAGMSOSCIAVG11083_01_V08.TAB" in FakePds.requests


@pytest.mark.parametrize(("root", "message"), [
    ("html", r"the file PDS PPI sent \(http://127.0.0.1:\d+/html/.*\) is not a MESSENGER MAG table: .*line 1 has"),
    ("gone", r"PDS PPI answered HTTP 404 \(Not Found\) to http://127.0.0.1:\d+/gone/2011/"),
])
def test_server_problems_are_one_line_errors(server, tmp_path, root, message):
    with pytest.raises(PlanetMLError, match=message) as info:
        download_messenger_mag("2011-03-24", 1, tmp_path, base_url=f"{server}/{root}", timeout=5)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_offline_gives_one_line(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(PlanetMLError) as info:
        download_messenger_mag("2011-03-24", 1, tmp_path, base_url=f"http://127.0.0.1:{port}", timeout=5)
    assert str(info.value).startswith(f"cannot reach 127.0.0.1:{port}: offline?") and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
