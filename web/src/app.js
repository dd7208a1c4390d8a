// The page: Connect, the device card, files, the plan, Flash, the result, Read. Every
// decision comes from the library (dfu_web.wasm); this file wires buttons to it.

import { hasJspi, loadLibrary } from './usb.js';
import { deviceCard, errorView, planView, resultView, stripView } from './view.js';

const $ = (id) => document.getElementById(id);
const dec = new TextDecoder();
const DFU_FILTER = { filters: [{ classCode: 0xfe, subclassCode: 0x01 }] };

let lib = null;
let usb = null;
let device = null; // the connected device's card JSON
let busy = false;
let last = { result: null, finding: null, data: null, plan: null };
let planned = null;

function sink(kind, bytes) {
  if (kind === 3) { last.data = bytes; return; }
  const v = JSON.parse(dec.decode(bytes));
  if (kind === 2) last.result = v;
  else if (kind === 4) last.finding = v;
  else if (kind === 5) last.plan = v.plan;
  else if (kind === 1) progress(v);
}

function progress(e) {
  const bar = $('progress');
  if (e.event === 'start') {
    bar.max = Math.max(e.total, 1);
    bar.value = 0;
    $('progress-label').textContent = `${e.phase}`;
  } else if (e.event === 'progress') {
    bar.value = e.done;
  } else if (e.event === 'done') {
    bar.value = bar.max;
  } else if (e.event === 'note') {
    $('summary').append(Object.assign(document.createElement('p'), { textContent: `note: ${e.message}` }));
  }
}

/** Runs one library operation at a time; returns its result object. */
async function run(op, ...args) {
  if (busy) throw new Error('busy');
  busy = true;
  updateButtons();
  last = { result: null, finding: null, data: null, plan: null };
  try {
    await lib[op](...args);
    return last;
  } finally {
    busy = false;
    updateButtons();
  }
}

function updateButtons() {
  $('connect').disabled = busy || !lib;
  $('flash').disabled = busy || !planned;
  $('read').disabled = busy || !device;
}

function request() {
  const text = (id) => ($(id).value.trim() === '' ? null : $(id).value.trim());
  return {
    serial: device ? device.serial : null,
    alt: text('alt'),
    address: text('address'),
    no_verify: !$('verify').checked,
    no_leave: !$('leave').checked,
    no_skip: !$('skip').checked,
    force: $('force').checked,
  };
}

function showResult(json) {
  const r = $('result');
  const text = JSON.stringify(json);
  r.textContent = text;
  r.setAttribute('data-result', text);
}

function clearResult() {
  $('summary').replaceChildren();
  $('strip').replaceChildren();
  $('result').textContent = '';
  $('result').setAttribute('data-result', '');
}

async function connect() {
  $('connect-status').textContent = 'Waiting for a device...';
  try {
    const chosen = await usb.requestDevice(DFU_FILTER);
    const out = await run('describe', { serial: chosen.serialNumber || null });
    if (out.result.result !== 'ok') {
      $('device').replaceChildren(errorView(out.result));
      $('connect-status').textContent = 'The device could not be read.';
      return;
    }
    device = out.result;
    $('device').replaceChildren(deviceCard(device));
    $('connect-status').textContent = `Connected: ${device.id}.`;
    updateButtons();
    await plan();
  } catch (e) {
    $('connect-status').textContent = e.name === 'NotFoundError'
      ? 'No device was chosen. Put the device in DFU mode, plug it in, and press Connect again.'
      : `Could not connect: ${e.message}`;
  }
}

async function readFiles() {
  return Promise.all([...$('files').files].map(async (f) => ({
    name: f.name, bytes: new Uint8Array(await f.arrayBuffer()),
  })));
}

/** Makes the plan for the chosen files and shows it; a refusal ends the flash here. */
async function plan() {
  planned = null;
  updateButtons();
  if (!device || $('files').files.length === 0) return;
  clearResult();
  lib.setFiles(await readFiles());
  $('plan').replaceChildren(Object.assign(document.createElement('p'), { textContent: 'Reading the device and making the plan...' }));
  const out = await run('prepare', request());
  if (out.result.result === 'ok') {
    planned = out.result.plan;
    $('plan').replaceChildren(planView(planned));
  } else {
    $('plan').replaceChildren(errorView(out.result, out.finding));
    if (out.plan) $('plan').append(planView(out.plan));
    if (out.result.code === 'dfu::select::no-device' && device.mode === 'runtime') {
      $('plan').append(Object.assign(document.createElement('p'), {
        textContent: 'The device restarted in DFU mode; the browser needs your permission for it: press Connect and choose it again.',
      }));
    }
    // The flash ends here, refused or failed before anything was written.
    showResult(out.result);
  }
  updateButtons();
}

async function flash() {
  if (!planned) return;
  clearResult();
  const out = await run('execute');
  planned = null;
  const r = out.result;
  if (r.result === 'ok') {
    $('summary').replaceChildren(resultView(r));
    $('strip').replaceChildren(stripView(r));
  } else {
    $('summary').replaceChildren(errorView(r));
  }
  showResult(r);
  updateButtons();
}

async function read() {
  const text = (id) => ($(id).value.trim() === '' ? null : $(id).value.trim());
  $('read-status').textContent = 'Reading...';
  const out = await run('read', { serial: device.serial, alt: text('read-alt'), address: text('read-address'), length: text('read-length') });
  const r = out.result;
  if (r.result !== 'ok') {
    $('read-status').replaceChildren(errorView(r));
    return;
  }
  const url = URL.createObjectURL(new Blob([out.data], { type: 'application/octet-stream' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: `read-${r.address}-${r.length}.bin` });
  a.textContent = `Save ${r.length} bytes from ${r.address} (alt ${r.alt})`;
  $('read-status').replaceChildren(a);
  a.click();
}

async function main() {
  const spec = new URLSearchParams(location.search).get('sim');
  if (!hasJspi()) {
    $('mode').textContent = 'This browser cannot run the library: it lacks WebAssembly JS Promise Integration (Chromium-based browsers have had it on by default since 2025).';
    return;
  }
  if (spec) {
    const { createSimUsb } = await import('./sim.js');
    const sim = await createSimUsb('dfu_web_sim.wasm', spec);
    usb = sim.usb;
    window.dfuSimMemory = (alt, address, length, slot = 0) => sim.memory(alt, address, length, slot);
    window.dfuSimStats = (slot = 0) => sim.stats(slot);
    $('mode').textContent = `Simulated device: ${spec}. Nothing here touches real USB.`;
  } else if (navigator.usb) {
    usb = navigator.usb;
    $('mode').textContent = 'Flash a DFU device over WebUSB. Put the device in DFU mode, then press Connect.';
  } else {
    $('mode').textContent = 'This browser has no WebUSB (it needs a Chromium-based browser, over https or localhost). Use the dfu command line instead.';
    return;
  }
  lib = await loadLibrary('dfu_web.wasm', usb, sink);
  $('connect').addEventListener('click', connect);
  $('flash').addEventListener('click', flash);
  $('read').addEventListener('click', read);
  for (const id of ['files', 'address', 'alt', 'verify', 'leave', 'skip', 'force']) {
    $(id).addEventListener('change', () => { if (!busy) plan(); });
  }
  updateButtons();
  document.body.setAttribute('data-ready', '');
}

main().catch((e) => { $('mode').textContent = `The page could not start: ${e.message}`; });
