// Rendering of what the library returns (device, plan, result, error). Nothing is decided
// here: the words and numbers come from the library's JSON.

const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
};
const hex = (n) => `0x${Number(n).toString(16).padStart(8, '0')}`;
const size = (n) => (n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`);
const range = (r) => `${r.address}-${hex(parseInt(r.address, 16) + Math.max(r.length, 1) - 1)} (${r.length} bytes)`;

/** A memory map: one box per run of sectors, coloured by access, with region names. */
function memoryMap(layout, regions) {
  const map = el('div', { class: 'map', role: 'img', 'aria-label': `memory map of ${layout.name.trim()}` });
  for (const s of layout.segments) {
    const start = parseInt(s.start, 16);
    for (let i = 0; i < s.count; i += 1) {
      const at = start + i * s.sector_size;
      const region = regions.find((r) => at >= parseInt(r.start, 16) && at < parseInt(r.start, 16) + r.size);
      const box = el('span', {
        class: `acc-${'gae'.includes(s.type) ? s.type : 'other'}`,
        title: `${hex(at)} ${size(s.sector_size)} ${s.access}${region ? ` (${region.name})` : ''}`,
        style: `width:${Math.max(6, Math.min(60, Math.log2(s.sector_size) * 3))}px`,
      });
      map.append(box);
    }
  }
  return map;
}

/** The device card. */
export function deviceCard(d) {
  const card = el('dl', { class: 'card', 'data-device': d.id });
  const row = (k, v) => card.append(el('dt', {}, k), el('dd', {}, v));
  row('Device', `${d.id} ${d.product || ''}`);
  row('Mode', d.mode === 'dfu' ? 'DFU mode' : 'running its application (it is switched to DFU mode when you flash)');
  row('Serial', d.serial || '(none)');
  row('Protocol', `${d.dfuse ? 'DfuSe' : 'DFU'} ${d.dfu_version}, transfer size ${d.transfer_size}, attributes ${d.attributes}`);
  row('Profile', `${d.profile || '(none)'}: ${d.profile_reason || ''}`);
  if (d.profile_detail) row('Board', d.profile_detail.title);
  const regions = d.profile_detail ? d.profile_detail.regions : [];
  const alts = el('div');
  for (const a of d.alts) {
    alts.append(el('p', {}, `alt ${a.alt}: ${a.name === null ? '(unreadable)' : a.name}`));
    if (a.layout) alts.append(memoryMap(a.layout, regions.filter((r) => r.alt === a.alt)));
    else if (a.layout_error && d.dfuse) alts.append(el('p', {}, `not a memory layout: ${a.layout_error}`));
  }
  card.append(el('dt', {}, 'Alt settings'), el('dd', {}, alts));
  if (regions.length) {
    const list = el('ul');
    for (const r of regions) list.append(el('li', {}, `${r.name} (${r.role}): alt ${r.alt}, ${r.start}, ${size(r.size)}`));
    card.append(el('dt', {}, 'Regions'), el('dd', {}, list));
  }
  return card;
}

function stepList(steps, erase = 'erase', write = 'writes', skip = 'skipped') {
  const list = el('ol');
  for (const s of steps) {
    const li = el('li', {}, `alt ${s.alt}${s.files ? ` (${s.files.join(', ')})` : ''}`);
    const inner = el('ul');
    for (const r of s[erase] || []) inner.append(el('li', {}, `erase ${range(r)}`));
    for (const r of s[write] || []) inner.append(el('li', {}, `write ${range(r)}`));
    for (const r of s[skip] || []) inner.append(el('li', {}, `skip ${range(r)} (unchanged)`));
    li.append(inner);
    list.append(li);
  }
  return list;
}

/** The plan, before anything is written. */
export function planView(plan) {
  const box = el('div');
  box.append(el('p', {}, `For ${plan.device}:`));
  const places = el('ul');
  for (const p of plan.placements) {
    const parts = p.parts.map((x) => `alt ${x.alt} at ${x.address}, ${x.length} bytes`).join('; ');
    const why = p.source.from + (p.source.module ? ` (${p.source.module})` : '') + (p.source.profile ? ` (${p.source.profile})` : '');
    places.append(el('li', {}, `${p.file} (${p.format}): ${parts}; placed by ${why}`));
  }
  box.append(el('h3', {}, 'Placement'), places);
  if (plan.findings.length) {
    box.append(el('h3', {}, 'Findings'));
    for (const f of plan.findings) {
      box.append(el('div', { class: `finding ${f.severity}` },
        el('strong', {}, `${f.severity}: `), f.message, el('br'), el('code', {}, f.code),
        f.detail ? el('div', { class: 'help' }, f.detail) : ''));
    }
  }
  box.append(el('h3', {}, 'Steps (before the compare skips what is already there)'), stepList(plan.steps, 'erase', 'writes', 'skipped'));
  if (plan.leave) box.append(el('p', {}, `Then the device is asked to start the application at ${plan.leave.address}.`));
  return box;
}

/** An error object, as the command line prints it. */
export function errorView(e, finding) {
  const box = el('div', { class: 'error', role: 'alert' });
  box.append(el('p', {}, el('strong', {}, 'error: '), e.error));
  if (e.written) {
    if (e.written.length === 0) box.append(el('p', {}, 'nothing was written to the device.'));
    else for (const w of e.written) box.append(el('p', {}, w));
  }
  box.append(el('p', { class: 'help' }, el('strong', {}, 'help: '), e.help));
  if (e.code) box.append(el('p', {}, 'code: ', el('code', {}, e.code)));
  if (finding && finding.overridable) {
    box.append(el('p', {}, 'This refusal may be overridden: tick "Write despite refusals" above to plan again with it.'));
  }
  return box;
}

/** The summary line of a finished flash. */
export function resultView(r) {
  const rep = r.report;
  const bytes = rep.written.reduce((n, w) => n + w.length, 0);
  const clock = r.backend === 'sim' ? ' (simulated time)' : '';
  const checked = rep.verified ? 'verified by reading back'
    : r.plan.options.verify ? 'not read back (the device cannot upload)' : 'not read back';
  const from = rep.written.length ? ` from ${rep.written[0].address}` : '';
  const box = el('div', { class: 'ok', role: 'status' });
  box.append(el('p', {}, `Done in ${r.seconds.toFixed(2)} s${clock}: ${bytes} bytes written${from}, ` +
    `${rep.erased.length} sector(s) erased, ${rep.skipped.length} skipped as unchanged; ${checked}.`));
  if (rep.leave === 'acknowledged') box.append(el('p', {}, 'The device left DFU mode and is starting the application.'));
  else if (rep.leave) box.append(el('p', {}, 'The device restarted to run the application.'));
  for (const n of rep.notes) box.append(el('p', {}, n));
  return box;
}

/** The sector strip: every sector the plan touches, as erased and written, written
 * (already blank, so not erased), or skipped as unchanged. */
export function stripView(result) {
  const report = result.report;
  const box = el('div', { class: 'strip', role: 'img', 'aria-label': 'sectors: erased and written, written, skipped' });
  const overlaps = (list, a, n) => list.some((w) => {
    const s = parseInt(w.address, 16);
    return s < a + n && a < s + w.length;
  });
  const legend = { erased: 'erased and written', written: 'written (was blank)', skipped: 'skipped (unchanged)', untouched: 'not written' };
  const counts = {};
  for (const step of result.plan.steps) {
    for (const r of step.erase) {
      const a = parseInt(r.address, 16);
      const kind = overlaps(report.skipped, a, r.length) ? 'skipped'
        : !overlaps(report.written, a, r.length) ? 'untouched'
          : overlaps(report.erased, a, r.length) ? 'erased' : 'written';
      counts[kind] = (counts[kind] || 0) + 1;
      box.append(el('span', { class: kind === 'erased' ? 'erased' : kind, title: `${range(r)}: ${legend[kind]}`, style: 'width:14px' }));
    }
  }
  const words = Object.entries(counts).map(([k, n]) => `${n} ${legend[k]}`).join(', ');
  return el('div', {}, box, el('p', {}, `Sectors: ${words || 'none'}.`));
}
