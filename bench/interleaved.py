#!/usr/bin/env python3
"""Times commands against each other, interleaved round by round, for the benches here.

    interleaved.py --title TITLE --runs N [--clear PATH | --fresh PATH] [--check] \\
        [--ratio 'A:B:TARGET' ...] NAME=COMMAND ...

Each command runs once untimed (a warm-up), then RUNS rounds each run every command once,
each round starting with another one (rotated), so that all of them meet the same load on
the machine. Before every run, PATH is removed (--clear) and everything written is synced
(`sync`): no run pays for the removal, a file system's commit or the writeback of the one
before it. With --fresh, each run writes to a path never used before instead (PATH in its
command becomes PATH.N), and all of them are removed once every run is done: on an ext4
without a journal, the kernel does not reuse an inode deleted within the last minute (or
six while its table block is dirty), and scans past each one, so a copy made right after
the removal of the one before it pays for that removal. Only the command is timed (wall
clock), its output sent to /dev/null. With
--check, a command that fails stops the bench. Prints each command's mean, standard
deviation, fastest and slowest run, then for each --ratio A:B:TARGET the ratio of A's to
B's means and fastest runs, and whether it is at most TARGET.
"""

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--title", required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--clear", help="a path removed before each run")
    parser.add_argument("--fresh", help="a path made anew by each run, removed at the end")
    parser.add_argument("--check", action="store_true", help="stop where a command fails")
    parser.add_argument("--ratio", action="append", default=[], metavar="A:B:TARGET")
    parser.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args()

    commands = dict(spec.split("=", 1) for spec in args.commands)
    times = {name: [] for name in commands}

    if args.clear and args.fresh:
        sys.exit("interleaved.py: --clear and --fresh do not go together")
    made = []

    def once(name):
        command = commands[name]
        if args.clear:
            shutil.rmtree(args.clear, ignore_errors=True)
        if args.fresh:
            path = f"{args.fresh}.{len(made)}"
            shutil.rmtree(path, ignore_errors=True)
            made.append(path)
            command = command.replace(args.fresh, path)
        os.sync()
        start = time.perf_counter()
        done = subprocess.run(shlex.split(command), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        elapsed = time.perf_counter() - start
        if args.check and done.returncode != 0:
            sys.exit(f"interleaved.py: '{command}' failed (exit {done.returncode})")
        return elapsed

    for name in commands:  # warm-up, untimed
        once(name)
    names = list(commands)
    for round in range(args.runs):
        shift = round % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(once(name))
    if args.clear:
        shutil.rmtree(args.clear, ignore_errors=True)
    for path in made:
        shutil.rmtree(path, ignore_errors=True)

    fresh = ", each into a fresh path" if args.fresh else ""
    print(f"{args.title} ({args.runs} rounds, interleaved, warm cache{fresh}):")
    width = max(len(name) for name in names)
    for name, t in times.items():
        sd = statistics.stdev(t) if len(t) > 1 else 0.0
        print(f"  {name:<{width}}  {statistics.mean(t) * 1000:9.1f} ms  ± {sd * 1000:7.1f} ms"
              f"  (fastest {min(t) * 1000:.1f} ms, slowest {max(t) * 1000:.1f} ms)")
    for spec in args.ratio:
        a, b, target = spec.split(":")
        ratio = statistics.mean(times[a]) / statistics.mean(times[b])
        fastest = min(times[a]) / min(times[b])
        verdict = "met" if ratio <= float(target) else "MISSED"
        print(f"  ratio {a} / {b}: {ratio:.2f}x of the means, {fastest:.2f}x of the fastest"
              f"  target <= {target}: {verdict}")


if __name__ == "__main__":
    main()
