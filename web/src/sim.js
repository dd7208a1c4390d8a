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

/** The simulator module with `spec` loaded, and its memory-passing helpers. */
async function loadSim(url, spec) {
  const { instance } = await WebAssembly.instantiateStreaming(fetch(url), {});
  const x = instance.exports;
  const bytes = (ptr, len) => new Uint8Array(x.memory.buffer, ptr, len);
  const sim = {
    x,
    input: (data) => { bytes(x.sim_input(data.length), data.length).set(data); return data.length; },
    output: () => bytes(x.sim_output(), x.sim_output_len()).slice(),
    text: () => dec.decode(sim.output()),
    open() {
      if (x.sim_open(sim.input(enc.encode(spec))) !== 0) throw new Error(sim.text());
    },
  };
  const statePaths = spec.split(/[;,]/).map((kv) => kv.split('='))
    .filter(([k, v]) => k.trim() === 'state' && v).map(([, v]) => v.trim());
  for (const path of statePaths) {
    const kept = sessionStorage.getItem(`dfu-sim:${path}`);
    if (kept !== null) {
      const p = enc.encode(path), d = enc.encode(kept);
      const all = new Uint8Array(p.length + d.length);
      all.set(p, 0);
      all.set(d, p.length);
      sim.input(all);
      x.sim_put_file(p.length, d.length);
    }
  }
  sim.save = () => {
    if (x.sim_flush() !== 0) return;
    for (const path of statePaths) {
      if (x.sim_file(sim.input(enc.encode(path))) === 0) sessionStorage.setItem(`dfu-sim:${path}`, sim.text());
    }
  };
  sim.open();
  addEventListener('pagehide', sim.save);
  return sim;
}

const gone = () => new DOMException('the simulated device left the bus', 'NotFoundError');

/** The page's code for a failed transfer, as WebUSB reports it. */
function check(code) {
  if (code === -2) throw gone();
  if (code === -3) throw new DOMException('the device did not answer in time', 'TimeoutError');
  if (code < 0) throw new DOMException(`simulated USB error ${code}`, 'NetworkError');
}

/** A simulated device as a USBDevice. */
class SimDevice {
  constructor(sim, d) {
    Object.assign(this, {
      sim, id: d.id, vendorId: d.vendor_id, productId: d.product_id,
      deviceVersionMajor: d.bcd_device >> 8, deviceVersionMinor: (d.bcd_device >> 4) & 15,
      deviceVersionSubminor: d.bcd_device & 15, serialNumber: d.serial, productName: d.product,
      manufacturerName: null, opened: false,
    });
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
  attached() { return this.sim.list().some((d) => d.id === this.id); }
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
  async selectAlternateInterface(n, alt) { check(this.sim.x.sim_set_interface(this.id, n, alt)); }
  async reset() { check(this.sim.x.sim_reset(this.id)); }
  async controlTransferIn(setup, length, options) {
    const r = this.transfer(setup, 0x80, length, new Uint8Array(0), options);
    if (r === -1) return { status: 'stall' };
    check(r);
    const data = this.sim.output();
    return { status: 'ok', data: new DataView(data.buffer, 0, data.length) };
  }
  async controlTransferOut(setup, data, options) {
    const d = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    const r = this.transfer(setup, 0, d.length, d, options);
    if (r === -1) return { status: 'stall' };
    check(r);
    return { status: 'ok', bytesWritten: d.length };
  }
  transfer(setup, dir, length, data, options) {
    const type = { standard: 0, class: 1, vendor: 2 }[setup.requestType] << 5;
    const recipient = { device: 0, interface: 1, endpoint: 2, other: 3 }[setup.recipient];
    this.sim.input(data);
    const timeout = options && options.timeout ? options.timeout : 5000;
    return this.sim.x.sim_control(this.id, dir | type | recipient, setup.request, setup.value,
      setup.index, length, data.length, timeout);
  }
}

/** True when a USBDevice matches one of requestDevice's filters. */
function matches(filters, d) {
  return filters.length === 0 || filters.some((f) =>
    (f.vendorId === undefined || f.vendorId === d.vendorId) &&
    (f.productId === undefined || f.productId === d.productId) &&
    (f.classCode === undefined || d.configuration.interfaces.some((i) => i.alternates.some((a) =>
      a.interfaceClass === f.classCode &&
      (f.subclassCode === undefined || a.interfaceSubclass === f.subclassCode)))));
}

/** Loads the simulator with `spec`; returns { usb, memory, stats }. */
export async function createSimUsb(url, spec) {
  const sim = await loadSim(url, spec);
  const devices = new Map();
  sim.list = () => { sim.x.sim_devices(); return JSON.parse(sim.text()); };
  const current = () => sim.list().map((d) => {
    if (!devices.has(d.id)) devices.set(d.id, new SimDevice(sim, d));
    return devices.get(d.id);
  });
  let waits = 0;
  const virtualClock = {
    virtual: true,
    now: () => sim.x.sim_now(),
    async wait(nanos) {
      sim.x.sim_advance(nanos);
      // Let the page draw now and then; the virtual clock does not move meanwhile.
      waits += 1;
      if (waits % 64 === 0) await new Promise((r) => setTimeout(r, 0));
    },
  };
  const usb = {
    virtualClock,
    async getDevices() { return current(); },
    async requestDevice(options) {
      // With no device on the bus (it left DFU mode after a flash), choosing it again plugs
      // it in again: a new run, as a new command is on the command line, with the memory
      // that state= keeps.
      if (current().length === 0) { sim.save(); devices.clear(); sim.open(); }
      const found = current().find((d) => matches((options && options.filters) || [], d));
      if (!found) throw new DOMException('No device selected.', 'NotFoundError');
      return found;
    },
  };
  return {
    usb,
    memory(alt, address, length, slot = 0) {
      if (sim.x.sim_memory(slot, alt, address, length) !== 0) throw new Error(sim.text());
      return sim.output();
    },
    stats(slot = 0) { sim.x.sim_stats(slot); return JSON.parse(sim.text()); },
  };
}
