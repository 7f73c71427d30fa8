"""Figures of the image cases: a scene's layers, the spatial tile split, tiles with their masks."""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

SPLIT_COLOURS = {"train": "tab:blue", "validation": "tab:orange", "buffer": "lightgray"}


def plot_scene(scene, title=None):
    """DTM, image and mask of a scene ``(y, x)`` side by side, in map metres.

    Parameters
    ----------
    scene : xr.Dataset
        With ``dtm`` (m), ``image`` and ``mask`` (any of them may be missing).
    title : str, optional
        Figure title; say SIMULATED for simulated scenes.
    """
    layers = [(name, cmap) for name, cmap in (("dtm", "terrain"), ("image", "gray"), ("mask", "magma"))
              if name in scene]
    fig = Figure(figsize=(4.2 * len(layers), 4.4), layout="constrained")
    extent = (float(scene.x[0]), float(scene.x[-1]), float(scene.y[-1]), float(scene.y[0]))
    for ax, (name, cmap) in zip(fig.subplots(1, len(layers), squeeze=False)[0], layers, strict=True):
        shown = ax.imshow(scene[name].values, cmap=cmap, extent=extent)
        units = scene[name].attrs.get("units", "")
        ax.set_title(f"{scene[name].attrs.get('long_name', name)}" + (f" ({units})" if units not in ("", "1") else ""),
                     fontsize=9)
        ax.set_xlabel("x (m)")
        fig.colorbar(shown, ax=ax, shrink=0.7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_tile_split(layout, tile, scene_shape, scene=0):
    """Where the training, validation and buffer tiles of one scene lie (a map of the spatial split).

    Parameters
    ----------
    layout : pd.DataFrame
        Columns ``scene``, ``row``, ``col``, ``split`` (e.g. ``make_tiles(...)["layout"]``).
    tile : int
        Tile side in pixels.
    scene_shape : (int, int)
        Scene size ``(y, x)`` in pixels.
    scene : int, default 0
        Which scene of the layout to draw.
    """
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.add_subplot()
    rows = layout[layout["scene"] == scene]
    for row in rows.itertuples():
        ax.add_patch(Rectangle((row.col, row.row), tile, tile, facecolor=SPLIT_COLOURS[row.split], alpha=0.35,
                               edgecolor="k", linewidth=0.4))
    ax.add_patch(Rectangle((0, 0), scene_shape[1], scene_shape[0], fill=False, edgecolor="k", linewidth=1.5))
    ax.set_xlim(rows["col"].min(), rows["col"].max() + tile)
    ax.set_ylim(rows["row"].max() + tile, rows["row"].min())
    ax.set_aspect("equal")
    counts = rows["split"].value_counts()
    ax.set_title(", ".join(f"{split}: {counts.get(split, 0)}" for split in SPLIT_COLOURS) + " tiles", fontsize=9)
    ax.set_xlabel("column (px)")
    ax.set_ylabel("row (px)")
    return fig


def plot_tile_pairs(images, masks, n=6, title=None, channel=0):
    """``n`` tiles (one channel, [-1, 1]) above their masks: real ones or GAN-made ones."""
    n = min(n, len(images))
    fig = Figure(figsize=(1.8 * n, 3.8), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    for k in range(n):
        axes[0, k].imshow(np.asarray(images[k])[channel], cmap="gray", vmin=-1, vmax=1)
        axes[1, k].imshow(np.asarray(masks[k]), cmap="magma", vmin=0, vmax=1)
        for ax in axes[:, k]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel(f"channel {channel}")
    axes[1, 0].set_ylabel("mask")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
