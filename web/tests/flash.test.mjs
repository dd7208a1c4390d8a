// The page in headless Chromium against simulated devices: every flash goes through the
// page's contract, and the simulator's memory (window.dfuSimMemory) is the ground truth.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  connect, dfu, dfuJson, file, fixtures, flash, hex, memory, openPage, options, pattern, reload, scratch,
  start, undocumented, schemaErrors,
} from './lib.mjs';

let env;
const dir = scratch();
before(async () => { env = await start(); });
after(async () => { await env.stop(); });

const same = (a, b, what) => assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${what} differs`);
const readFixture = (name) => new Uint8Array(readFileSync(`${dir}/${name}`));
const blank = (bytes) => bytes.every((b) => b === 0xff);

test('stm32f405: raw, Intel HEX and DfuSe files over earlier contents, read back', async () => {
  const spec = 'stm32f405,state=f405';
  const old = pattern(48 * 1024, 1);
  const page = await openPage(env, spec);
  await connect(page);
  await options(page, { address: '0x08000000' });
  let r = await flash(page, [file(dir, 'old.bin', old)]);
  assert.equal(r.result, 'ok', JSON.stringify(r));
  same(await memory(page, 0, 0x08000000, old.length), old, 'the earlier image');

  // A new raw image over the first two sectors; the third keeps the earlier bytes.
  const app = pattern(20000, 2);
  await reload(page, env, spec);
  await connect(page);
  await options(page, { address: '0x08000000' });
  r = await flash(page, [file(dir, 'app.bin', app)]);
  assert.equal(r.result, 'ok', JSON.stringify(r));
  assert.equal(r.report.verified, true);
  assert.deepEqual(r.report.written, [{ address: '0x08000000', length: 20000 }]);
  assert.deepEqual(undocumented(r, 'flash'), [], 'every key is in docs/json.md');
  assert.deepEqual(schemaErrors(r), [], 'the result validates against dfu schema');
  same(await memory(page, 0, 0x08000000, app.length), app, 'the raw image');
  assert.ok(blank(await memory(page, 0, 0x08000000 + app.length, 0x8000 - app.length)), 'the rest of the erased sectors is blank');
  same(await memory(page, 0, 0x08008000, 0x4000), old.subarray(0x8000, 0xc000), 'the untouched sector');

  // Intel HEX and DfuSe files carry their own addresses.
  const hexImage = pattern(9000, 3);
  const dfuseImage = pattern(7000, 4);
  const bin = file(dir, 'h.bin', hexImage);
  const hexPath = `${dir}/app.hex`;
  dfu(['image', 'convert', bin, '--address', '0x08010000', '--to', 'hex', '-o', hexPath]);
  const dfusePath = `${dir}/app.dfu`;
  dfu(['image', 'convert', file(dir, 'd.bin', dfuseImage), '--address', '0x08020000', '--to', 'dfuse',
    '--vid', '0x0483', '--pid', '0xdf11', '-o', dfusePath]);
  for (const [path, image, at, format] of [[hexPath, hexImage, 0x08010000, 'Intel HEX'], [dfusePath, dfuseImage, 0x08020000, 'DfuSe']]) {
    await reload(page, env, spec);
    await connect(page);
    await options(page, {});
    r = await flash(page, [path]);
    assert.equal(r.result, 'ok', JSON.stringify(r));
    assert.equal(r.plan.placements[0].format, format);
    assert.deepEqual(r.report.written, [{ address: hex(at), length: image.length }]);
    same(await memory(page, 0, at, image.length), image, format);
  }
  same(await memory(page, 0, 0x08000000, app.length), app, 'the raw image, after the others');

  // Read a region to a download: the bytes are the device's. The device left DFU mode
  // after the flash; Connect plugs it in again.
  await connect(page);
  await page.getByLabel('Address', { exact: true }).fill('0x08007000');
  await page.getByLabel('Length', { exact: true }).fill('0x3000');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Read' }).click(),
  ]);
  const got = new Uint8Array(readFileSync(await download.path()));
  assert.equal(got.length, 0x3000);
  same(got, await memory(page, 0, 0x08007000, 0x3000), 'the region read');
  same(got.subarray(0x1000), old.subarray(0x8000, 0xa000), 'the earlier bytes in the region read');
  await page.close();
});

test('photon: a Core image is refused with nothing written; system and user parts go in dependency order', async () => {
  fixtures(dir);
  const page = await openPage(env, 'photon,system-version=1');
  await connect(page);
  const before = await memory(page, 0, 0x08020000, 0xa0000 - 0x20000);
  let r = await flash(page, [`${dir}/core-app.bin`]);
  assert.equal(r.result, 'error');
  assert.equal(r.code, 'dfu::refused::platform', JSON.stringify(r));
  assert.deepEqual(r.written, []);
  assert.match(r.help, /\S/);
  assert.deepEqual(undocumented(r, 'error'), [], 'every key is in docs/json.md');
  assert.deepEqual(schemaErrors(r), [], 'the error validates against dfu schema');
  assert.equal(await page.getByRole('button', { name: 'Flash' }).isDisabled(), true, 'a refusal blocks the flash');
  assert.ok(blank(await memory(page, 0, 0x080a0000, 0x20000)), 'the user part stays blank');
  same(await memory(page, 0, 0x08020000, before.length), before, 'the system parts');

  r = await flash(page, [`${dir}/user-part.bin`, `${dir}/system-part2.bin`, `${dir}/system-part1.bin`]);
  assert.equal(r.result, 'ok', JSON.stringify(r));
  assert.equal(r.report.verified, true);
  assert.deepEqual(r.report.steps.map((s) => s.writes[0].address), ['0x08020000', '0x08060000', '0x080a0000']);
  for (const [name, at] of [['system-part1.bin', 0x08020000], ['system-part2.bin', 0x08060000], ['user-part.bin', 0x080a0000]]) {
    const bytes = readFixture(name);
    same(await memory(page, 0, at, bytes.length), bytes, name);
  }
  await page.close();
});

test('dapboot: plain DFU, placed at the start of its memory', async () => {
  const page = await openPage(env, 'dapboot');
  await connect(page);
  const app = pattern(3000, 5);
  const r = await flash(page, [file(dir, 'dap.bin', app)]);
  assert.equal(r.result, 'ok', JSON.stringify(r));
  assert.equal(r.plan.dfuse, false);
  const at = parseInt(r.plan.placements[0].parts[0].address, 16);
  assert.equal(r.plan.placements[0].source.from, 'plain-base');
  same(await memory(page, 0, at, app.length), app, 'the image');
  await page.close();
});

test('a disconnect mid-write: the page says what was written, and the next flash completes', async () => {
  const app = pattern(100 * 1024, 6);
  const path = file(dir, 'big.bin', app);
  const page = await openPage(env, 'stm32f405,state=cut,fault=disconnect@dnload:37');
  await connect(page);
  await options(page, { address: '0x08000000' });
  let r = await flash(page, [path]);
  assert.equal(r.result, 'error');
  // The command line, on the same job, fails the same way.
  const cli = dfuJson(['--sim', `stm32f405,state=${dir}/cut.json,fault=disconnect@dnload:37`, 'flash', path,
    '--address', '0x08000000', '--json']);
  assert.equal(r.code, cli.code, JSON.stringify(r));
  assert.equal(r.exit_code, cli.exit_code);
  assert.deepEqual(r.written, cli.written);
  assert.equal(r.help, cli.help);
  const wrote = r.written.filter((l) => l.startsWith('wrote '));
  assert.ok(wrote.length > 0, JSON.stringify(r.written));
  const text = await page.locator('#summary').innerText();
  for (const line of r.written) assert.ok(text.includes(line), `the page shows "${line}"`);
  for (const line of wrote) {
    const [, start, end] = line.match(/^wrote 0x([0-9a-f]+)-0x([0-9a-f]+)/);
    const s = parseInt(start, 16), n = parseInt(end, 16) - s + 1;
    same(await memory(page, 0, s, n), app.subarray(s - 0x08000000, s - 0x08000000 + n), line);
  }
  const lastWritten = wrote.map((l) => parseInt(l.match(/-0x([0-9a-f]+)/)[1], 16)).reduce((a, b) => Math.max(a, b));
  assert.ok(lastWritten < 0x08000000 + app.length - 1, 'the cut came before the end');

  await reload(page, env, 'stm32f405,state=cut');
  await connect(page);
  await options(page, { address: '0x08000000' });
  r = await flash(page, [path]);
  assert.equal(r.result, 'ok', JSON.stringify(r));
  assert.equal(r.report.verified, true);
  same(await memory(page, 0, 0x08000000, app.length), app, 'the image');
  await page.close();
});

test('a Photon running its application: the page switches it to DFU mode, then flashes', async () => {
  fixtures(dir);
  const page = await openPage(env, 'photon,mode=runtime,system-version=2');
  await connect(page);
  assert.match(await page.locator('[data-device]').innerText(), /running its application/);
  const r = await flash(page, [`${dir}/user-part.bin`]);
  assert.equal(r.result, 'ok', JSON.stringify(r));
  assert.equal(r.report.verified, true);
  same(await memory(page, 0, 0x080a0000, readFixture('user-part.bin').length), readFixture('user-part.bin'), 'the user part');
  await page.close();
});

test('an overridable refusal asks; with --force ticked the plan says overridden and the flash is done', async () => {
  fixtures(dir);
  const page = await openPage(env, 'photon');
  await connect(page);
  let r = await flash(page, [`${dir}/user-part.bin`]);
  assert.equal(r.code, 'dfu::refused::dependency', JSON.stringify(r));
  const cli = dfuJson(['--sim', 'photon', 'flash', `${dir}/user-part.bin`, '--json']);
  for (const key of ['code', 'exit_code', 'help', 'written']) assert.deepEqual(r[key], cli[key], key);
  assert.equal(await page.getByRole('button', { name: 'Flash' }).isDisabled(), true, 'a refusal blocks the flash');
  await page.getByText('This refusal may be overridden').waitFor();
  assert.match(await page.locator('#plan').innerText(), /refusal: .*needs system part 2/);
  assert.ok(blank(await memory(page, 0, 0x080a0000, 0x1000)), 'nothing written while refused');
  await page.getByLabel(/Write despite refusals/).check();
  await page.waitForFunction(() => !document.getElementById('flash').disabled);
  assert.match(await page.locator('#plan').innerText(), /overridden: .*needs system part 2/);
  await page.getByRole('button', { name: 'Flash' }).click();
  await page.waitForFunction(() => document.querySelector('[data-result]').getAttribute('data-result') !== '');
  r = JSON.parse(await page.getAttribute('[data-result]', 'data-result'));
  assert.equal(r.result, 'ok', JSON.stringify(r));
  assert.equal(r.plan.findings[0].severity, 'overridden');
  same(await memory(page, 0, 0x080a0000, readFixture('user-part.bin').length), readFixture('user-part.bin'), 'the user part');
  await page.close();
});
