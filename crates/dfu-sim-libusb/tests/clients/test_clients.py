"""Three DFU clients nobody here wrote, unmodified, against simulated devices.

dfu-libusb 0.6.2's examples (Rust: dfu-core over rusb), pydfuutil 0.11.3 and pyfwup 0.5.3
(Python, on pyusb) run with nothing but ``LD_PRELOAD`` of the libusb drop-in and
``DFU_SIM``, on stm32f405, photon, dapboot and tinyusb. Every device starts pre-filled with
an older image; what a client wrote or read is checked against the simulator through the
``dfu`` CLI (``dfu --sim ... read``), never against the client's own report.

Each known client bug is an expected failure (strict: the run fails when one starts
passing), with the client source line that causes it. ``scripts/clients-test`` sets the
environment: DFU_BIN, DFU_SIM_LIBUSB, DFU_LIBUSB_EXAMPLES and PROFILES_DIR.
"""

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

DFU = os.environ["DFU_BIN"]
DROPIN = os.environ["DFU_SIM_LIBUSB"]
EXAMPLES = Path(os.environ["DFU_LIBUSB_EXAMPLES"])
PROFILES = Path(os.environ["PROFILES_DIR"])
VENV_BIN = Path(sys.executable).parent
# A client still running after this long (of real time; simulated waits take none) hangs.
TIMEOUT_S = 5
NEW_LEN = 20 * 1024

# Where each device's image goes, how long the older pre-filled image is, and the part of
# that older image no client run erases (a sector past the new image): (offset, length).
DEVICES = {
    "stm32f405": dict(address=0x08000000, dfuse=True, old_len=0x14000, kept=(0x10000, 0x4000)),
    "photon": dict(address=0x080A0000, dfuse=True, old_len=0x24000, kept=(0x20000, 0x4000)),
    "dapboot": dict(address=0x08002000, dfuse=False, old_len=0xA000, kept=(0x5000, 0x5000)),
    "tinyusb": dict(address=0x0, dfuse=False, old_len=0xA000, kept=(0x5000, 0x5000)),
}

DFU_CORE_VERSION = (
    "dfu-core 0.11.0 src/lib.rs:131-152 (DfuProtocol::new): only bcdDFU 0x0110 and "
    "DfuSe 0x011a are known; TinyUSB reports 0x0101, so opening fails with "
    "'Unknown DFU protocol'"
)
DFU_CORE_MANIFEST = (
    "dfu-core 0.11.0 src/download.rs:283-288: after the zero-length DNLOAD of a "
    "manifestation-intolerant device it requires dfuMANIFEST; Particle's bootloader answers "
    "dfuDNLOAD-IDLE there (device-os usbd_dfu_core.c DFU_Req_GETSTATUS), so download() "
    "fails with 'invalid state' after the image is written"
)
PYDFUUTIL_ALTS = (
    "pydfuutil 0.11.3 pydfuutil/dfu_util.py:227,234: 'for uif in cfg' visits each "
    "alternate setting (pyusb yields one Interface per alt) and lists all alternate "
    "settings of the interface again, so N alts are listed N x N times"
)
PYDFUUTIL_DUPLICATES = (
    PYDFUUTIL_ALTS + "; the duplicates then trip __main__.py:650 'More than one DFU "
    "capable USB device found!' even with -a"
)
PYDFUUTIL_MANIFEST = (
    "pydfuutil 0.11.3 pydfuutil/dfu_load.py:186-193: polls GETSTATUS while the device "
    "reports dfuMANIFEST, whatever bitWillDetach says; dapboot resets itself there, and "
    "the failed request raises (exit 74) after the image is written, as dfu-util 0.11 "
    "does (tests/conformance/roundtrip.rs)"
)
PYFWUP_DFUSE = (
    "pyfwup 0.5.3 fwup/dfu.py:272-277: numbers blocks address // wTransferSize from 0, "
    "as plain DFU; on a DfuSe device block 0 carries commands, the device STALLs the "
    "first page (Pipe error) and nothing is written"
)
PYFWUP_TOLERANT = (
    "pyfwup 0.5.3 fwup/dfu.py:247-253: __complete_command waits for dfuDNLOAD-IDLE or "
    "dfuERROR; after the final zero-length DNLOAD a manifestation-tolerant device "
    "(TinyUSB, bmAttributes 0x07) returns to dfuIDLE, so it polls forever"
)

# What each bug looks like: text in the client's output (or in the check that failed).
SYMPTOMS = {
    DFU_CORE_VERSION: "Unknown DFU protocol",
    DFU_CORE_MANIFEST: "expected: DfuManifest",
    PYDFUUTIL_ALTS: "listed",
    PYDFUUTIL_DUPLICATES: "More than one DFU capable USB device found",
    PYDFUUTIL_MANIFEST: "Unable to read DFU status",
    PYFWUP_DFUSE: "Pipe error",
    PYFWUP_TOLERANT: "still running after",
}

# (operation, device) -> the client bug that makes it fail.
EXPECTED_FAILURES = {
    ("dfu-libusb describe", "tinyusb"): DFU_CORE_VERSION,
    ("dfu-libusb download", "tinyusb"): DFU_CORE_VERSION,
    ("dfu-libusb download", "photon"): DFU_CORE_MANIFEST,
    ("pydfuutil -l", "stm32f405"): PYDFUUTIL_ALTS,
    ("pydfuutil -l", "photon"): PYDFUUTIL_ALTS,
    ("pydfuutil -l", "tinyusb"): PYDFUUTIL_ALTS,
    ("pydfuutil -U", "stm32f405"): PYDFUUTIL_DUPLICATES,
    ("pydfuutil -U", "photon"): PYDFUUTIL_DUPLICATES,
    ("pydfuutil -U", "tinyusb"): PYDFUUTIL_DUPLICATES,
    ("pydfuutil -D", "stm32f405"): PYDFUUTIL_DUPLICATES,
    ("pydfuutil -D", "photon"): PYDFUUTIL_DUPLICATES,
    ("pydfuutil -D", "tinyusb"): PYDFUUTIL_DUPLICATES,
    ("pydfuutil -D", "dapboot"): PYDFUUTIL_MANIFEST,
    ("pyfwup program", "stm32f405"): PYFWUP_DFUSE,
    ("pyfwup program", "photon"): PYFWUP_DFUSE,
    ("pyfwup program", "tinyusb"): PYFWUP_TOLERANT,
}

OPERATIONS = [
    "dfu-libusb describe",
    "dfu-libusb download",
    "pydfuutil -l",
    "pydfuutil -U",
    "pydfuutil -D",
    "pyfwup -I",
    "pyfwup program",
]


def pattern(length, seed):
    return random.Random(seed).randbytes(length)


def profile(device):
    with open(PROFILES / f"{device}.toml", "rb") as f:
        return tomllib.load(f)


def ids(device):
    usb = profile(device)["usb"]
    return f"{usb['vendor_id']:04x}:{usb['product_id']:04x}"


class Lab:
    """One device in a state file, pre-filled with an older image."""

    def __init__(self, device, tmp):
        self.device, self.tmp = device, tmp
        self.info = DEVICES[device]
        self.state = tmp / "state.json"
        self.stats = tmp / "stats.json"
        self.old = pattern(self.info["old_len"], 1)
        self.new = pattern(NEW_LEN, 2)
        self.new_file = tmp / "new.bin"
        self.new_file.write_bytes(self.new)
        self.output = ""

    def spec(self, stats=False):
        s = f"{self.device},state={self.state}"
        return s + f",stats={self.stats}" if stats else s

    def prefill(self):
        old = self.tmp / "old.bin"
        old.write_bytes(self.old)
        addr = hex(self.info["address"])
        args = ["flash", "-s", addr, "--force", "--no-leave", str(old)]
        run = subprocess.run([DFU, "--sim", self.spec(), *args], capture_output=True, text=True)
        assert run.returncode == 0, f"pre-fill failed: {run.stderr}"

    def client(self, argv):
        """Runs a client with LD_PRELOAD and DFU_SIM only (plus PATH/HOME)."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tmp),
            "LD_PRELOAD": DROPIN,
            "DFU_SIM": self.spec(stats=True),
        }
        try:
            run = subprocess.run(
                argv, env=env, cwd=self.tmp, capture_output=True, text=True, timeout=TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            self.output = f"{argv[0]} still running after {TIMEOUT_S} s"
            raise AssertionError(self.output) from None
        self.output = run.stdout + run.stderr
        return run

    def read(self, offset, length):
        """Ground truth: `length` bytes at address + `offset`, read with `dfu`."""
        out = self.tmp / f"read-{offset:x}.bin"
        out.unlink(missing_ok=True)
        addr = hex(self.info["address"] + offset)
        args = ["read", "--address", addr, "--length", str(length), "-o", str(out)]
        run = subprocess.run([DFU, "--sim", self.spec(), *args], capture_output=True, text=True)
        assert run.returncode == 0, f"dfu read failed: {run.stderr}"
        return out.read_bytes()

    def host_wait_ms(self):
        return json.loads(self.stats.read_text())["host_wait_ms"]

    def assert_written(self, run):
        assert run.returncode == 0, f"exit {run.returncode}: {run.stdout[-800:]}{run.stderr[-800:]}"
        assert self.read(0, NEW_LEN) == self.new, "the new image does not read back"
        self.assert_kept()

    def assert_kept(self):
        off, length = self.info["kept"]
        assert self.read(off, length) == self.old[off : off + length], "data outside was lost"


def listing_lines(output, device):
    return [l for l in output.splitlines() if l.startswith(f"Found DFU: [{ids(device)}]")]


def run_operation(op, lab):
    d, info = lab.device, lab.info
    addr = hex(info["address"])
    if op == "dfu-libusb describe":
        run = lab.client([str(EXAMPLES / "describe"), "-d", ids(d)])
        assert run.returncode == 0, run.stderr[-800:]
        p = profile(d)["dfu"]
        a = p["attributes"]
        want = (
            f"FunctionalDescriptor {{ can_download: {str(bool(a & 1)).lower()}, "
            f"can_upload: {str(bool(a & 2)).lower()}, "
            f"manifestation_tolerant: {str(bool(a & 4)).lower()}, "
            f"will_detach: {str(bool(a & 8)).lower()}, "
            f"detach_timeout: {p['detach_timeout_ms']}, transfer_size: {p['transfer_size']}, "
            f"dfu_version: ({p['dfu_version'] >> 8}, {p['dfu_version'] & 0xff}) }}"
        )
        assert want in run.stdout, run.stdout
        lab.assert_kept()
    elif op == "dfu-libusb download":
        extra = ["-o", addr] if info["dfuse"] else []
        run = lab.client([str(EXAMPLES / "download"), "-d", ids(d), *extra, str(lab.new_file)])
        lab.assert_written(run)
        assert lab.host_wait_ms() > 0, "the client's sleeps were not virtual host wait"
    elif op == "pydfuutil -l":
        run = lab.client([str(VENV_BIN / "pydfuutil"), "-l"])
        assert run.returncode == 0, run.stderr[-800:]
        lines = listing_lines(run.stdout, d)
        for n, alt in enumerate(profile(d)["alts"]):
            mine = [l for l in lines if f'alt={n}, name="{alt["name"]}"' in l]
            assert len(mine) == 1, f"alt {n} listed {len(mine)} times:\n" + "\n".join(lines)
        assert len(lines) == len(profile(d)["alts"])
    elif op == "pydfuutil -U":
        up = lab.tmp / "up.bin"
        dfuse = ["-s", f"{addr}:{info['old_len']}"] if info["dfuse"] else []
        argv = [str(VENV_BIN / "pydfuutil"), "-d", ids(d), "-a", "0", *dfuse, "-U", str(up)]
        run = lab.client(argv)
        assert run.returncode == 0, run.stderr[-800:]
        got = up.read_bytes()[: info["old_len"]]
        assert got == lab.read(0, info["old_len"]) == lab.old
    elif op == "pydfuutil -D":
        dfuse = ["-s", addr] if info["dfuse"] else []
        argv = [str(VENV_BIN / "pydfuutil"), "-d", ids(d), "-a", "0", *dfuse, "-D", str(lab.new_file)]
        lab.assert_written(lab.client(argv))
        assert lab.host_wait_ms() > 0
    elif op == "pyfwup -I":
        run = lab.client([str(VENV_BIN / "fwup-util"), "-t", "dfu", "-d", ids(d), "-I"])
        assert run.returncode == 0, run.stderr[-800:]
        assert "Target found!" in run.stdout + run.stderr
        assert lab.read(0, info["old_len"]) == lab.old, "an info query changed the flash"
    elif op == "pyfwup program":
        argv = [str(VENV_BIN / "fwup-util"), "-t", "dfu", "-d", ids(d), str(lab.new_file)]
        lab.assert_written(lab.client(argv))
    else:
        raise AssertionError(f"unknown operation {op}")


def cases():
    for op in OPERATIONS:
        for device in DEVICES:
            reason = EXPECTED_FAILURES.get((op, device))
            marks = []
            if reason:
                marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)]
            yield pytest.param(op, device, marks=marks, id=f"{op.replace(' ', '_')}-{device}")


@pytest.fixture(scope="session")
def prefilled(tmp_path_factory):
    """One pre-filled state file per device, copied for each test."""
    states = {}
    for device in DEVICES:
        lab = Lab(device, tmp_path_factory.mktemp(device))
        lab.prefill()
        states[device] = lab.state
    return states


@pytest.mark.parametrize("op,device", list(cases()))
def test_client(op, device, tmp_path, prefilled):
    lab = Lab(device, tmp_path)
    shutil.copy(prefilled[device], lab.state)
    reason = EXPECTED_FAILURES.get((op, device))
    if reason is None:
        run_operation(op, lab)
        return
    try:
        run_operation(op, lab)
    except AssertionError as e:
        # The expected failure only counts if it is the known bug, not another one.
        symptom = SYMPTOMS[reason]
        if symptom not in lab.output + str(e):
            raise RuntimeError(f"failed, but not with {symptom!r}: {e}") from e
        raise


def dynamic_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return {line.split()[-1].split("@")[0] for line in out.stdout.splitlines() if line.strip()}


def test_the_dropin_is_libusb_by_name_and_exports_all_of_its_api():
    libdir = subprocess.run(
        ["pkg-config", "--variable=libdir", "libusb-1.0"], capture_output=True, text=True
    ).stdout.strip()
    system = Path(libdir) / "libusb-1.0.so.0"
    headers = subprocess.run(["objdump", "-p", DROPIN], capture_output=True, text=True).stdout
    assert re.search(r"SONAME\s+libusb-1\.0\.so\.0\n", headers), headers
    ours = dynamic_symbols(DROPIN)
    api = {n for n in dynamic_symbols(system) if n.startswith("libusb_")}
    assert len(api) > 80, api
    assert api - ours == set(), f"missing: {sorted(api - ours)}"
    assert {"nanosleep", "usleep", "clock_nanosleep", "clock_gettime"} <= ours


def test_every_expected_failure_names_a_case():
    known = {(op, d) for op in OPERATIONS for d in DEVICES}
    assert set(EXPECTED_FAILURES) <= known
    for reason in EXPECTED_FAILURES.values():
        assert re.search(r"\.(rs|py):\d+", reason), reason
        assert reason in SYMPTOMS, reason
