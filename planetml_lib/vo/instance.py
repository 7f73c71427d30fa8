"""A throwaway GAVO DaCHS: its own PostgreSQL data folder and port, its own DaCHS root and web port.

For tests, benchmarks and a workshop laptop: nothing touches the system's PostgreSQL or
``/var/gavo``. Needs Debian's ``gavodachs2-server`` installed (``make vo-server`` installs it).

>>> with LocalDachs() as dachs:                                      # doctest: +SKIP
...     publish(rows, "icme", "ICMEs", "...")      # inside the block, GAVOSETTINGS points here
...     search_epntap(dachs.tap_url, "icme.epn_core", target="Sun")
"""

import glob
import grp
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from planetml_lib.errors import PlanetMLError
from planetml_lib.vo.dachs import dachs_command, run_dachs

_START_TIMEOUT_S = 60


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_bin():
    """Folder of the newest installed PostgreSQL server programs (initdb, pg_ctl)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise PlanetMLError("PostgreSQL's server is not installed: run `make vo-server`")
    return Path(found[-1]).parent


def _as_postgres(command):
    """``command``, run as the postgres user when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command, what):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise PlanetMLError(f"{what} failed: {(done.stderr or done.stdout).strip()[-500:]}")


class LocalDachs:
    """A DaCHS with its own PostgreSQL, started by :meth:`start` and removed by :meth:`stop`.

    While it runs, ``GAVOSETTINGS`` names its settings, so ``dachs`` commands and
    :func:`~planetml_lib.vo.dachs.publish` act on it. The web server listens on ``web_port``
    (a free one by default) at ``bind_address``; PostgreSQL only ever on 127.0.0.1.
    """

    def __init__(self, root=None, web_port=None, bind_address="127.0.0.1"):
        dachs_command()
        self.root = Path(root or tempfile.mkdtemp(prefix="planetml-dachs-"))
        self.pg_port, self.web_port = _free_port(), web_port or _free_port()
        self.bind_address = bind_address
        self.server_url = f"http://127.0.0.1:{self.web_port}"
        self.tap_url = f"{self.server_url}/tap"
        self._previous_settings = None

    def _settings(self):
        # DaCHS gives its folders to the group "gavo" (made by Debian's package); a user outside it
        # runs a throwaway instance with their own group instead (checked with such a user).
        own_group = grp.getgrgid(os.getegid()).gr_name
        group = [] if os.geteuid() == 0 else [f"gavoGroup: {own_group}", f"group: {own_group}"]
        return "\n".join([
            "[general]", f"rootDir: {self.root / 'dachs'}", *group,
            "[web]", f"serverPort: {self.web_port}", f"bindAddress: {self.bind_address}",
            f"serverURL: {self.server_url}",
            "[ivoa]", "authority: planetml.local", ""])

    def _start_postgres(self):
        bin_dir, data = _postgres_bin(), self.root / "pg"
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        _run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]), "initdb")
        options = f"-p {self.pg_port} -k {self.root} -c listen_addresses=127.0.0.1"
        _run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.root / "pg.log"),
                           "-w", "start"]), "starting PostgreSQL")
        _run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "gavo"],
             "createdb")

    def _wait_for_web(self):
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.server_url}/tap/availability", timeout=5):
                    return
            except OSError:
                time.sleep(0.5)
        raise PlanetMLError(f"DaCHS did not answer on {self.server_url} within {_START_TIMEOUT_S} s "
                            f"(see {self.root / 'dachs' / 'logs'})")

    def start(self):
        """Create and start PostgreSQL and DaCHS; point ``GAVOSETTINGS`` at them; return self."""
        self._start_postgres()
        (self.root / "dachs").mkdir()
        settings = self.root / "gavo.rc"
        settings.write_text(self._settings())
        self._previous_settings = os.environ.get("GAVOSETTINGS")
        os.environ["GAVOSETTINGS"] = str(settings)
        run_dachs("init", "-d", f"host=127.0.0.1 port={self.pg_port} dbname=gavo user=postgres")
        subprocess.Popen([dachs_command(), "serve", "start"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
        self._wait_for_web()
        return self

    def stop(self):
        """Stop DaCHS and PostgreSQL, restore ``GAVOSETTINGS`` and remove every file of this instance."""
        subprocess.run([dachs_command(), "serve", "stop"], capture_output=True)
        subprocess.run(_as_postgres([str(_postgres_bin() / "pg_ctl"), "-D", str(self.root / "pg"), "-m", "fast",
                                     "stop"]), capture_output=True)
        if self._previous_settings is None:
            os.environ.pop("GAVOSETTINGS", None)
        else:
            os.environ["GAVOSETTINGS"] = self._previous_settings
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
