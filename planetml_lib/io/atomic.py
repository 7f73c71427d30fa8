"""Atomic writes: a file or folder appears whole or not at all.

Writers produce their output under a hidden temporary name in the same folder
and rename it into place only when writing succeeded, so that a crash, a full
disk or a bug in the middle of a write never leaves a half-written catalogue or
model behind (a rename within one file system is atomic).
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _sibling(path: Path, tag: str) -> Path:
    """Return a hidden, unique path next to ``path`` (same file system)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.{tag}")


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write to; move it onto ``path`` on success.

    The temporary file lives in the same folder as ``path`` (created if
    missing) and is not created in advance: the caller writes it. On success
    it replaces ``path`` with :func:`os.replace`; if the block raises, the
    temporary file is removed, ``path`` is left as it was and the error
    propagates.

    Parameters
    ----------
    path : str or os.PathLike
        Final file path.

    Yields
    ------
    pathlib.Path
        Temporary path to write the whole file to.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "events.csv"
    >>> with atomic_write(target) as tmp:
    ...     _ = tmp.write_text("start,end,label\\n")
    >>> target.read_text()
    'start,end,label\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder; move it onto ``path`` on success.

    Use it for outputs made of several files (a trained model folder). On
    success an existing ``path`` is first renamed aside, the new folder is
    renamed into place and the old one is deleted, so ``path`` is never a mix
    of old and new files. If the block raises, the temporary folder is deleted
    and ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Final folder path; its parent folders are created if missing.

    Yields
    ------
    pathlib.Path
        Existing, empty temporary folder to write into.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "model"
    >>> with atomic_dir(target) as tmp:
    ...     _ = (tmp / "config.json").write_text("{}")
    >>> sorted(p.name for p in target.iterdir())
    ['config.json']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(new: Path, path: Path) -> None:
    """Rename folder ``new`` onto ``path``, replacing an existing folder."""
    if not path.exists():
        os.replace(new, path)
        return
    old = _sibling(path, "old")
    os.replace(path, old)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)
