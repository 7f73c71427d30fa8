#!/usr/bin/env bash
# Build the real Dockerfile and check the image end to end, without a Docker engine:
# Debian's buildah and podman as root (chroot isolation), on a Debian bookworm base made here with
# debootstrap (no registry needed). Checks, as UID 1000: `planetml cases`; imports of every runtime
# dependency and planetml_lib module, and a torch matrix product (tools/check_environment.py);
# JupyterLab under a base URL with the token from the environment; a Voila dashboard inside it;
# the HEALTHCHECK; `planetml dashboard CASE` on port 8866. Then removes the image, containers and build cache, also
# on failure. Needs root, 30 GB free and about 5 minutes; see docs/platforms.md.
#
# Settings (environment): PLANETML_IMAGE_WORK (storage folder, default /var/tmp/planetml-image-test),
# PLANETML_IMAGE_BASE_CACHE (the debootstrapped base, kept between runs), STORAGE_DRIVER (overlay|vfs),
# DEBIAN_MIRROR, NEED_GB (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=${PLANETML_IMAGE_WORK:-/var/tmp/planetml-image-test}
BASE_CACHE=${PLANETML_IMAGE_BASE_CACHE:-/var/cache/planetml-image-test/debian-bookworm-python3.tar}
DRIVER=${STORAGE_DRIVER:-overlay}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
NEED_GB=${NEED_GB:-30}  # measured peak: 25 to 26.5 GB above the start (image 7.1 GB)
IMAGE=localhost/planetml:image-test
BASE=localhost/planetml-base:bookworm
BASE_URL=/user/test/
CASE=icme
TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
NAME=planetml-image-test-$$
MARK=.planetml-image-test  # marks $WORK as this script's, to delete

say() { echo "test-image: $*"; }
fail() { echo "test-image: FAILED: $*" >&2; exit 1; }

# Everything lives in its own storage under $WORK: other images on this machine are never touched.
store_flags=(--root "$WORK/storage" --runroot "$WORK/run" --storage-driver "$DRIVER")
buildah() { command buildah "${store_flags[@]}" "$@"; }
# runc: crun fails here on cgroups v1. Without systemd podman cannot time health checks: that
# complaint is filtered out, and checks run on demand (`podman healthcheck run`).
podman() { command podman "${store_flags[@]}" --runtime runc "$@" 2> >(grep -v "systemd connection" >&2); }
# Limits within this machine's hard limits (podman's default RLIMIT_NOFILE is refused).
run_image() {
  podman run --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --health-interval disable --user 1000 "$@"
}

check_machine() {
  [ "$(id -u)" = 0 ] || fail "run as root (buildah and podman build and run as root here)"
  local missing=()
  for tool in buildah podman debootstrap runc curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      buildah podman debootstrap runc curl >/dev/null
  fi
  [ ! -e "$WORK" ] || [ -e "$WORK/$MARK" ] || fail "$WORK exists and is not this script's folder \
(it deletes it afterwards): set PLANETML_IMAGE_WORK to a new folder"
  mkdir -p "$(dirname "$WORK")"
  local free_gb
  free_gb=$(df --output=avail -BG "$(dirname "$WORK")" | tail -1 | tr -dc 0-9)
  [ "$free_gb" -ge "$NEED_GB" ] || fail "$free_gb GB free on $(dirname "$WORK"), the build needs $NEED_GB GB:
  free some space, or set PLANETML_IMAGE_WORK to a folder on a larger disk"
  say "$free_gb GB free on $(dirname "$WORK")"
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
  if [ -d "$WORK/storage" ]; then
    podman rm -a -f -t 5 >/dev/null 2>&1 || true
    buildah rm --all >/dev/null 2>&1 || true
    podman rmi -a -f >/dev/null 2>&1 || true
    podman system reset -f >/dev/null 2>&1 || true
  fi
  grep -o " ${WORK}[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
  [ -e "$WORK/$MARK" ] && rm -rf "$WORK"
  if [ -n "${disk_log:-}" ] && [ -s "$disk_log" ]; then
    say "peak disk use above the start: $(sort -n "$disk_log" | tail -1 | awk -v s="$disk_start" '{printf "%.1f", ($1 - s) / 1048576}') GB"
    rm -f "$disk_log"
  fi
  say "cleaned up; $( [ $status = 0 ] && echo passed || echo "failed ($status)") in $SECONDS s"
  exit $status
}

# Debian bookworm with its python3 (3.11) and venv, imported as a local image; the tarball is kept.
make_base() {
  if [ ! -s "$BASE_CACHE" ]; then
    say "debootstrapping the base (once; kept in $BASE_CACHE)"
    mkdir -p "$WORK/rootfs" "$(dirname "$BASE_CACHE")"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$WORK/rootfs" \
      "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; fail "debootstrap"; }
    rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb "$WORK/rootfs/var/lib/apt/lists/"*
    tar -C "$WORK/rootfs" -cf "$BASE_CACHE.tmp" . && mv "$BASE_CACHE.tmp" "$BASE_CACHE"
    rm -rf "$WORK/rootfs"
  fi
  podman import -q --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "$BASE_CACHE" "$BASE" >/dev/null
}

# This machine's local package files and CA bundle (from `pip config list`), mounted read-only
# into the build under /mnt/host-pip-*, with a pip.conf that points there; nothing is copied
# into the image.
pip_mounts() {
  mkdir -p "$WORK/pip"
  python3 - "$WORK/pip" <<'EOF'
import re, shutil, subprocess, sys
from pathlib import Path
out = Path(sys.argv[1])
settings = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
values = {}
for key, value in re.findall(r"^\S*?\.?([a-z-]+)='(.*)'$", settings, re.M):
    values.setdefault(key, []).extend(value.split())
mounts, find_links, indexes = {}, [], []
def mount(folder):
    return mounts.setdefault(folder, f"/mnt/host-pip-{len(mounts)}")
for link in dict.fromkeys(values.get("find-links", [])):
    if Path(link).is_dir():
        find_links.append(mount(link))
for url in dict.fromkeys(values.get("extra-index-url", [])):
    path = Path(url.removeprefix("file://"))
    if url.startswith("file://") and path.is_dir():  # index pages link to ../../files: mount the parent
        indexes.append(f"file://{mount(str(path.parent))}/{path.name}")
conf = ["[global]"]
if find_links:
    conf.append("find-links = " + " ".join(find_links))
if indexes:
    conf.append("extra-index-url = " + " ".join(indexes))
cert = next((c for c in values.get("cert", []) if Path(c).is_file()), None)
if cert:
    shutil.copy(cert, out / "ca.crt")
    conf.append("cert = /mnt/host-pip-conf/ca.crt")
(out / "pip.conf").write_text("\n".join(conf) + "\n")
for folder, target in mounts.items():
    print(f"{folder}:{target}:ro")
EOF
}

build() {
  local volumes=(--volume "$WORK/pip:/mnt/host-pip-conf:ro")
  while read -r volume; do volumes+=(--volume "$volume"); done < <(pip_mounts)
  say "pip settings for the build: $(tr '\n' ' ' <"$WORK/pip/pip.conf")"
  say "building (about 4 minutes)"
  local start=$SECONDS
  BUILDAH_ISOLATION=chroot buildah bud --isolation chroot --layers=false --format docker \
    --build-arg BASE_IMAGE="$BASE" --build-arg PIP_CONFIG_FILE=/mnt/host-pip-conf/pip.conf \
    "${volumes[@]}" -t "$IMAGE" . >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; fail "build"; }
  say "built in $((SECONDS - start)) s: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.1f GB", $1/1e9}')"
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Print the page at URL $1, retrying while the server starts, for at most $2 seconds.
fetch() {
  curl -fsS --retry 1000 --retry-all-errors --retry-delay 2 --retry-max-time "$2" --max-time 60 "$1" 2>/dev/null
}

# True when the Voila page $1 came from PlanetML's template and loads nothing from another host.
offline_page() {
  grep -q "voila/templates/planetml/" <<<"$1" && ! grep -qE '<(link|script)[^>]+(href|src)="https?://' <<<"$1"
}

# Print the Voila page at URL $1 once it arrived whole (it ends by calling voila_finish), trying
# for at most $2 seconds. Voila runs the notebook while it sends the page (10 to 20 s here). Once
# in five runs here it sent the whole page and then left the connection open: that page counts,
# with a warning.
render() {
  local deadline=$((SECONDS + $2)) page status
  while [ $SECONDS -lt "$deadline" ]; do
    status=0
    page=$(curl -sS --max-time 120 "$1" 2>/dev/null) || status=$?
    if [[ $page == *"window.voila_finish()"* ]]; then
      [ $status = 0 ] || say "warning: Voila sent the whole page but did not close the connection" >&2
      printf '%s' "$page"
      return 0
    fi
    sleep 2
  done
  return 1
}

check_commands() {
  local out
  # shellcheck disable=SC2016  # expanded by the shell inside the container
  out=$(run_image --rm "$IMAGE" bash -c 'echo "$(id -u) $(id -un) $HOME"; planetml cases;
    test -f models/icme_resunetpp1d/weights.safetensors && touch notebooks/icme/.w && echo "models and notebooks ok";
    python -c "import KT17, torch; print(\"torch\", torch.__version__, \"cuda\" if torch.cuda.is_available() else \"cpu\")"') \
    || fail "commands inside the container"
  # shellcheck disable=SC2001  # indent every line of the output
  sed 's/^/  | /' <<<"$out"
  grep -q "^1000 jovyan /home/jovyan$" <<<"$out" || fail "not user jovyan (1000) with HOME=/home/jovyan"
  grep -q "^$CASE " <<<"$out" || fail "planetml cases does not list $CASE"
  grep -q "^models and notebooks ok$" <<<"$out" || fail "models missing from the home folder, or its notebooks not writable"
  # Every runtime dependency's modules and every planetml_lib module import; torch multiplies matrices.
  out=$(run_image --rm --volume "$PWD/tools/check_environment.py:/tmp/check_environment.py:ro" "$IMAGE" \
    python /tmp/check_environment.py) || { grep -v "^ok" <<<"$out" >&2; fail "tools/check_environment.py inside the container"; }
  say "$(tail -1 <<<"$out") ($(grep -o "torch .* on [a-z]*" <<<"$out"))"
  run_image --rm -e JUPYTERHUB_API_TOKEN=x "$IMAGE" planetml lab >"$WORK/hub.log" 2>&1 && fail "lab ran as a Hub server"
  grep -q "jupyterhub-singleuser is not installed" "$WORK/hub.log" || fail "no clear error without jupyterhub: $(cat "$WORK/hub.log")"
}

check_lab() {
  local port url page
  port=$(free_port)
  url="http://127.0.0.1:$port${BASE_URL}"
  run_image -d --name "$NAME-lab" -p "127.0.0.1:$port:8888" \
    -e PLANETML_BASE_URL="$BASE_URL" -e PLANETML_TOKEN="$TOKEN" "$IMAGE" >/dev/null
  fetch "${url}api" 120 >/dev/null || { podman logs "$NAME-lab" | tail -20; fail "JupyterLab did not answer at ${url}api"; }
  page=$(curl -fsS --max-time 60 "${url}lab?token=$TOKEN" || true)
  grep -q JupyterLab <<<"$page" || fail "no JupyterLab page at ${url}lab"
  curl -fsS --max-time 60 "${url}api/contents/notebooks/$CASE?token=$TOKEN" | grep -q '"dashboard.ipynb"' || fail "notebooks missing"
  [ "$(curl -s --max-time 60 -o /dev/null -w '%{http_code}' "${url}api/contents?token=wrong")" = 403 ] || fail "a wrong token got in"
  say "JupyterLab answers at ${url}lab; rendering the $CASE dashboard with Voila"
  page=$(render "${url}voila/render/notebooks/$CASE/dashboard.ipynb?token=$TOKEN" 300) || fail "no Voila page"
  grep -q "application/vnd.jupyter.widget-view+json" <<<"$page" || fail "the Voila page shows no widgets"
  ! grep -q "There was an error when executing cell" <<<"$page" || fail "the dashboard shows an error"
  offline_page "$page" || fail "the Voila page inside JupyterLab is not PlanetML's template or loads from another host"
  podman healthcheck run "$NAME-lab" >/dev/null || fail "HEALTHCHECK reports unhealthy"
  podman logs "$NAME-lab" 2>&1 | grep -q "$TOKEN" && fail "the token appears in the container log"
  podman rm -f -t 5 "$NAME-lab" >/dev/null
}

# `docker stop` reaches the server through tini and `planetml lab` (which execs it): it stops by itself.
check_stop() {
  local port
  port=$(free_port)
  run_image -d --name "$NAME-stop" -p "127.0.0.1:$port:8888" "$IMAGE" >/dev/null
  fetch "http://127.0.0.1:$port/api" 120 >/dev/null || fail "JupyterLab did not answer on port 8888"
  podman stop -t 20 "$NAME-stop" >/dev/null
  [ "$(podman inspect --format '{{.State.ExitCode}}' "$NAME-stop")" = 0 ] || fail "JupyterLab did not stop on SIGTERM"
  podman rm "$NAME-stop" >/dev/null
}

check_dashboard() {
  local port
  port=$(free_port)
  run_image -d --name "$NAME-dash" -p "127.0.0.1:$port:8866" "$IMAGE" \
    planetml dashboard "$CASE" --ip 0.0.0.0 >/dev/null
  local page
  page=$(render "http://127.0.0.1:$port/" 300 || true)
  grep -q "application/vnd.jupyter.widget-view+json" <<<"$page" \
    || { podman logs "$NAME-dash" | tail -20; fail "planetml dashboard $CASE did not render on 8866"; }
  offline_page "$page" || fail "planetml dashboard's page is not PlanetML's template or loads from another host"
  podman rm -f "$NAME-dash" >/dev/null
}

check_machine
mkdir -p "$WORK" && touch "$WORK/$MARK"
trap cleanup EXIT INT TERM
disk_log=$(mktemp)
disk_start=$(df --output=used -B1K "$(dirname "$WORK")" | tail -1)
( while :; do df --output=used -B1K "$(dirname "$WORK")" | tail -1 >>"$disk_log"; sleep 2; done ) &
sampler=$!
make_base
build
check_commands
say "planetml commands work as UID 1000"
check_stop
say "JupyterLab starts with the image's command and stops on SIGTERM"
check_lab
say "JupyterLab and Voila under $BASE_URL with the token from the environment, and the HEALTHCHECK, work"
check_dashboard
say "planetml dashboard $CASE renders on 8866"
