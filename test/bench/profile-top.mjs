#!/usr/bin/env node
// Summarises a .cpuprofile: self time and total (inclusive) time per function, heaviest first.
// Usage: node test/bench/profile-top.mjs <file.cpuprofile> [rows] [fromUs-toUs]
// The window keeps the samples between two moments of the system's monotonic clock in µs (what
// V8 stamps samples with, and what bench:fleet prints for its cold start and pass), so one
// profile of a runner's whole life shows one phase of it.
import { readFileSync } from 'node:fs';

const [file, rowsArg, windowArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node test/bench/profile-top.mjs <file.cpuprofile> [rows] [fromUs-toUs]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const { nodes } = profile;
let { samples, timeDeltas } = profile;
if (windowArg) {
  const [from, to] = windowArg.split('-').map(Number);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new Error(`window must be "fromUs-toUs", not "${windowArg}"`);
  const keep = [];
  let t = profile.startTime;
  timeDeltas.forEach((d, i) => {
    t += d;
    if (t >= from && t <= to) keep.push(i);
  });
  samples = keep.map((i) => samples[i]);
  timeDeltas = keep.map((i) => timeDeltas[i]);
}
const byId = new Map(nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map();
samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (timeDeltas[i] ?? 0)));
const key = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|exporter|test)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const self = new Map();
const total = new Map();
let all = 0;
for (const [id, us] of selfUs) {
  all += us;
  const n = byId.get(id);
  self.set(key(n), (self.get(key(n)) ?? 0) + us);
  // Inclusive time: each frame on the stack counted once per sample.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + us);
  }
}
const rows = Number(rowsArg ?? 25);
const show = (title, m) => {
  console.log(`${title} (of ${(all / 1e3).toFixed(0)} ms sampled)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${(us / 1e3).toFixed(1).padStart(9)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${k}`);
};
show('self time', self);
show('total time', total);
