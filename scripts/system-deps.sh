#!/usr/bin/env bash
# Debian packages some tests use: Chromium + a CJK font (browser tests of the web page) and docker-compose
# (validates docker-compose.yml without a daemon). Best effort: without root or apt the tests that need them
# skip with a stated reason. Set PROCURE_SKIP_SYSTEM_DEPS=1 to leave the system alone.
set -u
[ "${PROCURE_SKIP_SYSTEM_DEPS:-0}" = "1" ] && exit 0
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: cannot install ${need[*]} (needs root and apt); the tests that use them will skip" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}" >&2
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >&2 \
  || echo "system-deps: apt-get failed; the tests that need ${need[*]} will skip" >&2
exit 0
