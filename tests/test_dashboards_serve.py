"""`planetml dashboard`: find the dashboards, build the Voila command, one-line errors."""

import os
import socket
from pathlib import Path

import pytest
from traitlets.config import Config

from planetml_lib.cli import build_parser, main
from planetml_lib.dashboards.serve import (
    default_notebook_dir,
    find_dashboard,
    list_dashboards,
    serve_dashboard,
    voila_command,
)
from planetml_lib.dashboards.server_settings import set_xsrf_cookie
from planetml_lib.errors import PlanetMLError
from planetml_lib.testing import free_port

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


def test_dashboard_kernels_run_one_thread_each_unless_told_otherwise():
    assert voila_command("d.ipynb", environ={})[1]["OMP_NUM_THREADS"] == "1"
    environ = voila_command("d.ipynb", environ={"OMP_NUM_THREADS": "4"})[1]
    assert environ["OMP_NUM_THREADS"] == "4" and environ["OPENBLAS_NUM_THREADS"] == "1"


@pytest.mark.parametrize("port", [0, 70000])
def test_voila_command_refuses_impossible_ports(port):
    with pytest.raises(PlanetMLError, match=f"port {port} is not between 1 and 65535"):
        voila_command("d.ipynb", port=port)


@pytest.fixture
def execs(monkeypatch):
    """Record the program this process would become, instead of becoming it."""
    calls = []
    monkeypatch.setattr(os, "execve", lambda path, command, env: calls.append((command, env)))
    return calls


def test_serve_dashboard_prints_the_url_then_becomes_voila(notebooks, execs, capsys):
    port = free_port()
    serve_dashboard("alpha", notebook_dir=notebooks, port=port)
    assert execs == [voila_command(notebooks / "alpha" / "dashboard.ipynb", port=port)]
    out, err = capsys.readouterr()
    assert out == f"PlanetML: alpha dashboard at http://127.0.0.1:{port}/\n" and err == ""


def test_serve_dashboard_warns_when_bound_beyond_this_machine(notebooks, execs, capsys):
    port = free_port()
    serve_dashboard("alpha", notebook_dir=notebooks, port=port, ip="0.0.0.0")
    out, err = capsys.readouterr()
    assert f"http://127.0.0.1:{port}/" in out
    assert "no token" in err and f"0.0.0.0:{port}" in err


def test_a_busy_port_is_refused_before_any_url_is_printed(notebooks, execs, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "alpha", "--notebook-dir", str(notebooks), "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and execs == []
    assert err.startswith(f"planetml: error: 127.0.0.1:{port} is not free") and err.count("\n") == 1


def test_cli_without_a_case_lists_dashboards_from_the_current_folder(notebooks, monkeypatch, capsys):
    monkeypatch.chdir(notebooks.parent)
    assert main(["dashboard"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [["alpha", "notebooks/alpha/dashboard.ipynb"],
                                                ["zeta", "notebooks/zeta/dashboard.ipynb"]]


def test_dashboards_are_found_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLANETML_NOTEBOOKS", raising=False)
    assert default_notebook_dir() == REPO_NOTEBOOKS  # beside the package, in this checkout
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_notebook_dir(environ={"HOME": str(tmp_path)}) == REPO_NOTEBOOKS
    assert main(["dashboard"]) == 0
    assert "icme" in capsys.readouterr().out


def test_the_notebook_folder_can_be_named_and_a_folder_without_notebooks_is_one_line(notebooks, tmp_path):
    assert default_notebook_dir(environ={"PLANETML_NOTEBOOKS": str(notebooks)}) == notebooks
    with pytest.raises(PlanetMLError, match=r"^no PlanetML notebooks in .*nowhere: give the folder with --notebook"):
        default_notebook_dir(environ={"PLANETML_NOTEBOOKS": str(tmp_path / "nowhere")})


def test_cli_unknown_dashboard_is_one_line_and_exit_2(notebooks, capsys):
    assert main(["dashboard", "beta", "--notebook-dir", str(notebooks)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("planetml: error: ") and "available: alpha, zeta" in err[0]


def test_cli_passes_port_and_address_to_voila_and_takes_short_names(execs, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    port = free_port()
    assert main(["dashboard", "mounds", "--port", str(port), "--ip", "127.0.0.1"]) == 0
    assert execs == [voila_command(REPO_NOTEBOOKS / "mars_mounds" / "dashboard.ipynb", port=port, ip="127.0.0.1")]
    assert capsys.readouterr().out == f"PlanetML: mars_mounds dashboard at http://127.0.0.1:{port}/\n"


def test_dashboard_help_says_it_binds_to_loopback_without_a_token(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["dashboard", "--help"])
    assert exit_info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "usage: planetml dashboard" in help_text
    assert "127.0.0.1" in help_text and "no token" in help_text
    assert "--port" in help_text and "8866" in help_text and "--notebook-dir" in help_text
