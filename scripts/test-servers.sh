#!/usr/bin/env bash
# The real servers and browser that `make test` needs: Redis (the tracker and lock store
# tests) and Chromium with its driver (the web widget tests), from Debian's packages.
# Installs whatever is missing when it can (as root, or with sudo that needs no password);
# otherwise it stops, naming the tests that cannot run and the one command to fix that.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
((${#missing[@]})) || exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo="sudo"
    else
        sudo="unavailable"
    fi
fi
if [[ $sudo != unavailable ]] && command -v apt-get >/dev/null; then
    echo "make test: installing ${missing[*]} from Debian for the Redis store and web widget tests..."
    if $sudo apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
            >/dev/null; then
        exit 0
    fi
fi
cat >&2 <<MESSAGE
make test: cannot run every test here. Missing, and not installable from here: ${missing[*]}.
  Without redis-server: the Redis tracker and lock store tests (tests/test_stores.py) cannot run.
  Without chromium and chromium-driver: the web widget tests (tests/test_widget.py) cannot run.
Install them, then run make test again:
  sudo apt-get install -y --no-install-recommends redis-server chromium chromium-driver
MESSAGE
exit 1
