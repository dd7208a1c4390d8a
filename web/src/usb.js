// The library's module (dfu_web.wasm) and its imports: WebUSB calls and the clock, made
// synchronous for the library through JS Promise Integration (WebAssembly.Suspending for
// the imports, WebAssembly.promising for the operations).

const STALL = -1, GONE = -2, TIMEOUT = -3, ACCESS = -4, BUSY = -5, OTHER = -6;
const enc = new TextEncoder();

/** True when this browser can suspend WebAssembly on a promise (JSPI). */
export function hasJspi() {
  return typeof WebAssembly.Suspending === 'function' && typeof WebAssembly.promising === 'function';
}

/** The WebUSB setup packet of a USB bmRequestType. */
function setupOf(requestType, request, value, index) {
  const type = ['standard', 'class', 'vendor', 'standard'][(requestType >> 5) & 3];
  const recipient = ['device', 'interface', 'endpoint', 'other'][Math.min(requestType & 0x1f, 3)];
  return { requestType: type, recipient, request, value, index };
}

/** The library's code for a failed WebUSB call. */
function codeOf(e) {
  if (e && e.name === 'TimeoutError') return TIMEOUT;
  if (e && e.name === 'NotFoundError') return GONE;
  if (e && e.name === 'SecurityError') return ACCESS;
  if (e && e.name === 'NetworkError' && /claim/i.test(e.message)) return BUSY;
  return OTHER;
}

/** Settles with `promise`, or with a TimeoutError after `ms` on the page's clock. */
function withTimeout(promise, ms, clock) {
  if (!ms || clock.virtual) return promise;
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new DOMException('transfer timed out', 'TimeoutError')), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The real clock (nanoseconds); the simulator brings its own virtual one. */
const realClock = {
  virtual: false,
  now: () => performance.now() * 1e6,
  wait: (nanos) => new Promise((resolve) => setTimeout(resolve, nanos / 1e6)),
};

/** The devices the library may use, by number (the library's key for a device). */
function deviceTable() {
  const devices = new Map();
  const keys = new WeakMap();
  let nextKey = 1;
  const keyOf = (d) => {
    if (!keys.has(d)) { keys.set(d, nextKey); nextKey += 1; }
    devices.set(keys.get(d), d);
    return keys.get(d);
  };
  return {
    clear: () => devices.clear(),
    get(key) {
      const d = devices.get(key);
      if (!d) throw new DOMException('the device is gone', 'NotFoundError');
      return d;
    },
    /** A USBDevice as the library lists it. */
    listed(d) {
      const dfu = [];
      for (const i of (d.configuration ? d.configuration.interfaces : [])) {
        for (const a of i.alternates) {
          if (a.interfaceClass === 0xfe && a.interfaceSubclass === 0x01 &&
              !dfu.some(([n]) => n === i.interfaceNumber)) {
            dfu.push([i.interfaceNumber, a.interfaceProtocol]);
          }
        }
      }
      return {
        key: keyOf(d),
        vendor_id: d.vendorId,
        product_id: d.productId,
        bcd_device: (d.deviceVersionMajor << 8) | (d.deviceVersionMinor << 4) | d.deviceVersionSubminor,
        manufacturer: d.manufacturerName || null,
        product: d.productName || null,
        serial: d.serialNumber || null,
        dfu_interfaces: dfu,
      };
    },
  };
}

/** The USB imports: each settles with a length or 0, or a negative code (bytes wait in io). */
function usbImports(usb, table, io, clock) {
  const suspending = (f) => new WebAssembly.Suspending(async (...args) => {
    try { return await f(...args); } catch (e) { return io.fail(e); }
  });
  const transfer = (r, onData) => {
    if (r.status === 'stall') return STALL;
    if (r.status !== 'ok') return io.fail(new Error(`transfer status ${r.status}`));
    return onData();
  };
  return {
    usb_list: suspending(async () => {
      const list = await usb.getDevices();
      table.clear();
      return io.hold(enc.encode(JSON.stringify(list.map(table.listed))));
    }),
    usb_open: suspending(async (key, iface) => {
      const d = table.get(key);
      if (!d.opened) await d.open();
      if (d.configuration === null) await d.selectConfiguration(1);
      const i = d.configuration.interfaces.find((x) => x.interfaceNumber === iface);
      if (!i || !i.claimed) await d.claimInterface(iface);
      return 0;
    }),
    usb_control_in: suspending(async (key, rt, req, value, index, length, timeoutMs) => {
      const r = await withTimeout(table.get(key).controlTransferIn(
        setupOf(rt, req, value, index), length, { timeout: timeoutMs }), timeoutMs, clock);
      return transfer(r, () => io.hold(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength).slice()));
    }),
    usb_control_out: suspending(async (key, rt, req, value, index, ptr, len, timeoutMs) => {
      // Copied before the first await: the library's memory may move while it waits.
      const data = io.bytes(ptr, len).slice();
      const r = await withTimeout(table.get(key).controlTransferOut(
        setupOf(rt, req, value, index), data, { timeout: timeoutMs }), timeoutMs, clock);
      return transfer(r, () => 0);
    }),
    usb_set_alt: suspending(async (key, iface, alt) => { await table.get(key).selectAlternateInterface(iface, alt); return 0; }),
    usb_reset: suspending(async (key) => { await table.get(key).reset(); return 0; }),
  };
}

/**
 * Loads the library over `usb` (navigator.usb, or the simulator's object of the same
 * shape). `sink(kind, bytes)` receives what the library emits: 1 events, 2 results,
 * 3 data read, 4 a refusal's finding, 5 the plan. Returns the operations, each a promise of its code.
 */
export async function loadLibrary(url, usb, sink) {
  const clock = usb.virtualClock || realClock;
  let pending = new Uint8Array(0);
  let memory = null;
  const io = {
    bytes: (ptr, len) => new Uint8Array(memory.buffer, ptr, len),
    hold: (bytes) => { pending = bytes; return bytes.length; },
    fail: (e) => { pending = enc.encode(String((e && e.message) || e)); return codeOf(e); },
  };
  const imports = {
    dfu: {
      ...usbImports(usb, deviceTable(), io, clock),
      usb_simulated: () => (clock.virtual ? 1 : 0),
      clock_wait: new WebAssembly.Suspending(async (nanos) => { await clock.wait(nanos); }),
      clock_now: () => clock.now(),
      pending_len: () => pending.length,
      take: (ptr) => { io.bytes(ptr, pending.length).set(pending); },
      emit: (kind, ptr, len) => { sink(kind, io.bytes(ptr, len).slice()); },
    },
  };
  const { instance } = await WebAssembly.instantiateStreaming(fetch(url), imports);
  const x = instance.exports;
  memory = x.memory;
  const input = (bytes) => { io.bytes(x.dfu_input(bytes.length), bytes.length).set(bytes); return bytes.length; };
  const json = (v) => input(enc.encode(JSON.stringify(v)));
  const op = (name) => WebAssembly.promising(x[name]);
  const describe = op('dfu_describe'), prepare = op('dfu_prepare');
  const execute = op('dfu_execute'), read = op('dfu_read');
  return {
    setFiles(files) {
      x.dfu_clear_files();
      for (const f of files) {
        const name = enc.encode(f.name);
        const all = new Uint8Array(name.length + f.bytes.length);
        all.set(name, 0);
        all.set(f.bytes, name.length);
        input(all);
        x.dfu_add_file(name.length, f.bytes.length);
      }
    },
    describe: (request) => describe(json(request)),
    prepare: (request) => prepare(json(request)),
    execute: () => execute(),
    read: (request) => read(json(request)),
  };
}
