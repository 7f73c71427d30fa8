"""Pieces every dashboard needs: errors shown in the page, figures in an Output, uploaded files."""

import html
import sys
import tempfile
import traceback
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import display

from planetml_lib.errors import PlanetMLError


def error_html(message):
    """A one-line, HTML-escaped error for a status widget."""
    return f"<span style='color:#b00'>⚠ {html.escape(str(message))}</span>"


def run_guarded(status, callback):
    """Run a widget callback; show any error in ``status`` instead of a blank or a frozen page.

    A user error (PlanetMLError) is shown as it is; anything else is a bug: the page names it
    and the traceback goes to the server's log (the terminal that started the dashboard).
    """
    try:
        status.value = ""
        callback()
    except PlanetMLError as error:
        status.value = error_html(error)
    except Exception as error:  # a widget callback has no caller to report to
        traceback.print_exc(file=sys.__stderr__)
        status.value = error_html(f"unexpected {type(error).__name__}: {error} (details in the server log)")


def show_figure(output, fig):
    """Replace what ``output`` shows by the matplotlib figure ``fig`` (then closed)."""
    output.clear_output(wait=True)
    with output:
        display(fig)
    plt.close(fig)


def save_uploads(files):
    """Write a FileUpload widget's files into a new temporary folder; return their paths."""
    folder = Path(tempfile.mkdtemp(prefix="planetml_upload_"))
    paths = []
    for item in files:
        path = folder / Path(item["name"]).name
        path.write_bytes(bytes(item["content"]))
        paths.append(path)
    return paths
