"""Training loop: fit a model with early stopping and resumable checkpoints.

One small loop serves every case. It takes numpy arrays (or a torch
``Dataset``), trains with a given loss, keeps the weights of the best epoch and
writes ``last.pt`` after every epoch so that an interrupted run (a closed
notebook, a killed job) continues where it stopped.
"""

import math
import pickle
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler, TensorDataset
from tqdm.auto import tqdm

from planetml_lib.device import autocast, get_device
from planetml_lib.errors import PlanetMLError
from planetml_lib.io.atomic import atomic_write
from planetml_lib.train.systems import make_optimizer

CHECKPOINT_NAME = "last.pt"
HISTORY_COLUMNS = ["epoch", "train_loss", "val_loss", "lr", "seconds"]
MONITORS = ("val_loss", "train_loss")
ACTIVATIONS = {
    None: None,
    "sigmoid": torch.sigmoid,
    "softmax": partial(torch.softmax, dim=1),
}


@contextmanager
def seeded(seed):
    """Run a block with torch's random numbers (CPU and CUDA) seeded by ``seed`` and cuDNN deterministic.

    The caller's random state is restored afterwards: weight initialisation and dropout
    repeat without reseeding Python, numpy or torch for the rest of the program.

    Examples
    --------
    >>> with seeded(0):
    ...     a = torch.rand(2)
    >>> with seeded(0):
    ...     b = torch.rand(2)
    >>> bool((a == b).all())
    True
    """
    with torch.random.fork_rng(), torch.backends.cudnn.flags(enabled=torch.backends.cudnn.enabled,
                                                              deterministic=True, benchmark=False):
        torch.manual_seed(seed)
        yield


class EpochDataset(Dataset):
    """A dataset whose random draws depend only on its seed, the epoch and the index.

    :func:`~planetml_lib.train.loop.fit` calls :meth:`set_epoch` before every epoch. Each item
    draws from its own generator seeded with ``(seed, epoch, index)``: no global random state,
    the same draws in DataLoader worker processes, and a resumed run repeats an uninterrupted one.
    """

    def __init__(self, seed=0):
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch):
        """Draw the next items for ``epoch``."""
        self.epoch = int(epoch)

    def rng(self, index):
        """The generator of item ``index`` in the current epoch."""
        return np.random.default_rng([self.seed, self.epoch, int(index)])


def _check_finite(X, name):
    """Raise PlanetMLError unless float array ``X`` is finite."""
    if not np.isfinite(X).all():
        raise PlanetMLError(
            f"{name} contains NaN or inf; replace gaps by 0 and add a validity channel first"
        )


def _label_tensor(y):
    """Labels as a tensor: integers -> int64 (cross-entropy), others -> float32."""
    if np.issubdtype(y.dtype, np.integer):
        return torch.from_numpy(y.astype(np.int64))
    return torch.from_numpy(y.astype(np.float32))


def _as_dataset(data, name):
    """Turn an ``(X, y)`` pair of arrays into a TensorDataset; pass Datasets through."""
    if data is None or isinstance(data, Dataset):
        return data
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise PlanetMLError(f"{name} must be an (X, y) pair of arrays or a torch Dataset")
    X, y = np.asarray(data[0], dtype=np.float32), np.asarray(data[1])
    _check_finite(X, f"{name} X")
    if len(X) == 0:
        raise PlanetMLError(f"{name} is empty")
    if len(X) != len(y):
        raise PlanetMLError(f"{name}: X has {len(X)} samples but y has {len(y)}")
    return TensorDataset(torch.from_numpy(X), _label_tensor(y))


def _run_epoch(model, loader, loss_fn, device, optimizer=None, scheduler=None):
    """Train (when ``optimizer`` is given) or evaluate over ``loader``; return mean loss."""
    training = optimizer is not None
    model.train(training)
    total, count = 0.0, 0
    with torch.set_grad_enabled(training):
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            with autocast(device):
                out = model(X)
            loss = loss_fn(out.float(), y)
            if training:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
            total += loss.item() * len(X)
            count += len(X)
    return total / count


def _train_epoch(epoch, model, loaders, loss_fns, device, optimizer, scheduler):
    """Train one epoch, then validate if a validation loader is given; return a history row."""
    train_loader, val_loader = loaders
    loss_fn, val_loss_fn = loss_fns
    lr, started = optimizer.param_groups[0]["lr"], time.perf_counter()
    train_loss = _run_epoch(model, train_loader, loss_fn, device, optimizer, scheduler)
    val_loss = math.nan if val_loader is None else _run_epoch(model, val_loader, val_loss_fn, device)
    return {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "lr": lr,
            "seconds": time.perf_counter() - started}


def _fresh_state():
    """Training progress before the first epoch."""
    return {"epoch": 0, "best_value": math.inf, "best_epoch": 0, "best_state": None,
            "bad_epochs": 0, "history": []}


def _update_state(state, row, model, monitor):
    """Record an epoch's ``row``; keep a CPU copy of the weights if it is the best so far."""
    for key in ("train_loss", monitor):
        if not math.isfinite(row[key]):
            raise PlanetMLError(f"{key} became {row[key]} at epoch {row['epoch']}; lower lr?")
    value = row[monitor]
    state["epoch"] = row["epoch"]
    state["history"].append(row)
    if value < state["best_value"]:
        best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        state.update(best_value=value, best_epoch=row["epoch"], bad_epochs=0, best_state=best_state)
    else:
        state["bad_epochs"] += 1


def _save_checkpoint(path, state, model, optimizer, scheduler, epochs):
    """Write model, optimiser, scheduler and progress to ``path`` atomically."""
    checkpoint = dict(state, model=model.state_dict(), optimizer=optimizer.state_dict(),
                      scheduler=None if scheduler is None else scheduler.state_dict(),
                      epochs=epochs)
    with atomic_write(path) as tmp:
        torch.save(checkpoint, tmp)


def _load_checkpoint(path, model, optimizer, scheduler, epochs):
    """Restore model, optimiser and scheduler from ``path``; return the progress state."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(checkpoint.pop("model"))
        optimizer.load_state_dict(checkpoint.pop("optimizer"))
    except (OSError, EOFError, RuntimeError, ValueError, KeyError, pickle.UnpicklingError) as exc:
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise PlanetMLError(f"{path}: cannot resume from this checkpoint ({reason})") from None
    saved_scheduler, saved_epochs = checkpoint.pop("scheduler"), checkpoint.pop("epochs")
    same_schedule = saved_scheduler is None or saved_epochs == epochs
    if (scheduler is None) != (saved_scheduler is None) or not same_schedule:
        raise PlanetMLError(
            f"{path}: resume a scheduled run with the same scheduler and epochs={saved_epochs}"
        )
    if scheduler is not None:
        scheduler.load_state_dict(saved_scheduler)
    return checkpoint


def _history_frame(state):
    """History rows as a DataFrame; ``attrs["best_epoch"]`` names the kept epoch."""
    history = pd.DataFrame(state["history"], columns=HISTORY_COLUMNS)
    history.attrs["best_epoch"] = state["best_epoch"]
    return history


def fit(model, train_data, val_data, loss_fn, *, epochs=20, lr=1e-3, batch_size=32,
        patience=5, checkpoint_dir=None, seed=0, device=None, progress=True,
        optimizer=None, scheduler=None, monitor="val_loss", val_loss_fn=None, samples_per_epoch=None):
    """Train ``model`` with early stopping; resume from ``checkpoint_dir`` if possible.

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch ``X`` to outputs that ``loss_fn`` compares with ``y``.
    train_data, val_data : (X, y) pair of numpy arrays, or torch Dataset
        ``X`` float, e.g. windows ``(n_windows, n_channels, n_steps)``, must be
        finite (replace gaps by 0 and add a validity channel first). Integer
        ``y`` becomes int64 (for cross-entropy), bool or float ``y`` float32.
        ``val_data`` may be None only with ``monitor="train_loss"``.
    loss_fn : callable
        ``loss_fn(outputs, y) -> scalar tensor``, e.g.
        :class:`~planetml_lib.train.systems.DiceBCELoss`.
    epochs : int, default 20
        Total number of epochs, counting those of a resumed run.
    lr : float, default 1e-3
        Learning rate of the default Adam optimiser.
    batch_size : int, default 32
    patience : int or None, default 5
        Stop after this many epochs without improvement of ``monitor``;
        None trains all ``epochs``.
    checkpoint_dir : str or Path, optional
        Folder for ``last.pt``, written after every epoch. If it already holds
        one, training resumes after its last epoch.
    seed : int, default 0
        Every epoch draws its shuffling, its augmentation (an
        :class:`EpochDataset`) and its dropout from
        ``seed + epoch`` in generators of its own, so a resumed run repeats an
        uninterrupted one and the caller's global random state is untouched.
    device : str or torch.device, optional
        See :func:`planetml_lib.device.get_device`.
    progress : bool, default True
        Show a tqdm progress bar over epochs.
    optimizer : torch.optim.Optimizer, optional
        Defaults to ``make_optimizer(model, "adam", lr)``.
    scheduler : callable, optional
        ``scheduler(optimizer, steps_per_epoch, epochs) -> LRScheduler``,
        stepped after every batch, e.g.
        :func:`~planetml_lib.train.systems.make_scheduler`.
    monitor : {"val_loss", "train_loss"}, default "val_loss"
        Quantity that early stopping and best-weight selection minimise.
    val_loss_fn : callable, optional
        What ``val_loss`` measures, if not ``loss_fn``: e.g.
        :func:`~planetml_lib.train.systems.iou_loss` to stop on validation IoU.
    samples_per_epoch : int, optional
        Draw this many training samples per epoch (without replacement while
        the data last) instead of one pass over all of them: a fixed budget of
        steps whatever the size of the training set.

    Returns
    -------
    pandas.DataFrame
        One row per epoch run so far: ``epoch`` (from 1), ``train_loss``,
        ``val_loss`` (NaN without validation data), ``lr`` (at the epoch's start)
        and ``seconds``; ``attrs["best_epoch"]`` is the epoch whose weights
        ``model`` holds on return (in eval mode, on ``device``).

    Examples
    --------
    >>> from planetml_lib.models import create_model
    >>> X = np.random.default_rng(0).normal(size=(64, 2, 16)).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> model = create_model("convnet1d", in_channels=2, n_classes=2, width=4, depth=1)
    >>> history = fit(model, (X, y), (X, y), nn.CrossEntropyLoss(), epochs=2, progress=False)
    >>> list(history["epoch"])
    [1, 2]
    """
    if monitor not in MONITORS or (val_data is None and monitor == "val_loss"):
        raise PlanetMLError(
            f"monitor must be one of {MONITORS} (val_loss needs val_data), got {monitor!r}"
        )
    device = get_device(device)
    model.to(device)
    if isinstance(loss_fn, nn.Module):
        loss_fn.to(device)
    train_set = _as_dataset(train_data, "train_data")
    shuffling = torch.Generator()
    sampler = RandomSampler(train_set, num_samples=samples_per_epoch, generator=shuffling)
    train_loader = DataLoader(train_set, batch_size, sampler=sampler)
    val_set = _as_dataset(val_data, "val_data")
    val_loader = None if val_set is None else DataLoader(val_set, batch_size)
    optimizer = optimizer if optimizer is not None else make_optimizer(model, lr=lr)
    scheduler = None if scheduler is None else scheduler(optimizer, len(train_loader), epochs)
    path = None if checkpoint_dir is None else Path(checkpoint_dir) / CHECKPOINT_NAME
    resume = path is not None and path.exists()
    state = (_load_checkpoint(path, model, optimizer, scheduler, epochs) if resume
             else _fresh_state())
    bar = tqdm(range(state["epoch"] + 1, epochs + 1), initial=state["epoch"], total=epochs,
               desc="epochs", disable=not progress)
    for epoch in bar:
        if patience is not None and state["bad_epochs"] >= patience:
            break
        shuffling.manual_seed(seed + epoch)
        if isinstance(train_set, EpochDataset):
            train_set.set_epoch(seed + epoch)
        with seeded(seed + epoch):
            row = _train_epoch(epoch, model, (train_loader, val_loader), (loss_fn, val_loss_fn or loss_fn), device,
                               optimizer, scheduler)
        _update_state(state, row, model, monitor)
        if path is not None:
            _save_checkpoint(path, state, model, optimizer, scheduler, epochs)
        bar.set_postfix(train_loss=f"{row['train_loss']:.4g}", val_loss=f"{row['val_loss']:.4g}")
    bar.close()
    if state["best_state"] is not None:
        model.load_state_dict(state["best_state"])
    model.eval()
    return _history_frame(state)


def predict_batches(model, X, batch_size=256, device=None, activation=None, progress=False):
    """Run ``model`` over ``X`` in batches without gradients; return numpy outputs.

    Parameters
    ----------
    model : torch.nn.Module
        Put in eval mode and moved to ``device``.
    X : numpy.ndarray
        Finite float inputs, e.g. windows ``(n_windows, n_channels, n_steps)``.
    batch_size : int, default 256
    device : str or torch.device, optional
        See :func:`planetml_lib.device.get_device`.
    activation : {None, "sigmoid", "softmax"}, default None
        Applied to the outputs; softmax runs over axis 1 (classes). None
        returns raw logits.
    progress : bool, default False
        Show a tqdm bar over the batches on stderr when it is a terminal
        (long predictions on the command line); tqdm hides it elsewhere.

    Returns
    -------
    numpy.ndarray
        Float32 outputs, e.g. ``(n_windows, n_classes, n_steps)``.

    Examples
    --------
    >>> from planetml_lib.models import create_model
    >>> model = create_model("convnet1d", in_channels=2, n_classes=3, width=4, depth=1)
    >>> predict_batches(model, np.zeros((5, 2, 16), "float32"), activation="softmax").shape
    (5, 3, 16)
    """
    if activation not in ACTIVATIONS:
        raise PlanetMLError(f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}")
    X = np.asarray(X, dtype=np.float32)
    _check_finite(X, "X")
    device = get_device(device)
    model.to(device).eval()
    outputs = []
    with torch.inference_mode():
        batches = torch.from_numpy(X).split(batch_size)
        for batch in tqdm(batches, desc="predict", unit="batch", leave=False, disable=not progress or None):
            with autocast(device):
                out = model(batch.to(device)).float()
            if activation is not None:
                out = ACTIVATIONS[activation](out)
            outputs.append(out.float().cpu().numpy())
    return np.concatenate(outputs)
