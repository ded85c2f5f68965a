#!/usr/bin/env bash
# Installs what Kontakt needs from Debian packages, only what is missing.
# Debian 12 has no Asterisk: Debian 11's 16.28 (bullseye + bullseye-security) is added with a low
# pin, so nothing from there is installed unless asked for by name or needed by asterisk itself.
# Runs as root (CI) or as a user with sudo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo" >&2; exit 1; }
  SUDO="sudo"
fi

need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
have_cmd asterisk || [ -x /usr/sbin/asterisk ] || need+=(asterisk)
have_cmd sipp || need+=(sip-tester)
have_cmd sox || need+=(sox)
have_cmd espeak-ng || need+=(espeak-ng)
have_cmd ip || need+=(iproute2)
have_cmd psql || need+=(postgresql-client-15)
# The agent page is built with Node.js and npm; the browser test runs Debian's Chromium.
have_cmd node || need+=(nodejs)
have_cmd npm || need+=(npm)
have_cmd chromium || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${need[*]}" >&2

if printf '%s\n' "${need[@]}" | grep -qx asterisk; then
  if ! grep -rqs 'bullseye' /etc/apt/sources.list.d/kontakt-bullseye.sources; then
    $SUDO tee /etc/apt/sources.list.d/kontakt-bullseye.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bullseye
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bullseye-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    $SUDO tee /etc/apt/preferences.d/kontakt-bullseye >/dev/null <<'PIN'
# Kontakt: only Asterisk (and what it alone needs) comes from Debian 11.
Package: *
Pin: release n=bullseye
Pin-Priority: 100

Package: *
Pin: release n=bullseye-security
Pin-Priority: 100
PIN
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# policy-rc.d keeps the packages from starting system services: Kontakt runs its own instances.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
