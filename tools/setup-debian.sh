#!/bin/sh
# Install what newsarc needs to build, test and benchmark on Debian 12
# (bookworm).  Runs apt-get directly as root, through sudo otherwise.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    build-essential cmake pkg-config \
    libzstd-dev libsodium-dev libicu-dev libjansson-dev libcriterion-dev liburing-dev zlib1g-dev \
    zstd jq minisign clang valgrind time gzip >/dev/null
echo "setup-debian: build dependencies installed"
