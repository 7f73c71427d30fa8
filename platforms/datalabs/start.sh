#!/usr/bin/env bash
# ESA Datalabs entry point: JupyterLab (with Voila inside it) for one datalab session.
#
# Datalabs starts the container with the session's port in IF_main_port and its id in IF_main_id,
# and proxies https://datalabs.esa.int/datalabs/<id>/ to that port, inside a frame of its portal.
# Settings, all optional:
#   PLANETML_PERSISTENT_DIR  the user's persistent area (default /media/home, mounted by Datalabs)
#   PLANETML_NOTEBOOKS_SRC   the notebooks shipped in the image (default /home/jovyan/notebooks)
#   DATALABS_URL             the portal's origin, allowed to frame the lab (default https://datalabs.esa.int)
#   PLANETML_TOKEN, JUPYTER_TOKEN, PLANETML_NO_TOKEN: as for `planetml lab` (see docs/platforms.md)
set -euo pipefail

persistent="${PLANETML_PERSISTENT_DIR:-/media/home}"
shipped="${PLANETML_NOTEBOOKS_SRC:-/home/jovyan/notebooks}"
portal="${DATALABS_URL:-https://datalabs.esa.int}"

# `planetml lab` reads port and base URL from these variables and checks them (a bad port ends in a
# one-line error). The image's HEALTHCHECK does not see them: it reads the container's environment.
export PLANETML_PORT="${IF_main_port:-8888}" PLANETML_BASE_URL=/
if [[ -n "${IF_main_id:-}" ]]; then
    PLANETML_BASE_URL="/datalabs/$IF_main_id/"
fi

# Behind Datalabs the platform logs users in and proxies the session, so the server runs without a
# token of its own, as ESA's own JupyterLab datalabs do; a token set by the platform still applies,
# and PLANETML_NO_TOKEN=0 keeps the usual random one. Outside Datalabs nothing changes.
if [[ -n "${IF_main_id:-}" && -z "${PLANETML_TOKEN:-}${JUPYTER_TOKEN:-}" ]]; then
    export PLANETML_NO_TOKEN="${PLANETML_NO_TOKEN:-1}"
fi

# The portal shows the lab in a frame; Jupyter's default Content-Security-Policy allows only its own
# pages as frame ancestors. `planetml lab` passes no extra server options, so the header comes from a
# config file in a folder put first on JUPYTER_CONFIG_PATH: its folders take precedence over every
# other config folder, and, unlike JUPYTER_CONFIG_DIR, it leaves the user's own folder (~/.jupyter,
# with JupyterLab's saved settings) where it is. The origin is checked because it lands in JSON.
if [[ ! "$portal" =~ ^https?://[A-Za-z0-9.*-]+(:[0-9]+)?$ ]]; then
    echo "PlanetML: DATALABS_URL=$portal is not an origin like https://datalabs.esa.int" >&2
    exit 2
fi
config="$(mktemp -d)"
printf '{"ServerApp": {"tornado_settings": {"headers": {"Content-Security-Policy": "frame-ancestors %s %s"}}}}\n' \
    "'self'" "$portal" > "$config/jupyter_server_config.json"
export JUPYTER_CONFIG_PATH="$config${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"

# User work lives in the persistent area, which survives the session; ~/work points at it. The
# shipped notebooks are copied in without replacing any file already there, so a user's edited copy
# is never overwritten: the first start copies them all, a later one only files the user does not
# have (a notebook added by a newer image, or one the user deleted). GNU tar's --skip-old-files does
# this with exit status 0 (cp -n, in some coreutils releases, fails when it skips a file).
if [[ -d "$persistent" ]]; then
    if [[ ! -w "$persistent" ]]; then
        echo "PlanetML: the persistent area $persistent is not writable by UID $(id -u)" >&2
        exit 1
    fi
    mkdir -p "$persistent/notebooks"
    tar -C "$shipped" -cf - . | tar -C "$persistent/notebooks" -xf - --skip-old-files
    [[ -e "$HOME/work" || -L "$HOME/work" ]] || ln -s "$persistent" "$HOME/work"
    root="$persistent"
else
    echo "PlanetML: warning: no persistent area at $persistent; work saved in this session is lost at its end" >&2
    root="$HOME"
fi

cd "$root"
exec planetml lab --ip 0.0.0.0 --notebook-dir "$root"
