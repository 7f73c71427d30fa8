"""Pieces every dashboard needs: a busy line and errors shown in the page, figures as images, uploaded
files (named by their file names, deleted when the kernel ends), a data menu that an upload joins,
download links for a prediction's catalogue in every format its kind writes."""

import atexit
import base64
import html
import io
import shutil
import sys
import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt

from planetml_lib.cases.kinds import result_spec, write_output
from planetml_lib.errors import PlanetMLError

#: Media types of the catalogue formats, for the download links.
MEDIA_TYPES = {".csv": "text/csv", ".xml": "application/x-votable+xml", ".vot": "application/x-votable+xml",
               ".txt": "text/plain", ".geojson": "application/geo+json", ".gpkg": "application/geopackage+sqlite3"}

#: What the status line says while a change is computed (the browser tests look for it).
BUSY_TEXT = "⏳ computing…"
#: Folders :func:`save_uploads` made in this process; deleted when it ends (:func:`remove_uploads`).
UPLOAD_FOLDERS = []


def _without_upload_folders(text):
    """``text`` with the server's upload folders cut from its paths: the page names files, not server paths."""
    for folder in UPLOAD_FOLDERS:
        text = text.replace(f"{folder}/", "")
    return text


def error_html(message):
    """A one-line, HTML-escaped error for a status widget, naming uploaded files without their folder."""
    return f"<span style='color:#b00'>⚠ {html.escape(_without_upload_folders(str(message)))}</span>"


def run_guarded(status, callback):
    """Run a widget callback with ``status`` saying it is busy meanwhile; show any error there instead of a
    blank or a frozen page.

    The busy line is cleared when the callback returns and replaced by the message when it raises.
    A user error (PlanetMLError) is shown as it is; anything else is a bug: the page names it
    and the traceback goes to the server's log (the terminal that started the dashboard).
    """
    status.value = f"<span style='color:#555'>{BUSY_TEXT}</span>"
    try:
        callback()
        status.value = ""
    except PlanetMLError as error:
        status.value = error_html(error)
    except Exception as error:  # a widget callback has no caller to report to
        traceback.print_exc(file=sys.__stderr__)
        status.value = error_html(f"unexpected {type(error).__name__}: {error} (details in the server log)")


def figure_widget():
    """Return the widget a dashboard shows its figure in: a PNG Image, not an Output.

    While Voila runs the notebook, nbclient stands in for the browser's Output widget and
    answers every figure drawn into one with a message on the shell socket on which it awaits the
    cell's reply. That send can swallow the reply's wake-up, and the page then never finishes
    loading on a busy machine (``benchmarks/dashboard_load.py`` loads every dashboard with all
    cores kept busy). An Image's new value is a plain widget update that nbclient does not answer.
    """
    return widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))


def show_figure(image, fig):
    """Show the matplotlib figure ``fig`` in ``image`` (from :func:`figure_widget`); close ``fig``."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(fig)
    image.value = buffer.getvalue()


def download_links(result, stem):
    """HTML links that download the catalogue of a ``predict`` result (events or objects) in every
    format its kind writes, as ``<stem><suffix>`` (data URIs: no server round trip)."""
    links = []
    with tempfile.TemporaryDirectory() as folder:
        for suffix in result_spec(result).suffixes:
            path = write_output(result, Path(folder) / f"{stem}{suffix}")
            data = base64.b64encode(path.read_bytes()).decode()
            links.append(f"<a download='{path.name}' href='data:{MEDIA_TYPES[suffix]};base64,{data}'>"
                         f"⬇ {html.escape(path.name)}</a>")
    return " &nbsp; ".join(links)


def save_uploads(files):
    """Write a FileUpload widget's files into a new temporary folder; return their paths.

    The folder is deleted when the process (the dashboard's kernel) ends.
    """
    folder = Path(tempfile.mkdtemp(prefix="planetml_upload_"))
    UPLOAD_FOLDERS.append(folder)
    paths = []
    for item in files:
        path = folder / Path(item["name"]).name
        path.write_bytes(bytes(item["content"]))
        paths.append(path)
    return paths


@atexit.register
def remove_uploads():
    """Delete the folders :func:`save_uploads` made (registered to run when the kernel ends)."""
    while UPLOAD_FOLDERS:
        shutil.rmtree(UPLOAD_FOLDERS.pop(), ignore_errors=True)


def upload_label(paths):
    """The data menu's entry of uploaded files: their names, never the server folder they were saved in."""
    return "uploaded: " + ", ".join(sorted(Path(p).name for p in paths))


@contextmanager
def quietly(widget, observer, name="value"):
    """Change ``widget`` without calling ``observer`` (the caller shows the result once) and send the
    changes to the browser as one message: sent apart, the browser can echo an intermediate state back."""
    widget.unobserve(observer, name)
    try:
        with widget.hold_sync():
            yield widget
    finally:
        widget.observe(observer, name)


def select_new_option(dropdown, label, value, observer):
    """Add ``(label, value)`` to a dropdown of ``(label, value)`` options (replacing an entry of that label)
    and select it, without calling ``observer``: how an upload joins the data menu."""
    with quietly(dropdown, observer):
        dropdown.options = [option for option in dropdown.options if option[0] != label] + [(label, value)]
        dropdown.value = value


class UploadMenu:
    """What the dashboards with a data menu and an upload button share: an upload is read once (``read_upload``),
    joins the menu (``self.menu``) under its files' names and is shown (``_select``), and choosing from the menu
    shows the choice guarded (:func:`run_guarded`). The dashboard sets ``menu``, ``upload`` (a ``FileUpload``),
    ``uploads`` ({menu value: data}) and ``status``, and defines ``read_upload(paths)`` and ``_select()``."""

    def _on_choice(self, _change):
        run_guarded(self.status, self._select)

    def _select_upload(self):
        if not self.upload.value:
            return
        paths = save_uploads(self.upload.value)
        key = ("upload", len(self.uploads))  # each upload anew: a file of the same name may hold other data
        self.uploads[key] = self.read_upload(paths)
        select_new_option(self.menu, upload_label(paths), key, self._on_choice)
        self._select()


def build_guarded(make):
    """The ``widget`` of the dashboard ``make()`` builds, or an error message when it cannot start."""
    try:
        return make().widget
    except PlanetMLError as error:
        return widgets.HTML(error_html(error))
