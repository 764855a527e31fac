#!/usr/bin/env bash
# Runs a Windows program (a test binary, knot.exe) under Wine: cargo's runner for the
# x86_64-pc-windows-gnu target (.cargo/config.toml), used by scripts/test-windows.sh.
#
#   scripts/wine-runner.sh PROGRAM.exe [ARGS...]   run it; its exit code is ours
#   scripts/wine-runner.sh --find                  print the Wine loader, or fail
#
# What it takes care of:
# - Wine itself: $WINE, else /usr/lib/wine/wine64 (Debian's wine64), else wine64 or wine
#   on PATH. Without Wine the program is not run: a note says so and the exit code is 0,
#   unless KNOT_REQUIRE_WINE=1 (as in CI), which makes a missing Wine a failure.
# - A throwaway prefix: $KNOT_WINEPREFIX, else wine-prefix/ beside the target's build
#   directories (target/x86_64-pc-windows-gnu/wine-prefix), created on first use. The
#   user's own WINEPREFIX is never touched.
# - bcryptprimitives.dll: Rust's std imports ProcessPrng from it and Wine 8.0 has none,
#   so every Rust program fails to load. scripts/wine/bcryptprimitives.c is built with
#   mingw and put beside the program (and beside knot.exe, which tests start).
# - No display, no noise: DISPLAY is unset (console programs need none), WINEDEBUG=-all,
#   and Wine's Mono and Gecko installers are disabled.
# - A network drive to test with: N: maps to a directory inside the prefix and Wine is told
#   it is a network drive (HKLM\Software\Wine\Drives), so GetDriveTypeW says
#   DRIVE_REMOTE; KNOT_WINE_NETWORK_DRIVE=N: tells the tests.
# - KNOT_UNDER_WINE=1 is set for the program, so tests can name Wine in what they print.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

find_wine() {
    if [[ -n "${WINE:-}" ]]; then
        command -v "$WINE" && return 0
        return 1
    fi
    if [[ -x /usr/lib/wine/wine64 ]]; then
        echo /usr/lib/wine/wine64
        return 0
    fi
    command -v wine64 || command -v wine
}

if [[ "${1:-}" == "--find" ]]; then
    find_wine
    exit
fi

if [[ $# -lt 1 ]]; then
    echo "usage: $0 PROGRAM.exe [ARGS...]" >&2
    exit 2
fi
program="$1"
shift

if ! wine="$(find_wine)"; then
    if [[ "${KNOT_REQUIRE_WINE:-0}" == 1 ]]; then
        echo "wine-runner: Wine is required (KNOT_REQUIRE_WINE=1) but not found;" \
            "install it with: apt-get install wine64" >&2
        exit 1
    fi
    echo "wine-runner: skipped $(basename "$program"): Wine not found" \
        "(apt-get install wine64; KNOT_REQUIRE_WINE=1 makes this a failure)" >&2
    exit 0
fi

program_dir="$(cd "$(dirname "$program")" && pwd)"
# target/x86_64-pc-windows-gnu/{debug,release}/[deps/]PROGRAM.exe
build_dir="$program_dir"
[[ "$(basename "$build_dir")" == deps ]] && build_dir="$(dirname "$build_dir")"
triple_dir="$(dirname "$build_dir")"

# The ProcessPrng DLL, rebuilt when its source changes.
dll_src="$here/wine/bcryptprimitives.c"
dll="$triple_dir/wine-dll/bcryptprimitives.dll"
if [[ ! -f "$dll" || "$dll_src" -nt "$dll" || "$here/wine/bcryptprimitives.def" -nt "$dll" ]]; then
    mkdir -p "$(dirname "$dll")"
    x86_64-w64-mingw32-gcc -shared -O2 -o "$dll.tmp" "$dll_src" \
        "$here/wine/bcryptprimitives.def" -ladvapi32
    mv -f "$dll.tmp" "$dll"
fi
for dir in "$program_dir" "$build_dir"; do
    if [[ ! -f "$dir/bcryptprimitives.dll" || "$dll" -nt "$dir/bcryptprimitives.dll" ]]; then
        cp -f "$dll" "$dir/bcryptprimitives.dll"
    fi
done

export WINEPREFIX="${KNOT_WINEPREFIX:-$triple_dir/wine-prefix}"
export WINEDEBUG="${KNOT_WINEDEBUG:--all}"
export WINEDLLOVERRIDES="mscoree=;mshtml=;winemenubuilder.exe="
export KNOT_UNDER_WINE=1
unset DISPLAY WAYLAND_DISPLAY

# Set the prefix up once; a lock keeps two runners from doing it at the same time.
ready="$WINEPREFIX/.knot-ready"
if [[ ! -f "$ready" ]]; then
    mkdir -p "$WINEPREFIX"
    (
        flock 9
        [[ -f "$ready" ]] && exit 0
        log="$WINEPREFIX.log"
        wineserver="$(dirname "$wine")/wineserver"
        [[ -x "$wineserver" ]] || wineserver="$(command -v wineserver || true)"
        {
            "$wine" wineboot --init &&
                mkdir -p "$WINEPREFIX/knot-network-drive" &&
                ln -sfn ../knot-network-drive "$WINEPREFIX/dosdevices/n:" &&
                "$wine" reg add 'HKLM\Software\Wine\Drives' /v n: /t REG_SZ /d network /f &&
                { [[ -z "$wineserver" ]] || "$wineserver" -w; }
        } >"$log" 2>&1 || {
            echo "wine-runner: setting up the Wine prefix $WINEPREFIX failed:" >&2
            cat "$log" >&2
            exit 1
        }
        touch "$ready"
    ) 9>"$WINEPREFIX.lock"
fi
export KNOT_WINE_NETWORK_DRIVE=N:

exec "$wine" "$program" "$@"
