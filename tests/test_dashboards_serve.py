"""`planetml dashboard`: find the dashboards, build the Voila command, one-line errors."""

import os
import subprocess
from pathlib import Path

import pytest
from traitlets.config import Config

from planetml_lib.cli import build_parser, main
from planetml_lib.dashboards.serve import find_dashboard, list_dashboards, serve_dashboard, voila_command
from planetml_lib.dashboards.server_settings import set_xsrf_cookie
from planetml_lib.errors import PlanetMLError

REPO_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture
def notebooks(tmp_path):
    """A notebook folder with dashboards for two cases, a case without one, and a stray notebook."""
    for relative in ("zeta/dashboard.ipynb", "alpha/dashboard.ipynb", "beta/01_data.ipynb", "dashboard.ipynb"):
        path = tmp_path / "notebooks" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return tmp_path / "notebooks"


def test_list_dashboards_finds_case_folders_with_a_dashboard_sorted(notebooks):
    assert list_dashboards(notebooks) == {"alpha": notebooks / "alpha" / "dashboard.ipynb",
                                          "zeta": notebooks / "zeta" / "dashboard.ipynb"}


def test_the_repository_ships_the_icme_dashboard():
    assert list_dashboards(REPO_NOTEBOOKS)["icme"] == REPO_NOTEBOOKS / "icme" / "dashboard.ipynb"


def test_missing_notebook_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(PlanetMLError, match="notebook folder not found"):
        list_dashboards(tmp_path / "nowhere")


def test_unknown_dashboard_names_the_available_ones(notebooks):
    assert find_dashboard("zeta", notebooks) == notebooks / "zeta" / "dashboard.ipynb"
    with pytest.raises(PlanetMLError) as error:
        find_dashboard("beta", notebooks)
    message = str(error.value)
    assert "\n" not in message
    assert "beta/dashboard.ipynb: no such dashboard" in message and "(available: alpha, zeta)" in message


def test_voila_command_serves_the_notebook_on_exactly_the_given_address():
    command, _ = voila_command(Path("notebooks/icme/dashboard.ipynb"), port=8870, ip="127.0.0.1")
    assert command[1:4] == ["-m", "voila", "notebooks/icme/dashboard.ipynb"]
    assert {"--Voila.port=8870", "--Voila.port_retries=0", "--Voila.ip=127.0.0.1",
            "--Voila.open_browser=False"} <= set(command)
    assert voila_command("d.ipynb")[0][4:7] == ["--Voila.port=8866", "--Voila.port_retries=0", "--Voila.ip=127.0.0.1"]


def test_voila_command_renders_with_the_planetml_template_found_on_the_jupyter_path():
    command, environ = voila_command("d.ipynb", environ={"JUPYTER_PATH": "/opt/mine", "HOME": "/home/me"})
    assert "--VoilaConfiguration.template=planetml" in command
    first, rest = environ["JUPYTER_PATH"].split(os.pathsep)
    assert (Path(first) / "voila/templates/planetml/index.html.j2").is_file() and rest == "/opt/mine"
    assert environ["HOME"] == "/home/me"


def test_voila_command_finds_the_shutdown_hook_first_on_the_config_path_and_culls_idle_kernels():
    command, environ = voila_command("d.ipynb", environ={"JUPYTER_CONFIG_PATH": "/opt/conf"})
    first, rest = environ["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert rest == "/opt/conf"
    for name in ("voila.py", "jupyter_server_config.py"):  # standalone Voila's, JupyterLab's
        config = Config()
        exec((Path(first) / name).read_text(), {"get_config": lambda config=config: config})  # as traitlets does
        assert config.VoilaConfiguration.prelaunch_hook is set_xsrf_cookie, name
    assert {"--MappingKernelManager.cull_idle_timeout=600", "--MappingKernelManager.cull_interval=60",
            "--MappingKernelManager.cull_connected=False"} <= set(command)
    culled = voila_command("d.ipynb", environ={"PLANETML_CULL_IDLE_S": "30"})[0]
    assert {"--MappingKernelManager.cull_idle_timeout=30", "--MappingKernelManager.cull_interval=30"} <= set(culled)
    never = voila_command("d.ipynb", environ={"PLANETML_CULL_IDLE_S": "0"})[0]
    assert not [option for option in never if "cull" in option]


@pytest.mark.parametrize("value", ["ten", "-5", "1.5"])
def test_a_bad_culling_time_is_a_one_line_error(value, monkeypatch, capsys, notebooks):
    monkeypatch.setenv("PLANETML_CULL_IDLE_S", value)
    assert main(["dashboard", "alpha", "--notebook-dir", str(notebooks)]) == 2
    assert capsys.readouterr().err == (f"planetml: error: PLANETML_CULL_IDLE_S={value!r}: give the seconds an "
                                       f"unused kernel may stay idle (a whole number; 0 never shuts kernels down)\n")


@pytest.mark.parametrize("port", [0, 70000])
def test_voila_command_refuses_impossible_ports(port):
    with pytest.raises(PlanetMLError, match=f"port {port} is not between 1 and 65535"):
        voila_command("d.ipynb", port=port)


def test_serve_dashboard_prints_the_url_then_runs_voila(notebooks, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda command, env: calls.append((command, env)) or 3)
    assert serve_dashboard("alpha", notebook_dir=notebooks, port=8871) == 3
    assert calls == [voila_command(notebooks / "alpha" / "dashboard.ipynb", port=8871)]
    out, err = capsys.readouterr()
    assert out == "PlanetML: alpha dashboard at http://127.0.0.1:8871/\n" and err == ""


def test_serve_dashboard_warns_when_bound_beyond_this_machine(notebooks, monkeypatch, capsys):
    monkeypatch.setattr(subprocess, "call", lambda command, env: 0)
    serve_dashboard("alpha", notebook_dir=notebooks, port=8871, ip="0.0.0.0")
    out, err = capsys.readouterr()
    assert "http://127.0.0.1:8871/" in out
    assert "no token" in err and "0.0.0.0:8871" in err


def test_cli_without_a_case_lists_dashboards_from_the_current_folder(notebooks, monkeypatch, capsys):
    monkeypatch.chdir(notebooks.parent)
    assert main(["dashboard"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [["alpha", "notebooks/alpha/dashboard.ipynb"],
                                                ["zeta", "notebooks/zeta/dashboard.ipynb"]]


def test_cli_unknown_dashboard_is_one_line_and_exit_2(notebooks, capsys):
    assert main(["dashboard", "beta", "--notebook-dir", str(notebooks)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("planetml: error: ") and "available: alpha, zeta" in err[0]


def test_cli_passes_port_and_address_to_voila(notebooks, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda command, env: calls.append((command, env)) or 0)
    assert main(["dashboard", "zeta", "--notebook-dir", str(notebooks), "--port", "9001", "--ip", "127.0.0.2"]) == 0
    assert calls == [voila_command(notebooks / "zeta" / "dashboard.ipynb", port=9001, ip="127.0.0.2")]


def test_dashboard_help_says_it_binds_to_loopback_without_a_token(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["dashboard", "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "usage: planetml dashboard" in help_text
    assert "127.0.0.1" in help_text and "no token" in help_text
    assert "--port" in help_text and "8866" in help_text and "--notebook-dir" in help_text
