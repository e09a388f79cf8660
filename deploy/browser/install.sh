#!/usr/bin/env bash
# Installs Debian's headless browser for the dashboard's browser tests: chromium and chromium-driver.
# Idempotent: does nothing when /usr/bin/chromium and /usr/bin/chromedriver are already there.
# Playwright and Selenium cannot download browsers here; the tests point at these binaries.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "deploy/browser/install.sh: chromium is missing and this user is not root and has no sudo;" >&2
    echo "  install it with: apt-get install -y chromium chromium-driver" >&2
    exit 1
  fi
  sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium chromium-driver >/dev/null
command -v chromium >/dev/null && command -v chromedriver >/dev/null
echo "deploy/browser/install.sh: installed $(chromium --version 2>/dev/null || echo chromium)" >&2
