#!/usr/bin/env bash
# EXPLORE entry point: JupyterLab, or one case's Voila dashboard on its own, under the path prefix
# the platform's proxy forwards to this container.
#
#   EXPLORE_MODE             lab (default: JupyterLab, every dashboard at <prefix>voila/render/...)
#                            or dashboard (standalone Voila on EXPLORE_CASE's dashboard, no token)
#   EXPLORE_CASE             the dashboard mode's case: icme (default), mercury_boundaries, mars_mounds, minerals
#   PORT                     port to listen on (default 8888)
#   PATH_PREFIX              URL path the proxy forwards, kept in the request path (default /)
#   EXPLORE_PREFIX_STRIPPED  1 when the proxy removes PATH_PREFIX before forwarding (dashboard mode only)
#   EXPLORE_INPUT_DIR        read-only folder of user files (else SERVICE_INPUT_DIR, else /data/input)
#   EXPLORE_OUTPUT_DIR       folder for results (else SERVICE_OUTPUT_DIR, else /data/output)
#   PLANETML_NOTEBOOKS_SRC   the notebooks shipped in the image (default /home/jovyan/notebooks)
#   PLANETML_TOKEN, JUPYTER_TOKEN, PLANETML_NO_TOKEN: the lab's token, as for `planetml lab`
set -euo pipefail

fail() { echo "PlanetML: $*" >&2; exit 2; }

mode="${EXPLORE_MODE:-lab}"
case_name="${EXPLORE_CASE:-icme}"
port="${PORT:-8888}"
notebooks="${PLANETML_NOTEBOOKS_SRC:-/home/jovyan/notebooks}"
# SERVICE_INPUT_DIR and SERVICE_OUTPUT_DIR are the names EXPLORE's own applications read.
input="${EXPLORE_INPUT_DIR:-${SERVICE_INPUT_DIR:-/data/input}}"
output="${EXPLORE_OUTPUT_DIR:-${SERVICE_OUTPUT_DIR:-/data/output}}"

# The prefix as a URL path that starts and ends with "/"; checked because it lands in a JSON file.
prefix="${PATH_PREFIX:-/}"
prefix="/${prefix#/}"
prefix="${prefix%/}/"
[[ "$prefix" =~ ^/[A-Za-z0-9._~/-]*$ && "$prefix" != *//* ]] || fail "PATH_PREFIX=$PATH_PREFIX is not a URL path like /explore/planetml/"

# Notebooks find the user's files and the results folder through these variables; links in the
# lab's home folder show the same folders in its file browser.
export PLANETML_INPUT_DIR="$input" PLANETML_OUTPUT_DIR="$output"
[[ -d "$input" ]] || echo "PlanetML: warning: input folder $input not found" >&2
if ! mkdir -p "$output" 2>/dev/null || [[ ! -w "$output" ]]; then
    echo "PlanetML: warning: results folder $output cannot be written" >&2
fi
for name in input output; do
    link="$HOME/$name"
    if [[ -L "$link" || ! -e "$link" ]]; then
        ln -sfn "${!name}" "$link"
    else
        echo "PlanetML: warning: $link exists and is not a link; it is left as it is" >&2
    fi
done

case "$mode" in
lab)
    # JupyterLab's pages link to absolute paths under its base URL, so it only works when the proxy
    # forwards the full path. `planetml lab` reads port and base URL from these variables.
    [[ "${EXPLORE_PREFIX_STRIPPED:-0}" != 1 || "$prefix" == / ]] || \
        fail "JupyterLab needs the proxy to forward $prefix unchanged: use EXPLORE_MODE=dashboard," \
             "or publish it at the root of a host name with PATH_PREFIX=/"
    export PLANETML_PORT="$port" PLANETML_BASE_URL="$prefix"
    cd "$HOME"
    exec planetml lab --ip 0.0.0.0 --notebook-dir "$HOME"
    ;;
dashboard)
    # `planetml dashboard` takes no base URL, so it comes from a Voila config file in a folder put
    # first on JUPYTER_CONFIG_PATH (which Voila reads). base_url is where the browser sends requests;
    # server_url, where Voila routes them: "/" when the proxy has stripped the prefix.
    server_url="$prefix"
    [[ "${EXPLORE_PREFIX_STRIPPED:-0}" != 1 ]] || server_url=/
    config="$(mktemp -d)"
    printf '{"Voila": {"base_url": "%s", "server_url": "%s"}}\n' "$prefix" "$server_url" > "$config/voila.json"
    export JUPYTER_CONFIG_PATH="$config${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
    exec planetml dashboard "$case_name" --ip 0.0.0.0 --port "$port" --notebook-dir "$notebooks"
    ;;
*)
    fail "EXPLORE_MODE=$mode: use lab or dashboard"
    ;;
esac
