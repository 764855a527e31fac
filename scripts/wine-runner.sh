#!/usr/bin/env bash
# Runs a Windows program (a test binary, knot.exe) under Wine: cargo's runner for the
# x86_64-pc-windows-gnu target (.cargo/config.toml), used by scripts/test-windows.sh.
#
#   scripts/wine-runner.sh PROGRAM.exe [ARGS...]   run it; its exit code is ours
#   scripts/wine-runner.sh --find                  print the Wine loader, or fail
#   scripts/wine-runner.sh --setup                 set up $KNOT_WINEPREFIX; run nothing
#
# What it takes care of:
# - Wine itself: $WINE, else /usr/lib/wine/wine64 (Debian's wine64), else wine64 or wine
#   on PATH. Without Wine the program is not run: a note says so and the exit code is 0,
#   unless KNOT_REQUIRE_WINE=1 (as in CI), which makes a missing Wine a failure.
# - A throwaway prefix: $KNOT_WINEPREFIX, else wine-prefix/ beside the target's build
#   directories (target/x86_64-pc-windows-gnu/wine-prefix), set up on first use (or by
#   --setup, which scripts/test-windows.sh calls before it starts its Wine server). The
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
# - Starts that die: a test binary (cargo puts them in deps/) whose Wine dies before the
#   program runs, for instance when the Wine server it connected to is exiting ("wine
#   client error:0: recvmsg: Connection reset by peer"), is started again, up to 3 times
#   in all, with a note on stderr. libtest prints "running N tests" on stdout before it
#   runs any test, so a test binary that exits non-zero (other than libtest's own 101)
#   with nothing on stdout ran no test and is safe to start again. Its stdout goes through
#   tee to a temporary file to see that; stderr is untouched, and the exit code is the
#   program's. Every other program (knot.exe, which may fail with only a message on
#   stderr) runs once, as it is.
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

usage() {
    echo "usage: $0 PROGRAM.exe [ARGS...] | --find | --setup" >&2
    exit 2
}

case "${1:-}" in
    --find)
        find_wine
        exit
        ;;
    --setup)
        [[ $# -eq 1 ]] || usage
        if [[ -z "${KNOT_WINEPREFIX:-}" ]]; then
            echo "wine-runner: --setup sets up \$KNOT_WINEPREFIX, which is not set" >&2
            exit 2
        fi
        ;;
    "" | -*) usage ;;
esac

if ! wine="$(find_wine)"; then
    if [[ "${KNOT_REQUIRE_WINE:-0}" == 1 || "$1" == --setup ]]; then
        echo "wine-runner: Wine is required but not found;" \
            "install it with: apt-get install wine64" >&2
        exit 1
    fi
    echo "wine-runner: skipped $(basename "$1"): Wine not found" \
        "(apt-get install wine64; KNOT_REQUIRE_WINE=1 makes this a failure)" >&2
    exit 0
fi
wineserver="$(dirname "$wine")/wineserver"
[[ -x "$wineserver" ]] || wineserver="$(command -v wineserver || true)"

export WINEDEBUG="${KNOT_WINEDEBUG:--all}"
export WINEDLLOVERRIDES="mscoree=;mshtml=;winemenubuilder.exe="
unset DISPLAY WAYLAND_DISPLAY

# Sets the prefix $WINEPREFIX up once; a lock keeps two runners from doing it at the same
# time. It waits for the Wine server that wineboot started to exit, so the registry is on
# disk when the prefix is marked ready.
setup_prefix() {
    local ready="$WINEPREFIX/.knot-ready"
    [[ -f "$ready" ]] && return 0
    mkdir -p "$WINEPREFIX"
    (
        flock 9
        [[ -f "$ready" ]] && exit 0
        log="$WINEPREFIX.log"
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
}

if [[ "$1" == --setup ]]; then
    export WINEPREFIX="$KNOT_WINEPREFIX"
    setup_prefix
    exit 0
fi

program="$1"
shift
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
setup_prefix
export KNOT_UNDER_WINE=1
export KNOT_WINE_NETWORK_DRIVE=N:

if [[ "$(basename "$program_dir")" != deps ]]; then
    exec "$wine" "$program" "$@"
fi

name="$(basename "$program")"
tries=3
stdout_copy="$(mktemp "${TMPDIR:-/tmp}/knot-wine-runner.XXXXXX")"
trap 'rm -f -- "$stdout_copy"' EXIT
for ((try = 1; ; try++)); do
    set +e
    "$wine" "$program" "$@" | tee -- "$stdout_copy"
    statuses=("${PIPESTATUS[@]}")
    set -e
    status="${statuses[0]}" tee_status="${statuses[1]}"
    # Done if it succeeded, printed, failed in its own harness (libtest exits 101, for bad
    # arguments too), or was stopped from outside (SIGHUP, SIGINT, SIGKILL, SIGTERM). If
    # tee failed (our stdout was closed, or the copy could not be written), what the
    # program printed is unknown: it is not started again either.
    if [[ "$status" -eq 0 || "$tee_status" -ne 0 || -s "$stdout_copy" ]] ||
        [[ " 101 129 130 137 143 " == *" $status "* ]]; then
        break
    fi
    if [[ "$try" -ge "$tries" ]]; then
        echo "wine-runner: $name died before it printed anything (exit $status)," \
            "$tries times; giving up" >&2
        break
    fi
    echo "wine-runner: $name died before it printed anything (exit $status);" \
        "starting it again (try $((try + 1)) of $tries)" >&2
    sleep 1
done
# The program's exit code; tee's if only tee failed, as output was lost.
[[ "$status" -ne 0 ]] || status="$tee_status"
exit "$status"
