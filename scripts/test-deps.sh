#!/usr/bin/env bash
# Installs what knot's test suites need on Debian or Ubuntu: git (the `knot git-links`
# tests clone repositories), ntfs-3g (the NTFS tests make and mount images), btrfs-progs
# (the `knot hardlinks` test of BTRFS_IOC_INO_PATHS and the copy tests make and mount
# btrfs images), e2fsprogs (the snapshot test meets ext4's link limit on an image), mingw
# and Wine (the Windows build and its tests), bash, zsh, fish and man-db (the completion
# scripts and the man page are loaded and rendered), and the Windows Rust target.
# Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail

packages=(git ntfs-3g btrfs-progs e2fsprogs gcc-mingw-w64-x86-64 wine64 bash zsh fish man-db)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rustup target add x86_64-pc-windows-gnu >/dev/null 2>&1 || rustup target add x86_64-pc-windows-gnu
echo "knot test dependencies are in place: ${packages[*]}, x86_64-pc-windows-gnu"
