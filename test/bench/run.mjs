// `pnpm bench`: runs every area's benchmark module in one process, prints each figure beside its
// peer's from the same run, and writes BENCHMARKS.md. Run with `node --expose-gc`.
// Usage: node --expose-gc test/bench/run.mjs [--runs N] [--only pool,milvus,cold-path,fixtures,migrate] [--no-write]
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const AREAS = ['pool', 'milvus', 'open-milvus', 'cold-path', 'fixtures', 'share', 'migrate', 'python-engine', 'install'];
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got ${values.runs}`);
const areas = values.only ? values.only.split(',') : AREAS;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));
const cell = (xs, unit) => {
  if (!xs || xs.length === 0) return '–';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return `${fmt(median(xs))} ${unit} (${fmt(lo)}–${fmt(hi)})`;
};
const ratio = (row) => {
  if (!row.peer || row.peer.length === 0) return '';
  const ours = median(row.ours);
  const peer = median(row.peer);
  if (ours === 0 || peer === 0) return '';
  const lowerIsBetter = row.lowerIsBetter ?? true;
  const r = lowerIsBetter ? peer / ours : ours / peer;
  return r >= 1 ? `${fmt(r)}x better` : `${fmt(1 / r)}x worse`;
};

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
// The machine may be shared: its load at the start goes beside the figures.
const loadAtStart = os.loadavg()[0];
const rows = [];
const skipped = [];
for (const area of areas) {
  const file = fileURLToPath(new URL(`./${area}.mjs`, import.meta.url));
  if (!existsSync(file)) {
    skipped.push(`${area}: no module test/bench/${area}.mjs`);
    continue;
  }
  log(`${area}: ${runs} runs`);
  const mod = await import(file);
  const got = await mod.bench({ runs, log: (m) => log(`${area}: ${m}`) });
  for (const row of got) {
    rows.push(row);
    const peer = row.peerName ? `  vs ${row.peerName}: ${cell(row.peer, row.unit)}  → ${ratio(row)}` : '';
    console.log(`${row.section} | ${row.metric}: ${cell(row.ours, row.unit)}${peer}`);
  }
}
if (!globalThis.gc) log('note: run with --expose-gc for memory figures');

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const machine = `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`;
const lines = [
  '# Benchmarks',
  '',
  'Written by `pnpm bench` (`node --expose-gc test/bench/run.mjs`); do not edit by hand.',
  `Each figure is the median of ${runs} runs in one process, with the range (min–max) in brackets; the peer's`,
  'figure comes from the same run, interleaved with ours. "better" compares medians.',
  '',
  `Machine: ${machine}.`,
  `Date: ${new Date().toISOString().slice(0, 10)}.`,
  '',
];
const when = new Date().toISOString().slice(0, 10);
const sections = [];
let section;
for (const row of rows) {
  if (row.section !== section) {
    section = row.section;
    sections.push({ heading: `## ${section}`, lines: [] });
    if (values.only) sections.at(-1).lines.push(`Measured ${when} with \`pnpm bench --only ${values.only}\` (${runs} runs), Node ${process.version}, load average ${loadAtStart.toFixed(1)} on ${os.cpus().length} cores at the start (a shared machine: other engineers' tests were running).`, '');
    sections.at(-1).lines.push('| metric | leasehold | peer | peer figure | ratio | note |', '|---|---|---|---|---|---|');
  }
  sections.at(-1).lines.push(`| ${row.metric} | ${cell(row.ours, row.unit)} | ${row.peerName ?? ''} | ${row.peerName ? cell(row.peer, row.unit) : ''} | ${ratio(row)} | ${row.note ?? ''} |`);
}
if (values.only && existsSync(new URL('../../BENCHMARKS.md', import.meta.url))) {
  // --only: the sections this run measured replace their namesakes (or are added); the rest stay as they were.
  const old = await readFile(new URL('../../BENCHMARKS.md', import.meta.url), 'utf8');
  const blocks = old.split(/^(?=## )/m);
  const [head, ...rest] = blocks;
  const fresh = new Map(sections.map((s) => [s.heading, s]));
  const merged = rest
    .filter((block) => !block.startsWith('## Not measured'))
    .map((block) => {
      const heading = block.split('\n', 1)[0];
      const replaced = fresh.get(heading);
      if (!replaced) return block.trimEnd() + '\n';
      fresh.delete(heading);
      return [replaced.heading, '', ...replaced.lines, ''].join('\n');
    });
  for (const s of fresh.values()) merged.push([s.heading, '', ...s.lines, ''].join('\n'));
  lines.length = 0;
  lines.push(head.trimEnd(), '', merged.join('\n'));
} else {
  for (const s of sections) lines.push(s.heading, '', ...s.lines, '');
  if (skipped.length) lines.push('## Not measured in this run', '', ...skipped.map((s) => `- ${s}`), '');
}
if (!values['no-write']) {
  await writeFile(new URL('../../BENCHMARKS.md', import.meta.url), lines.join('\n'));
  log('wrote BENCHMARKS.md');
}
