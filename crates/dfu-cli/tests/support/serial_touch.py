"""Runs `dfu detach --device PTY ...` on a pseudo-terminal and prints the baud rate the
port was left at, read with TCGETS2 (the ioctl that knows rates such as 14400 which have no
B-constant). Usage: serial_touch.py DFU_BINARY [dfu options...]"""
import fcntl
import os
import pty
import struct
import subprocess
import sys

TCGETS2 = 0x802C542A  # _IOR('T', 0x2A, struct termios2), 44 bytes, Linux x86_64/aarch64

master, slave = pty.openpty()
name = os.ttyname(slave)
run = subprocess.run([sys.argv[1], "--device", name, *sys.argv[2:], "detach"], capture_output=True, text=True)
raw = fcntl.ioctl(slave, TCGETS2, bytes(44))
ispeed, ospeed = struct.unpack_from("<II", raw, 36)
print(f"exit={run.returncode}")
print(f"ospeed={ospeed}")
print(run.stdout, end="")
print(run.stderr, end="", file=sys.stderr)
