# Helpers for the guest scenarios (busybox ash). Sourced by /init.

SIM=/tmp/sim
mkdir -p "$SIM"

# serve PORT SPEC: starts a USB/IP server for SPEC on 127.0.0.1:PORT in the background;
# its pid goes to $SIM/server-PORT.pid, its exit status (when it ends) to .rc.
serve() {
    rm -f "$SIM/server-$1.rc" "$SIM/server-$1.pid"
    (
        dfu sim serve --usbip --listen "127.0.0.1:$1" "$2" >>"$SIM/server-$1.log" 2>&1 &
        echo $! > "$SIM/server-$1.pid"
        wait $!
        echo $? > "$SIM/server-$1.rc"
    ) &
    while [ ! -s "$SIM/server-$1.pid" ]; do usleep 10000; done
}

# stop_server PORT: SIGTERM, then waits (at most 10 s) for the server to exit; returns
# its exit status.
stop_server() {
    kill -TERM "$(cat "$SIM/server-$1.pid")" 2>/dev/null || { echo "server $1 not running"; return 1; }
    i=0
    while [ ! -e "$SIM/server-$1.rc" ]; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "server on port $1 ignored SIGTERM for 10 s"
            kill -KILL "$(cat "$SIM/server-$1.pid")"
            return 1
        fi
        usleep 100000
    done
    echo "server on port $1 exited with status $(cat "$SIM/server-$1.rc")"
    return "$(cat "$SIM/server-$1.rc")"
}

# autoattach PORT: what hotplug is to a real machine. Every 100 ms, imports every device
# the server on PORT offers (it offers those nobody has imported: new ones, and ones
# that came back after re-enumerating). One loop serves every port: two `usbip attach`
# running at once can pick the same vhci port, and usbip 2.0 then retries that port forever.
autoattach() {
    echo "$1" >> "$SIM/attach-ports"
    [ -e "$SIM/attach-loop" ] && return 0
    touch "$SIM/attach-loop"
    (
        while [ ! -e "$SIM/stop-attach" ]; do
            for port in $(cat "$SIM/attach-ports"); do
                for b in $(usbip --tcp-port "$port" list -r 127.0.0.1 2>/dev/null |
                    sed -n 's/^ *\([0-9][0-9]*-[0-9.][0-9.]*\): .*/\1/p'); do
                    usbip --tcp-port "$port" attach -r 127.0.0.1 -b "$b" >/dev/null 2>&1
                done
            done
            usleep 100000
        done
    ) &
}

# sysfs_dev SERIAL [VID:PID]: prints the sysfs name (e.g. 1-1) of the configured device
# with that serial (and ids); fails when there is none.
sysfs_dev() {
    for d in /sys/bus/usb/devices/[0-9]*-*; do
        case "$d" in *:*) continue ;; esac
        [ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] || continue
        if [ -n "${2:-}" ]; then
            [ "$(cat "$d/idVendor"):$(cat "$d/idProduct")" = "$2" ] || continue
        fi
        [ "$(cat "$d/bConfigurationValue" 2>/dev/null)" = 1 ] || continue
        [ -e "/dev/bus/usb/$(printf %03d "$(cat "$d/busnum")")/$(printf %03d "$(cat "$d/devnum")")" ] || continue
        echo "${d##*/}"
        return 0
    done
    return 1
}

# wait_dev SERIAL [VID:PID] [SECONDS]: waits for the device to be attached and configured.
wait_dev() {
    n=$(( ${3:-15} * 10 ))
    while ! sysfs_dev "$1" "${2:-}" >/dev/null; do
        n=$((n - 1))
        [ $n -le 0 ] && { echo "device $1 ${2:-} did not appear"; list_usb; return 1; }
        usleep 100000
    done
}

# wait_gone SERIAL [VID:PID] [SECONDS]: waits for the device to leave.
wait_gone() {
    n=$(( ${3:-15} * 10 ))
    while sysfs_dev "$1" "${2:-}" >/dev/null; do
        n=$((n - 1))
        [ $n -le 0 ] && { echo "device $1 ${2:-} is still there"; return 1; }
        usleep 100000
    done
}

list_usb() {
    echo "USB devices now:"
    for d in /sys/bus/usb/devices/[0-9]*-*; do
        case "$d" in *:*) continue ;; esac
        echo "  ${d##*/} $(cat "$d/idVendor" 2>/dev/null):$(cat "$d/idProduct" 2>/dev/null) serial=$(cat "$d/serial" 2>/dev/null)"
    done
}

# run CMD...: prints the command and its output; returns its exit status.
run() {
    echo "\$ $*"
    "$@" 2>&1
    rc=$?
    echo "[exit $rc]"
    return $rc
}

# run_rc RC CMD...: runs CMD and fails unless it exits with RC. Output in $SIM/out.
run_rc() {
    want=$1
    shift
    echo "\$ $*"
    "$@" >"$SIM/out" 2>&1
    rc=$?
    cat "$SIM/out"
    echo "[exit $rc]"
    [ "$rc" = "$want" ] || { echo "expected exit $want"; return 1; }
}

# has TEXT: the last run_rc output contains TEXT (case-insensitive).
has() {
    grep -qi -- "$1" "$SIM/out" || { echo "missing in output: $1"; return 1; }
}

# firmware FILE BYTES FLASH_ADDR: a random image whose vector table points into FLASH_ADDR
# (stack in RAM, reset handler inside the image), so dfu's checks accept it.
firmware() {
    reset=$(( $3 + 0x191 ))
    b() { printf "\\$(printf %o $(( ($1 >> $2) & 255 )))"; }
    {
        printf '\000\000\002\040'
        b $reset 0; b $reset 8; b $reset 16; b $reset 24
        head -c $(( $2 - 8 )) /dev/urandom
    } > "$1"
}

PASSED=0
FAILED=0

# case NAME FUNCTION: runs one scenario in a subshell; prints VMTEST PASS/FAIL.
case_() {
    if [ -s /vm/only ] && ! tr ',' '\n' < /vm/only | grep -qx "$1"; then
        return 0
    fi
    start=$(cut -d' ' -f1 /proc/uptime)
    ( set +e; "$2" ) >"$SIM/case.log" 2>&1
    rc=$?
    took=$(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }')
    if [ $rc = 0 ]; then
        PASSED=$((PASSED + 1))
        echo "VMTEST PASS $1 (${took} s)"
        if [ -e /vm/show ]; then
            sed 's/^/    /' "$SIM/case.log"
        fi
    else
        FAILED=$((FAILED + 1))
        echo "VMTEST FAIL $1 (${took} s)"
        sed 's/^/    /' "$SIM/case.log"
        echo "VMTEST END $1"
    fi
}

# plan NAME...: announces how many scenarios will run (the host counts missing ones as
# failed when the guest dies early).
plan() {
    n=0
    for c in "$@"; do
        if [ -s /vm/only ] && ! tr ',' '\n' < /vm/only | grep -qx "$c"; then continue; fi
        n=$((n + 1))
    done
    echo "VMTEST PLAN $n"
}
