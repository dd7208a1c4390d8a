// Shared by the browser tests: serve web/dist, drive Debian's Chromium headless through
// Playwright, run the page's contract (Connect, the file input, Flash, [data-result],
// window.dfuSimMemory), and run the dfu command line for the same jobs.
import { chromium } from 'playwright-core';
import Ajv2020 from 'ajv/dist/2020.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
export const DFU = process.env.DFU_BIN || join(root, 'target', 'debug', 'dfu');

/** The server and the browser, for one test file. */
export async function start() {
  const server = await serve(join(root, 'web', 'dist'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const base = `http://127.0.0.1:${server.address().port}/`;
  return {
    base,
    browser,
    async stop() { await browser.close(); server.close(); },
  };
}

/** A scratch directory. */
export function scratch() {
  return mkdtempSync(join(tmpdir(), 'dfu-web-'));
}

/** `n` bytes of a fixed pseudo-random pattern. */
export function pattern(n, seed) {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i += 1) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Writes `bytes` to `dir/name`; its path. */
export function file(dir, name, bytes) {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Runs the dfu command line; its standard output. */
export function dfu(args, options = {}) {
  return execFileSync(DFU, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/** The last JSON line `dfu ... --json` printed (also when it exits non-zero). */
export function dfuJson(args) {
  let out;
  try { out = dfu(args); } catch (e) { out = e.stdout; }
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** Writes the Particle modules the tests flash into `dir` (dfu-image's module builder). */
export function fixtures(dir) {
  execFileSync('cargo', ['run', '-q', '--manifest-path', join(root, 'crates', 'dfu-web', 'Cargo.toml'),
    '--example', 'web_fixtures', '--', dir], {
    stdio: 'inherit', env: { ...process.env, CARGO_TARGET_DIR: join(root, 'target') },
  });
}

/** Opens the page in sim mode with `spec`; resolves when it is ready. */
export async function openPage(env, spec) {
  const page = await env.browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`${env.base}?sim=${encodeURIComponent(spec)}`);
  await page.waitForSelector('body[data-ready]');
  return page;
}

/** Loads the page again with `spec` in the same tab (session storage keeps state=). */
export async function reload(page, env, spec) {
  await page.goto(`${env.base}?sim=${encodeURIComponent(spec)}`);
  await page.waitForSelector('body[data-ready]');
}

/** Presses Connect and waits for the device card. */
export async function connect(page) {
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.waitForSelector('[data-device]');
}

/** Sets the options by their labels. */
export async function options(page, { address = '', alt = '' } = {}) {
  await page.getByLabel('Address for raw binaries (--address)').fill(address);
  await page.getByLabel('Alt setting (--alt)').fill(alt);
}

/** Picks `paths`, waits for the plan, presses Flash if it may; the data-result JSON. */
export async function flash(page, paths) {
  await page.getByLabel(/^Firmware files/).setInputFiles(paths);
  await page.waitForFunction(() => !document.getElementById('flash').disabled
    || document.querySelector('[data-result]').getAttribute('data-result') !== '');
  const flashButton = page.getByRole('button', { name: 'Flash' });
  if (await flashButton.isEnabled()) await flashButton.click();
  await page.waitForFunction(() => document.querySelector('[data-result]').getAttribute('data-result') !== '');
  return JSON.parse(await page.getAttribute('[data-result]', 'data-result'));
}

/** The simulated device's memory (ground truth), through window.dfuSimMemory. */
export async function memory(page, alt, address, length) {
  const b64 = await page.evaluate(([a, s, n]) => {
    const bytes = window.dfuSimMemory(a, s, n);
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }, [alt, address, length]);
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** The simulator's statistics, as a `stats=` file holds them. */
export function stats(page) {
  return page.evaluate(() => window.dfuSimStats());
}

/** Every key path of a JSON value (`plan.placements[].file`). */
export function keyPaths(v, prefix = '', out = new Set()) {
  if (Array.isArray(v)) { for (const x of v) keyPaths(x, `${prefix}[]`, out); return out; }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.add(p);
      keyPaths(x, p, out);
    }
  }
  return out;
}

/** The keys docs/json.md describes for a section (`flash`, `error`). */
export function documentedKeys(section) {
  const text = readFileSync(join(root, 'docs', 'json.md'), 'utf8');
  const start = text.indexOf(`\n## ${section}\n`);
  const end = text.indexOf('\n## ', start + 1);
  const keys = new Map();
  for (const m of text.slice(start, end).matchAll(/^\| `([^`]+)` \| ([^|]+) \|/gm)) keys.set(m[1], m[2].trim());
  return keys;
}

/** Key paths of `v` that docs/json.md's section does not describe (under an `any` key is fine). */
export function undocumented(v, section) {
  const keys = documentedKeys(section);
  const anyPrefixes = [...keys].filter(([, t]) => t.includes('any')).map(([k]) => k);
  return [...keyPaths(v)].filter((p) => !keys.has(p) && !anyPrefixes.some((a) => p.startsWith(`${a}.`) || p.startsWith(`${a}[]`)));
}

let schemaValidator;

/** Where `v` breaks `dfu schema` (the schema the CLI's own output is validated against). */
export function schemaErrors(v) {
  if (!schemaValidator) {
    const schema = JSON.parse(dfu(['schema']));
    schemaValidator = new Ajv2020({ strict: false, validateFormats: false, allErrors: false }).compile(schema);
  }
  return schemaValidator(v) ? [] : schemaValidator.errors;
}

export const hex = (n) => `0x${n.toString(16).padStart(8, '0')}`;
