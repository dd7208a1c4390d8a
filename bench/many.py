"""bench/run --many: wall-clock makespan of one `dfu flash --all` over N simulated devices.

The simulator runs in real time, `time-scale` times faster (`--sim 'stm32f405*N,time-scale=S'`),
so concurrency is measured by the wall clock: each device's transfers, erases and the
host's waits take real (scaled) time, and N devices finish together only if they really are
flashed at the same time. Every device gets 1 MiB at 0x08000000 on blank flash (verify on,
leave on); each run must exit 0 (every device written and verified) with one "ok" row per
device in its table.

Rows: N = 1, 2, 4, 8, 16 devices, each on its own port (median of REPEAT runs, as a ratio to
one device); 16 again with --json (a JSON line per progress event: ~1,500 per device); 8 devices behind one hub (`hub=`), which share its full-speed bus time, against
the bus model's limit (the larger of one device's time and the sum of every device's bus
time, from stats=); one run of dfu-util 0.11 on one device through the libusb drop-in (it
flashes one device per run, so N devices take N runs one after another).
"""

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SCALE = float(os.environ.get("DFU_BENCH_SCALE", "8"))
REPEAT = int(os.environ.get("DFU_BENCH_REPEAT", "3"))
SIZES = (1, 2, 4, 8, 16)


def run_one(dfu, img, spec, extra=()):
    """One `dfu flash --all` as a user runs it (the table on standard output): (wall s, cpu
    s of the child, table rows). Exit 0 means every device was written and verified."""
    env = dict(os.environ, DFU_SIM=spec)
    env.pop("LD_PRELOAD", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([dfu, "flash", img, "--address", "0x08000000", "--all", *extra],
                       env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    n = int(spec.split(",")[0].split("*")[1])
    if extra:  # --json: the last line is the result, with one entry per device
        rows = [d for d in json.loads(p.stdout.strip().splitlines()[-1])["devices"]
                if d["result"] == "ok" and d["report"]["verified"]]
    else:
        rows = [r for r in p.stdout.strip().splitlines()[1:] if r.split()[2] == "ok"]
    if p.returncode != 0 or len(rows) != n:
        sys.exit("bench: %s failed (%d):\n%s%s" % (spec, p.returncode, p.stdout, p.stderr[-2000:]))
    return wall, cpu, rows


def measure(dfu, img, spec, extra=()):
    runs = [run_one(dfu, img, spec, extra) for _ in range(REPEAT)]
    walls = sorted(r[0] for r in runs)
    return statistics.median(walls), statistics.median(r[1] for r in runs), walls, runs[-1][2]


def stats_of(path):
    with open(path) as f:
        return json.load(f)


def main(dfu, shim, work):
    img = os.path.join(work, "many-1mib.bin")
    with open(img, "wb") as f:
        import random
        f.write(random.Random(1).randbytes(1024 * 1024))
    rows = []
    one_virtual = None
    for n in SIZES:
        stats = os.path.join(work, "n%d.json" % n)
        spec = "stm32f405*%d,time-scale=%g,stats=%s" % (n, SCALE, stats)
        wall, cpu, walls, devices = measure(dfu, img, spec)
        if n == 1:
            one_virtual = stats_of(os.path.join(work, "n1-1.json"))["virtual_time_ms"] / 1000
        rows.append((n, "own ports", wall, cpu, walls, len(devices)))
    spec = "stm32f405*16,time-scale=%g" % SCALE
    wall, cpu, walls, devices = measure(dfu, img, spec, ("--json",))
    rows.append((16, "own ports, `--json`", wall, cpu, walls, len(devices)))
    hub_stats = os.path.join(work, "hub.json")
    spec = "stm32f405*8,time-scale=%g,hub=line,stats=%s" % (SCALE, hub_stats)
    hub_wall, hub_cpu, hub_walls, _ = measure(dfu, img, spec)
    bus = sum(stats_of(os.path.join(work, "hub-%d.json" % k))["bus_ms"] for k in range(1, 9)) / 1000
    hub_limit = max(one_virtual, bus) / SCALE
    du = None
    if shim and os.path.exists(shim):
        env = dict(os.environ, DFU_SIM="stm32f405,time-scale=%g" % SCALE, LD_PRELOAD=shim)
        t0 = time.monotonic()
        p = subprocess.run(["dfu-util", "-a", "0", "-s", "0x08000000:leave", "-D", img],
                           env=env, capture_output=True, text=True)
        du = (time.monotonic() - t0, p.returncode)
    report(dfu, rows, (hub_wall, hub_cpu, hub_walls, bus, hub_limit), one_virtual, du)


def report(dfu, rows, hub, one_virtual, du):
    one = rows[0][2]
    print("# Many devices at once: wall-clock makespan, simulator in real time\n")
    print("- binary: %s; time-scale %g (one device: %.2f s of model time = %.2f s at scale); "
          "median of %d runs; %d cores, load average before: %s" % (
              dfu, SCALE, one_virtual, one_virtual / SCALE, REPEAT, os.cpu_count() or 0,
              " ".join("%.1f" % x for x in os.getloadavg())))
    print("\n| devices | topology | makespan s (median) | x one device | runs s | CPU s (user+sys) |")
    print("|---|---|---|---|---|---|")
    for n, topo, wall, cpu, walls, _ in rows:
        print("| %d | %s | %.2f | %.2f | %s | %.2f |" % (
            n, topo, wall, wall / one, " ".join("%.2f" % w for w in walls), cpu))
    hub_wall, hub_cpu, hub_walls, bus, limit = hub
    print("| 8 | one hub | %.2f | %.2f | %s | %.2f |" % (
        hub_wall, hub_wall / one, " ".join("%.2f" % w for w in hub_walls), hub_cpu))
    print("\nHub: the 8 devices' transfers need %.2f s of bus time (model), %.2f s at scale: "
          "limit %.2f s; measured %.2f s = %.2f x the limit." % (
              bus, bus / SCALE, limit, hub_wall, hub_wall / limit))
    if du:
        print("\ndfu-util 0.11 (libusb drop-in), one device, same scale: %.2f s (exit %d); "
              "N devices one after another: N x that (8: %.1f s, 16: %.1f s)." % (
                  du[0], du[1], 8 * du[0], 16 * du[0]))


def entry(root, args):
    debug = "--debug" in args
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    bindir = os.path.join(target, "debug" if debug else "release")
    if "--no-build" not in args:
        cmd = ["cargo", "build", "-q", "-p", "dfu-cli", "-p", "dfu-sim-libusb"]
        subprocess.run(cmd + ([] if debug else ["--release"]), cwd=root, check=True)
    work = tempfile.mkdtemp(prefix="dfu-bench-many-")
    try:
        main(os.path.join(bindir, "dfu"), os.path.join(bindir, "libdfu_sim_libusb.so"), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
