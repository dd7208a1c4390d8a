// The same job in the page and on the command line: the same requests, the same virtual
// time, the same result (the page's result JSON has the keys the command line's has).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  connect, dfuJson, file, flash, keyPaths, openPage, options, pattern, reload, scratch, start,
  stats,
} from './lib.mjs';

let env;
const dir = scratch();
before(async () => { env = await start(); });
after(async () => { await env.stop(); });

/** What changed in the simulator's counters between two snapshots. */
function delta(a, b) {
  const transfers = {};
  for (const [k, v] of Object.entries(b.transfers)) {
    const d = v - (a.transfers[k] || 0);
    if (d) transfers[k] = d;
  }
  return {
    transfers,
    virtual_time_ms: b.virtual_time_ms - a.virtual_time_ms,
    bytes_down: b.bytes_down - a.bytes_down,
    bytes_up: b.bytes_up - a.bytes_up,
    erases: b.erases - a.erases,
  };
}

for (const [profile, address] of [['stm32f405', '0x08000000'], ['dapboot', '']]) {
  test(`${profile}: the page and the command line send the same requests in the same virtual time`, async () => {
    const old = file(dir, `${profile}-old.bin`, pattern(40000, 7));
    const app = file(dir, `${profile}-app.bin`, pattern(30000, 8));
    const addr = address ? ['--address', address] : [];
    // The command line: one run writes the earlier image, the next the new one.
    const state = `${dir}/${profile}-cli.json`;
    assert.equal(dfuJson(['--sim', `${profile},state=${state}`, 'flash', old, ...addr, '--json']).result, 'ok');
    const cliStats = `${dir}/${profile}-stats.json`;
    const cli = dfuJson(['--sim', `${profile},state=${state},stats=${cliStats}`, 'flash', app, ...addr, '--json']);
    assert.equal(cli.result, 'ok', JSON.stringify(cli));
    const cliCounts = JSON.parse(readFileSync(cliStats, 'utf8'));

    // The page: the same two flashes, two page loads.
    const spec = `${profile},state=${profile}-page`;
    const page = await openPage(env, spec);
    await connect(page);
    await options(page, { address });
    assert.equal((await flash(page, [old])).result, 'ok');
    const loading = Date.now();
    await reload(page, env, spec);
    await connect(page);
    console.log(`${profile}: page load to device card: ${Date.now() - loading} ms`);
    await options(page, { address });
    const s0 = await stats(page);
    const r = await flash(page, [app]);
    const s1 = await stats(page);
    assert.equal(r.result, 'ok', JSON.stringify(r));

    const zero = { transfers: {}, virtual_time_ms: 0, bytes_down: 0, bytes_up: 0, erases: 0 };
    const pageDelta = delta({ ...zero }, s1);
    const before = delta({ ...zero }, s0);
    // The page's Connect read the descriptors once before the flash; the flash itself
    // (connect, read the device, plan, execute) is what the command line's run does.
    const flashOnly = delta(s0, s1);
    assert.deepEqual(flashOnly.transfers, delta(zero, cliCounts).transfers, 'requests by kind');
    assert.equal(flashOnly.bytes_down, cliCounts.bytes_down);
    assert.equal(flashOnly.bytes_up, cliCounts.bytes_up);
    assert.equal(flashOnly.erases, cliCounts.erases);
    assert.ok(Math.abs(flashOnly.virtual_time_ms - cliCounts.virtual_time_ms) < 1e-6,
      `virtual time: page ${flashOnly.virtual_time_ms} ms, command line ${cliCounts.virtual_time_ms} ms`);
    assert.equal(r.seconds, cli.seconds, 'the flash took the same simulated time');
    assert.ok(pageDelta.virtual_time_ms > before.virtual_time_ms);
    // The command line names files by the path given, the page by the file's name.
    const names = (v) => JSON.parse(JSON.stringify(v).replaceAll(`${dir}/`, ''));
    assert.deepEqual(r.report, names(cli.report), 'the same report');
    assert.deepEqual([...keyPaths(r)].sort(), [...keyPaths(cli)].sort(), 'the same keys');
    await page.close();
  });
}
