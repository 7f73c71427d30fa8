"""The server helpers of planetml_lib.testing: a free port, and waiting until something listens."""

import socket
import subprocess
import sys

import pytest

from planetml_lib.dashboards.serve import LOOPBACK
from planetml_lib.errors import PlanetMLError
from planetml_lib.testing import free_port, wait_for_port


def test_wait_for_port_returns_once_a_socket_listens():
    with socket.socket() as server:
        server.bind((LOOPBACK, 0))
        server.listen()
        wait_for_port(server.getsockname()[1], deadline=5)


def test_wait_for_port_names_the_exit_of_a_server_that_never_listened():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait()
    with pytest.raises(PlanetMLError, match="exited with 3"):
        wait_for_port(free_port(), process, deadline=5)


def test_wait_for_port_gives_up_at_the_deadline():
    with pytest.raises(PlanetMLError, match="within 0.5 s"):
        wait_for_port(free_port(), deadline=0.5)
