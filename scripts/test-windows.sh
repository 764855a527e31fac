#!/usr/bin/env bash
# Builds the whole workspace for Windows (x86_64-pc-windows-gnu, with mingw) and runs its
# tests under Wine:
#
#   scripts/test-windows.sh [CARGO TEST ARGS...]
#
# .cargo/config.toml makes scripts/wine-runner.sh cargo's runner for that target; the
# runner sets up a throwaway Wine prefix and the ProcessPrng DLL Wine 8 lacks. Tests that
# need what Wine lacks (reparse points: junctions and symlinks) find that out by trying,
# and check that the failure is clean; everything else runs for real.
#
# Needs: the Rust target (rustup target add x86_64-pc-windows-gnu), the mingw linker
# (Debian: gcc-mingw-w64-x86-64) and Wine (Debian: wine64). Without Wine the tests are
# built but not run, with a note; KNOT_REQUIRE_WINE=1 (as in CI) makes that a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-pc-windows-gnu

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
    echo "test-windows: the Rust target is missing: rustup target add $target" >&2
    exit 1
fi
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    echo "test-windows: the mingw linker is missing: apt-get install gcc-mingw-w64-x86-64" >&2
    exit 1
fi

if ! wine="$(scripts/wine-runner.sh --find)"; then
    if [[ "${KNOT_REQUIRE_WINE:-0}" == 1 ]]; then
        echo "test-windows: Wine is required (KNOT_REQUIRE_WINE=1) but not found:" \
            "apt-get install wine64" >&2
        exit 1
    fi
    echo "test-windows: Wine not found (apt-get install wine64): building the tests only" >&2
    exec cargo test --workspace --target "$target" --no-run "$@"
fi
echo "test-windows: running under $("$wine" --version 2>/dev/null || echo "$wine")" >&2

# The runner's prefix (unless KNOT_WINEPREFIX names another), named here so that the Wine
# server the tests started can be stopped at the end instead of lingering.
target_dir="$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
export KNOT_WINEPREFIX="${KNOT_WINEPREFIX:-$target_dir/$target/wine-prefix}"
wineserver="$(dirname "$wine")/wineserver"
[[ -x "$wineserver" ]] || wineserver="$(command -v wineserver || true)"
stop_server() {
    [[ -n "$wineserver" && -d "$KNOT_WINEPREFIX" ]] && WINEPREFIX="$KNOT_WINEPREFIX" "$wineserver" -k 2>/dev/null
    return 0
}
trap stop_server EXIT

cargo test --workspace --target "$target" "$@"
