"""The dashboards' shared pieces: download links (one per format of the result's kind, decoding to the same
catalogue), the busy line, uploads (named by file, deleted at exit) and the data menu an upload joins."""

import base64
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
import pytest

from planetml_lib.cases.kinds import kind_spec
from planetml_lib.dashboards.common import (
    BUSY_TEXT,
    download_links,
    remove_uploads,
    run_guarded,
    save_uploads,
    select_new_option,
    upload_label,
)
from planetml_lib.errors import PlanetMLError


def test_links_carry_the_catalogue_in_every_format_of_the_kind(fast_case, tmp_path):
    run = fast_case("solarwind_tutorial")
    detection = run.case.predict(run.trained, run.data["test"])
    assert len(detection.events), "the check needs events to compare"
    links = re.findall(r"download='([^']+)' href='data:[^;]+;base64,([^']+)'", download_links(detection, "events"))
    suffixes = kind_spec(run.case.KIND).suffixes
    assert [name for name, _ in links] == [f"events{suffix}" for suffix in suffixes]
    for name, data in links:
        path = tmp_path / name
        path.write_bytes(base64.b64decode(data))
        back = kind_spec(run.case.KIND).read(path)
        assert len(back) == len(detection.events)
        pd.testing.assert_series_equal(back["start"], detection.events["start"], check_names=False,
                                       check_dtype=False)


class Recorder:
    """A status widget stand-in that keeps every value it was given."""

    def __init__(self):
        self.values = []

    @property
    def value(self):
        return self.values[-1]

    @value.setter
    def value(self, text):
        self.values.append(text)


@pytest.mark.parametrize("fault, shown", [(None, ""), (PlanetMLError("bad file"), "bad file"),
                                          (ValueError("bug"), "unexpected ValueError")])
def test_run_guarded_says_busy_while_computing_and_clears_it_after(fault, shown):
    status = Recorder()

    def callback():
        assert BUSY_TEXT in status.value, "not busy while computing"
        if fault:
            raise fault

    run_guarded(status, callback)
    assert BUSY_TEXT not in status.value and shown in status.value


def test_uploads_are_named_without_their_server_folder_and_deleted_at_exit():
    script = ("from planetml_lib.dashboards.common import error_html, save_uploads\n"
              "[path] = save_uploads([{'name': 'a.csv', 'content': b'x'}])\n"
              "print(path.parent); print(error_html(f'{path}: unreadable'))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    folder, message = out.splitlines()
    assert "a.csv: unreadable" in message and folder not in message
    assert folder.startswith(tempfile.gettempdir())
    assert not Path(folder).exists(), "the upload folder outlived the kernel"


def test_remove_uploads_deletes_the_upload_folders():
    [path] = save_uploads([{"name": "b.txt", "content": b"y"}])
    assert path.exists()
    remove_uploads()
    assert not path.parent.exists()
    assert upload_label([path]) == "uploaded: b.txt"


def test_select_new_option_selects_the_upload_without_calling_the_observer():
    calls = []

    def observer(change):
        calls.append(change)

    menu = widgets.Dropdown(options=[("one", 1), ("two", 2)])
    menu.observe(observer, "value")
    select_new_option(menu, "uploaded: x.csv", ("upload", 0), observer)
    select_new_option(menu, "uploaded: x.csv", ("upload", 1), observer)
    assert menu.label == "uploaded: x.csv" and menu.value == ("upload", 1)
    assert [label for label, _ in menu.options] == ["one", "two", "uploaded: x.csv"]
    assert not calls
    menu.value = 1
    assert len(calls) == 1, "the observer was not put back"
