"""The contents manager of ``planetml lab``: notebooks open unmodified.

When a notebook's kernel starts, JupyterLab writes the kernel's ``language_info`` (with the exact
Python version) into the notebook's metadata and marks the notebook modified if anything there
changed: opening a shipped notebook then asked to save it, though nobody had touched it. The
shipped notebooks cannot carry every platform's Python patch version (the image, Binder and a
laptop differ), so this manager serves each Python notebook with the ``language_info`` of this
server's Python kernel (ipykernel, in the same environment), as the kernel will report it. The
file on disk changes only when the user saves.
"""

from ipykernel.ipkernel import IPythonKernel
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager


class NotebookContentsManager(AsyncLargeFileManager):
    """Jupyter Server's default contents manager, serving Python notebooks with this kernel's language_info."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model["type"] == "notebook":
            metadata = model["content"]["metadata"]
            if metadata.get("kernelspec", {}).get("language", "python") == "python":
                metadata["language_info"] = dict(IPythonKernel.language_info)
        return model
