// Sim mode (?sim=PROFILE[,key=value...]): the simulator (dfu_web_sim.wasm) behind an
// object shaped like navigator.usb, so that the page's WebUSB code runs unchanged and only
// the device is simulated. Loaded only in sim mode.
//
// Beyond WebUSB, the object has `virtualClock` (the simulator's clock: the library takes
// its time and waits from it, as the command line does with --sim). `state=NAME` keeps the
// device's memory in this tab's session storage across page loads, as `state=PATH` keeps
// it in a file across runs of the command line. Connect with no device on the bus plugs
// the device in again (a new run).

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Loads the simulator with `spec`; returns { usb, memory, stats }. */
export async function createSimUsb(url, spec) {
  const { instance } = await WebAssembly.instantiateStreaming(fetch(url), {});
  const x = instance.exports;
  const bytes = (ptr, len) => new Uint8Array(x.memory.buffer, ptr, len);
  const input = (data) => { bytes(x.sim_input(data.length), data.length).set(data); return data.length; };
  const output = () => bytes(x.sim_output(), x.sim_output_len()).slice();
  const statePaths = spec.split(/[;,]/).map((kv) => kv.split('='))
    .filter(([k, v]) => k.trim() === 'state' && v).map(([, v]) => v.trim());
  for (const path of statePaths) {
    const kept = sessionStorage.getItem(`dfu-sim:${path}`);
    if (kept !== null) {
      const p = enc.encode(path), d = enc.encode(kept);
      const all = new Uint8Array(p.length + d.length);
      all.set(p, 0);
      all.set(d, p.length);
      input(all);
      x.sim_put_file(p.length, d.length);
    }
  }
  if (x.sim_open(input(enc.encode(spec))) !== 0) throw new Error(dec.decode(output()));
  const save = () => {
    if (x.sim_flush() !== 0) return;
    for (const path of statePaths) {
      if (x.sim_file(input(enc.encode(path))) === 0) {
        sessionStorage.setItem(`dfu-sim:${path}`, dec.decode(output()));
      }
    }
  };
  addEventListener('pagehide', save);
  const replug = () => {
    save();
    devices.clear();
    if (x.sim_open(input(enc.encode(spec))) !== 0) throw new Error(dec.decode(output()));
  };

  let waits = 0;
  const virtualClock = {
    virtual: true,
    now: () => x.sim_now(),
    async wait(nanos) {
      x.sim_advance(nanos);
      // Let the page draw now and then; the virtual clock does not move meanwhile.
      waits += 1;
      if (waits % 64 === 0) await new Promise((r) => setTimeout(r, 0));
    },
  };
  const gone = () => new DOMException('the simulated device left the bus', 'NotFoundError');
  const devices = new Map();

  class SimDevice {
    constructor(d) {
      this.id = d.id;
      this.slot = d.slot;
      this.vendorId = d.vendor_id;
      this.productId = d.product_id;
      this.deviceVersionMajor = d.bcd_device >> 8;
      this.deviceVersionMinor = (d.bcd_device >> 4) & 15;
      this.deviceVersionSubminor = d.bcd_device & 15;
      this.serialNumber = d.serial;
      this.productName = d.product;
      this.manufacturerName = null;
      this.opened = false;
      const interfaces = [];
      for (const a of d.interfaces) {
        let i = interfaces.find((y) => y.interfaceNumber === a.interface);
        if (!i) { i = { interfaceNumber: a.interface, claimed: false, alternates: [] }; interfaces.push(i); }
        i.alternates.push({
          alternateSetting: a.alternate, interfaceClass: a.class,
          interfaceSubclass: a.subclass, interfaceProtocol: a.protocol, interfaceName: null,
        });
      }
      this.configuration = { configurationValue: 1, interfaces };
    }
    attached() { return list().some((d) => d.id === this.id); }
    async open() { if (!this.attached()) throw gone(); this.opened = true; }
    async close() { this.opened = false; }
    async selectConfiguration() { if (!this.attached()) throw gone(); }
    async claimInterface(n) {
      const i = this.configuration.interfaces.find((y) => y.interfaceNumber === n);
      if (!i) throw new DOMException('no such interface', 'NotFoundError');
      i.claimed = true;
    }
    async releaseInterface(n) {
      const i = this.configuration.interfaces.find((y) => y.interfaceNumber === n);
      if (i) i.claimed = false;
    }
    async selectAlternateInterface(n, alt) { check(x.sim_set_interface(this.id, n, alt)); }
    async reset() { check(x.sim_reset(this.id)); }
    async controlTransferIn(setup, length, options) {
      const r = transfer(this.id, setup, 0x80, length, new Uint8Array(0), options);
      if (r < 0) return failed(r);
      const data = output();
      return { status: 'ok', data: new DataView(data.buffer, 0, data.length) };
    }
    async controlTransferOut(setup, data, options) {
      const d = new Uint8Array(data.buffer ? data.buffer : data, data.byteOffset || 0, data.byteLength);
      const r = transfer(this.id, setup, 0, d.length, d, options);
      if (r < 0) return failed(r);
      return { status: 'ok', bytesWritten: d.length };
    }
  }

  function check(code) {
    if (code === -2) throw gone();
    if (code === -1) throw new DOMException('the request was stalled', 'NetworkError');
    if (code < 0) throw new DOMException(`simulated USB error ${code}`, 'NetworkError');
  }
  function failed(code) {
    if (code === -1) return { status: 'stall' };
    if (code === -3) throw new DOMException('the device did not answer in time', 'TimeoutError');
    check(code);
    throw new DOMException('simulated transfer error', 'NetworkError');
  }
  function transfer(id, setup, dir, length, data, options) {
    const type = { standard: 0, class: 1, vendor: 2 }[setup.requestType] << 5;
    const recipient = { device: 0, interface: 1, endpoint: 2, other: 3 }[setup.recipient];
    input(data);
    const timeout = options && options.timeout ? options.timeout : 5000;
    return x.sim_control(id, dir | type | recipient, setup.request, setup.value, setup.index,
      length, data.length, timeout);
  }
  function list() {
    x.sim_devices();
    return JSON.parse(dec.decode(output()));
  }
  function current() {
    return list().map((d) => {
      if (!devices.has(d.id)) devices.set(d.id, new SimDevice(d));
      return devices.get(d.id);
    });
  }

  const usb = {
    virtualClock,
    async getDevices() { return current(); },
    async requestDevice(options) {
      const filters = (options && options.filters) || [];
      const match = (d) => filters.length === 0 || filters.some((f) =>
        (f.vendorId === undefined || f.vendorId === d.vendorId) &&
        (f.productId === undefined || f.productId === d.productId) &&
        (f.classCode === undefined || d.configuration.interfaces.some((i) => i.alternates.some((a) =>
          a.interfaceClass === f.classCode &&
          (f.subclassCode === undefined || a.interfaceSubclass === f.subclassCode)))));
      // With no device on the bus (it left DFU mode after a flash), choosing it again plugs
      // it in again: a new run, as a new command is on the command line, with the memory
      // that state= keeps.
      if (current().length === 0) replug();
      const found = current().find(match);
      if (!found) throw new DOMException('No device selected.', 'NotFoundError');
      return found;
    },
  };
  return {
    usb,
    memory(alt, address, length, slot = 0) {
      if (x.sim_memory(slot, alt, address, length) !== 0) throw new Error(dec.decode(output()));
      return output();
    },
    stats(slot = 0) { x.sim_stats(slot); return JSON.parse(dec.decode(output())); },
    save,
  };
}
