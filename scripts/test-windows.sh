#!/usr/bin/env bash
# Builds the whole workspace for Windows (x86_64-pc-windows-gnu, with mingw) and runs its
# tests under Wine:
#
#   scripts/test-windows.sh [CARGO TEST ARGS...]
#
# .cargo/config.toml makes scripts/wine-runner.sh cargo's runner for that target; the
# runner sets up a throwaway Wine prefix and the ProcessPrng DLL Wine 8 lacks, and starts
# a test binary again if Wine dies before it prints anything. This script sets the prefix
# up first and keeps one persistent Wine server running for it until the tests end, so no
# test binary starts while the server is exiting. Tests that need what Wine lacks
# (reparse points: junctions and symlinks) find that out by trying, and check that the
# failure is clean; everything else runs for real.
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

# The runner's prefix (unless KNOT_WINEPREFIX names another), passed to it absolute in
# KNOT_WINEPREFIX: Wine refuses a relative one, and cargo starts each test binary in its
# package's directory. The Wine server below is started for the same value.
target_dir="$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
prefix="${KNOT_WINEPREFIX:-$target_dir/$target/wine-prefix}"
mkdir -p "$prefix"
KNOT_WINEPREFIX="$(cd "$prefix" && pwd)"
export KNOT_WINEPREFIX

# One Wine server for the whole run. A server that Wine starts on demand exits when its
# last client does (Debian's wineserver wrapper passes -p0: at once), and a test binary
# that starts just then loses its connection and dies before main ("wine client error:0:
# recvmsg: Connection reset by peer"). A persistent server (-p) outlives every test
# binary; stop_server stops it at exit. The prefix is set up first (the runner's --setup),
# since setting it up waits for the server wineboot started to exit.
wineserver="$(dirname "$wine")/wineserver"
[[ -x "$wineserver" ]] || wineserver="$(command -v wineserver || true)"
stop_server() {
    [[ -n "$wineserver" ]] && WINEPREFIX="$KNOT_WINEPREFIX" "$wineserver" -k 2>/dev/null
    return 0
}
trap stop_server EXIT

scripts/wine-runner.sh --setup
if [[ -n "$wineserver" ]]; then
    # The server keeps the descriptors it was started with until it is stopped: its output
    # goes to a log, not to a pipe that someone may be reading to its end.
    server_log="$KNOT_WINEPREFIX.server.log"
    start_server() {
        WINEPREFIX="$KNOT_WINEPREFIX" "$wineserver" -p </dev/null >"$server_log" 2>&1
    }
    status=0
    start_server || status=$?
    # Exit code 2: a server already runs for the prefix (left by a run that was killed, or
    # started on demand); it may not be persistent, so it is replaced.
    if [[ "$status" -eq 2 ]]; then
        echo "test-windows: stopping the Wine server left running for $KNOT_WINEPREFIX" >&2
        stop_server
        status=0
        start_server || status=$?
    fi
    if [[ "$status" -ne 0 ]]; then
        echo "test-windows: starting a persistent Wine server failed (exit $status):" >&2
        cat "$server_log" >&2
        exit 1
    fi
else
    echo "test-windows: no wineserver beside $wine or on PATH: each test binary starts" \
        "its own Wine server, and may lose it as it starts" >&2
fi

cargo test --workspace --target "$target" "$@"
