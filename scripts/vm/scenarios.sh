# The scenarios run inside the guest. Every device is a simulated one served over USB/IP
# on loopback; from `dfu`'s and dfu-util's point of view they are USB devices of the
# guest's kernel (vhci_hcd), opened through /dev/bus/usb with the real backends.
#
# Main server (port 3240): a stm32f405 ROM, a Photon in DFU mode, dapboot, and a Photon in
# run-time mode. Fault server (port 3241): a stm32f405 that drops off the bus at its
# 20th DNLOAD; restarted without the fault to show the next run recovers. Timeout server
# (port 3242): a stm32f405 that never answers one UPLOAD. Klipper server (port 3243): a
# stm32f446 flashed with Klipper's own dfu-util command line through a `dfu-util` link.
# Line server (port 3244): three more stm32f405s, flashed at once with `--all`.

F405=0483:df11 PHOTON=2b04:d006 PHOTON_RT=2b04:c006 DAPBOOT=1209:db42

MAIN_SPEC="stm32f405,serial=F405A,state=$SIM/f405.json,stats=$SIM/f405-stats.json"
MAIN_SPEC="$MAIN_SPEC;photon,serial=PH1,state=$SIM/photon.json"
MAIN_SPEC="$MAIN_SPEC;dapboot,serial=DAP1,state=$SIM/dapboot.json"
MAIN_SPEC="$MAIN_SPEC;photon,mode=runtime,serial=PHRT,state=$SIM/photon-rt.json"
FAULT_STATE="stm32f405,serial=F405F,state=$SIM/f405f.json"

sc_list() {
    for d in F405A:$F405 PH1:$PHOTON DAP1:$DAPBOOT PHRT:$PHOTON_RT; do
        wait_dev "${d%%:*}" "${d#*:}" || return 1
    done
    run_rc 0 dfu list || return 1
    has 'serial "F405A"' && has 'serial "PH1"' && has 'serial "DAP1"' && has 'serial "PHRT"' || return 1
    has "@Internal Flash  /0x08000000/04\*016Kg" || return 1
    has "run-time mode" || return 1
    run_rc 0 dfu list --json || return 1
    has '"serial"' || return 1
    # The paths dfu prints are the kernel's (vhci ports), not the simulator's.
    path=$(sysfs_dev F405A) || return 1
    run_rc 0 dfu --path "$path" info || return 1
    has "F405A" || return 1
}

sc_stm32_flash_read() {
    wait_dev F405A "$F405" || return 1
    firmware f405.bin 196608 0x08000000
    run_rc 0 dfu --serial F405A flash f405.bin --address 0x08000000 --no-leave || return 1
    has "verified" || return 1
    run_rc 0 dfu --serial F405A read --address 0x08000000 --length 196608 -o f405-back.bin || return 1
    run cmp f405.bin f405-back.bin || return 1
    # Unchanged sectors are skipped the second time: nothing erased, nothing written.
    run_rc 0 dfu --serial F405A flash f405.bin --address 0x08000000 --no-leave || return 1
    has ": 0 bytes written, 0 sector(s) erased" && has "skipped as unchanged" || return 1
}

sc_many_all() {
    # Three more STM32F405s on their own server: `--all` flashes every 0483:df11 device at
    # once (these three and F405A), each through the kernel's USB stack in its own thread.
    serve 3244 "stm32f405*3,serial=LINE,state=$SIM/line.json"
    autoattach 3244
    for k in 1 2 3; do wait_dev "LINE-$k" "$F405" || return 1; done
    wait_dev F405A "$F405" || return 1
    firmware line.bin 65536 0x08000000
    run_rc 0 dfu --device "$F405" flash line.bin --address 0x08000000 --no-leave --all || return 1
    for k in 1 2 3; do has "^LINE-$k ([0-9.-]*)  *ok " || return 1; done
    has "^F405A ([0-9.-]*)  *ok " || return 1
    for k in 1 2 3; do
        run_rc 0 dfu --serial "LINE-$k" read --address 0x08000000 --length 65536 -o "line-$k.bin" || return 1
        run cmp line.bin "line-$k.bin" || return 1
    done
    run stop_server 3244 || return 1
}

sc_photon_flash_read() {
    wait_dev PH1 "$PHOTON" || return 1
    firmware photon.bin 65536 0x080A0000
    run_rc 0 dfu --serial PH1 flash photon.bin --address 0x080A0000 || return 1
    has "verified" || return 1
    # Leaving DFU mode: the Photon resets into its application (run-time mode); over
    # USB/IP that is an unplug and a new device.
    wait_dev PH1 "$PHOTON_RT" || return 1
    run_rc 0 dfu --serial PH1 detach || return 1
    wait_dev PH1 "$PHOTON" || return 1
    run_rc 0 dfu --serial PH1 read --address 0x080A0000 --length 65536 -o photon-back.bin || return 1
    run cmp photon.bin photon-back.bin || return 1
}

sc_dapboot_flash_read() {
    wait_dev DAP1 "$DAPBOOT" || return 1
    firmware dap.bin 32768 0x08002000
    run_rc 0 dfu --serial DAP1 flash dap.bin --address 0x08002000 --no-leave || return 1
    run_rc 0 dfu --serial DAP1 read --address 0x08002000 --length 32768 -o dap-back.bin || return 1
    run cmp dap.bin dap-back.bin || return 1
}

sc_runtime_detach_flash() {
    wait_dev PHRT "$PHOTON_RT" || return 1
    run_rc 0 dfu --serial PHRT detach || return 1
    wait_dev PHRT "$PHOTON" || return 1
    run_rc 0 dfu list || return 1
    has 'serial "PHRT"' || return 1
    firmware rt.bin 32768 0x080A0000
    run_rc 0 dfu --serial PHRT flash rt.bin --address 0x080A0000 --no-leave || return 1
    run_rc 0 dfu --serial PHRT read --address 0x080A0000 --length 32768 -o rt-back.bin || return 1
    run cmp rt.bin rt-back.bin || return 1
}

sc_dfu_util() {
    wait_dev F405A "$F405" || return 1
    wait_dev PH1 "$PHOTON" || return 1
    run_rc 0 dfu-util -l || return 1
    has 'serial="F405A"' && has 'serial="PH1"' && has 'serial="DAP1"' || return 1
    firmware du.bin 65536 0x08000000
    rm -f du-up.bin
    run_rc 0 dfu-util -d "$F405" -S F405A -a 0 -s 0x08000000 -D du.bin || return 1
    run_rc 0 dfu-util -d "$F405" -S F405A -a 0 -s 0x08000000:65536 -U du-up.bin || return 1
    run cmp du.bin du-up.bin || return 1
    firmware dup.bin 16384 0x080A0000
    rm -f dup-up.bin
    run_rc 0 dfu-util -d "$PHOTON" -S PH1 -a 0 -s 0x080A0000 -D dup.bin || return 1
    run_rc 0 dfu-util -d "$PHOTON" -S PH1 -a 0 -s 0x080A0000:16384 -U dup-up.bin || return 1
    run cmp dup.bin dup-up.bin || return 1
    # What dfu-util wrote, dfu reads back, and the other way round.
    run_rc 0 dfu --serial F405A read --address 0x08000000 --length 65536 -o du-dfu.bin || return 1
    run cmp du.bin du-dfu.bin || return 1
    firmware dw.bin 16384 0x08010000
    rm -f dw-up.bin
    run_rc 0 dfu --serial F405A flash dw.bin --address 0x08010000 --no-leave || return 1
    run_rc 0 dfu-util -d "$F405" -S F405A -a 0 -s 0x08010000:16384 -U dw-up.bin || return 1
    run cmp dw.bin dw-up.bin || return 1
    rm -f dap-up.bin
    run_rc 0 dfu-util -d "$DAPBOOT" -S DAP1 -a 0 -U dap-up.bin || return 1
    if [ -e dap.bin ]; then
        run cmp -n 32768 dap.bin dap-up.bin || return 1
    fi
}

sc_non_root() {
    wait_dev F405A "$F405" || return 1
    path=$(sysfs_dev F405A) || return 1
    d=/sys/bus/usb/devices/$path
    node=/dev/bus/usb/$(printf %03d "$(cat $d/busnum)")/$(printf %03d "$(cat $d/devnum)")
    run ls -l "$node"
    as_user() { su user -c "$*"; }
    run_rc 6 as_user dfu --serial F405A read --address 0x08000000 --length 1024 -o /tmp/user.bin || return 1
    has "permission" || return 1
    has "help:" || return 1
    has "doctor\|udev" || return 1
    run_rc 0 as_user dfu doctor || true
    has "$node" || has "/dev/bus/usb" || return 1
    has 'SUBSYSTEM=="usb"' || return 1
    has "0483" || return 1
}

# A headless machine (no desktop session, as a Raspberry Pi running Klipper): the user
# cannot open the device; `dfu doctor --fix` run by root installs the plugdev rule and
# reloads udev; then the user flashes and reads back. The rule is removed at the end.
sc_doctor_fix() {
    wait_dev F405A "$F405" || return 1
    path=$(sysfs_dev F405A) || return 1
    d=/sys/bus/usb/devices/$path
    node=/dev/bus/usb/$(printf %03d "$(cat $d/busnum)")/$(printf %03d "$(cat $d/devnum)")
    as_user() { su user -c "$*"; }
    /lib/systemd/systemd-udevd --daemon >"$SIM/udevd.log" 2>&1 || { echo "udevd did not start"; return 1; }
    run ls -l "$node"
    firmware fix.bin 65536 0x08000000
    run_rc 6 as_user dfu --serial F405A flash /tmp/fix.bin --address 0x08000000 --no-leave || return 1
    has "permission" || return 1
    run_rc 5 dfu doctor --fix </dev/null || return 1
    has "not a terminal" || return 1
    [ ! -e /etc/udev/rules.d/70-dfu.rules ] || { echo "written without --yes"; return 1; }
    run_rc 0 dfu doctor --fix --yes || return 1
    has 'wrote /etc/udev/rules.d/70-dfu.rules' || return 1
    has 'plugdev' || return 1
    has 'ran udevadm trigger' || return 1
    has 'To undo' || return 1
    run udevadm settle --timeout=10
    run ls -l "$node"
    run_rc 0 as_user dfu --serial F405A flash /tmp/fix.bin --address 0x08000000 --no-leave || return 1
    has "verified" || return 1
    run_rc 0 as_user dfu --serial F405A read --address 0x08000000 --length 65536 -o /tmp/fix-back.bin || return 1
    run cmp /tmp/fix.bin /tmp/fix-back.bin || return 1
    # A different rule file of the same name is never replaced.
    run_rc 5 dfu doctor --fix --yes --access uaccess || return 1
    has "left unchanged" || return 1
    rm -f /etc/udev/rules.d/70-dfu.rules
    udevadm control --reload && udevadm trigger --subsystem-match=usb && udevadm settle --timeout=10
    udevadm control --exit
}

sc_unplug_mid_flash() {
    serve 3241 "$FAULT_STATE,fault=disconnect@dnload:20"
    autoattach 3241
    wait_dev F405F "$F405" || return 1
    firmware big.bin 196608 0x08000000
    run_rc 6 dfu --serial F405F flash big.bin --address 0x08000000 --no-leave || return 1
    has "disconnect\|unplug\|gone\|no longer" || return 1
    has "help:" || return 1
    wait_gone F405F || return 1
    # Plug it in again (same flash contents, no fault this time): the next run recovers.
    run stop_server 3241 || return 1
    serve 3241 "$FAULT_STATE"
    wait_dev F405F "$F405" || return 1
    run_rc 0 dfu --serial F405F flash big.bin --address 0x08000000 --no-leave || return 1
    run_rc 0 dfu --serial F405F read --address 0x08000000 --length 196608 -o big-back.bin || return 1
    run cmp big.bin big-back.bin || return 1
}

sc_timeout_unlink() {
    # The device never answers its 2nd UPLOAD: the host's 5 s control timeout makes the
    # kernel unlink the transfer (USBIP_CMD_UNLINK); the server answers RET_UNLINK.
    serve 3242 "stm32f405,serial=F405T,fault=timeout@upload:2"
    autoattach 3242
    wait_dev F405T "$F405" || return 1
    run_rc 6 dfu --serial F405T read --address 0x08000000 --length 8192 -o t.bin || return 1
    has "time" || return 1
    # The device is still there and the next run works.
    run_rc 0 dfu --serial F405T read --address 0x08000000 --length 8192 -o t.bin || return 1
    run stop_server 3242 || return 1
}

sc_leave_unplugs() {
    wait_dev F405A "$F405" || return 1
    firmware app.bin 16384 0x08000000
    run_rc 0 dfu --serial F405A flash app.bin --address 0x08000000 || return 1
    has "left DFU mode\|starting the application" || return 1
    # The ROM bootloader jumps to the application, which has no USB: the device is gone.
    wait_gone F405A || return 1
}

sc_klipper_link() {
    # Klipper's `make flash` line, unchanged, through a link named dfu-util: the drop-in
    # verifies before leaving and exits 0 where dfu-util 0.11 exits 251 (-R after :leave).
    # The fault server's stm32f405 has the same ids: stop it (if it runs) so the line's
    # `-d ,0483:df11` finds one device, as on a printer with one board.
    stop_server 3241 >/dev/null 2>&1 || true
    wait_gone F405F || return 1
    serve 3243 "stm32f446,serial=KLIP,state=$SIM/klip.json"
    autoattach 3243
    wait_dev KLIP "$F405" || return 1
    mkdir -p links && ln -sf "$(command -v dfu)" links/dfu-util
    firmware klipper.bin 32768 0x08000000
    run_rc 0 env PATH="$PWD/links:$PATH" dfu-util -d ,0483:df11 -R -a 0 -s 0x8000000:leave -D klipper.bin || return 1
    has "verified" || return 1
    wait_gone KLIP || return 1
    run stop_server 3243 || return 1
    # What the board holds now, from the simulator's saved state.
    run_rc 0 dfu --sim "stm32f446,state=$SIM/klip.json" read --address 0x08000000 --length 32768 -o klip-back.bin || return 1
    run cmp klipper.bin klip-back.bin || return 1
}

sc_server_stop() {
    run stop_server 3240 || return 1
    run ls -l "$SIM" || return 1
    [ -s "$SIM/f405.json" ] && [ -s "$SIM/f405-stats.json" ] || { echo "state/stats not written"; return 1; }
    run cat "$SIM/f405-stats.json"
}

main() {
    plan list stm32-flash-read many-all photon-flash-read dapboot-flash-read runtime-detach-flash \
        dfu-util non-root doctor-fix unplug-mid-flash timeout-unlink leave-unplugs klipper-link server-stop
    serve 3240 "$MAIN_SPEC"
    autoattach 3240
    case_ list sc_list
    case_ stm32-flash-read sc_stm32_flash_read
    case_ many-all sc_many_all
    case_ photon-flash-read sc_photon_flash_read
    case_ dapboot-flash-read sc_dapboot_flash_read
    case_ runtime-detach-flash sc_runtime_detach_flash
    case_ dfu-util sc_dfu_util
    case_ non-root sc_non_root
    case_ doctor-fix sc_doctor_fix
    case_ unplug-mid-flash sc_unplug_mid_flash
    case_ timeout-unlink sc_timeout_unlink
    case_ leave-unplugs sc_leave_unplugs
    case_ klipper-link sc_klipper_link
    case_ server-stop sc_server_stop
    touch "$SIM/stop-attach"
    if [ "$FAILED" != 0 ]; then
        for f in "$SIM"/server-*.log; do
            echo "VMTEST NOTE ${f##*/}:"
            sed 's/^/    /' "$f" | tail -n 40
        done
    fi
}
