#!/usr/bin/env bash
# GAVO DaCHS for PlanetML's EPN-TAP services (Debian bookworm; installing needs root).
#   bash tools/vo_server.sh install   packages only: PostgreSQL with pgsphere, DaCHS, STILTS (the tests and
#                                     planetml_lib.vo.LocalDachs start throwaway instances of their own)
#   bash tools/vo_server.sh start     install, then serve the system DaCHS on http://127.0.0.1:8080
# See docs/virtual_observatory.md.
set -euo pipefail
action="${1:-start}"
export DEBIAN_FRONTEND=noninteractive

# Start every PostgreSQL cluster (no systemd here); make one where the package made none.
start_clusters() {
  [ -n "$(pg_lsclusters -h)" ] || pg_createcluster 15 main
  pg_lsclusters -h | while read -r version cluster _ status _; do
    [ "$status" = online ] || pg_ctlcluster "$version" "$cluster" start
  done
}

install_packages() {
  if command -v dachs >/dev/null && command -v stilts >/dev/null; then return; fi
  if [ "$(id -u)" != 0 ]; then
    echo "vo-server: DaCHS is not installed; as root: apt-get install gavodachs2-server stilts (see docs/virtual_observatory.md)"
    exit 1
  fi
  apt-get update -q
  apt-get install -y -q postgresql-15-pgsphere   # brings PostgreSQL 15 where it is missing
  # pgsphere 1.2.0 fails to create on current PostgreSQL 15 security releases ("commutator operator @> is
  # already the commutator of operator <@"): drop COMMUTATOR/NEGATOR from its two obsolete @ operators on smoc.
  sed -i "/backwards-compatible operators for GAVO DaCHS/,/^-- debugging/{/COMMUTATOR = '@>',/d;/NEGATOR    = '!<@',/d}" \
    /usr/share/postgresql/15/extension/pg_sphere--1.2.0.sql
  # The DaCHS package's install script creates its database: PostgreSQL must run first.
  start_clusters
  apt-get install -y -q gavodachs2-server stilts
}

start_server() {
  start_clusters
  # dachs pub refuses resources without an authority; ours is local until registered.
  grep -q '^\[ivoa\]' /etc/gavo.rc 2>/dev/null || printf '[ivoa]\nauthority: planetml.local\n' >> /etc/gavo.rc
  curl -sf -o /dev/null http://127.0.0.1:8080/ || dachs serve start
  echo "vo-server: DaCHS serves http://127.0.0.1:8080 (TAP: http://127.0.0.1:8080/tap); stop: dachs serve stop"
}

install_packages
if [ "$action" = start ]; then start_server; fi
