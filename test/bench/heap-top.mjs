#!/usr/bin/env node
// Summarises a V8 .heapsnapshot: objects by kind (constructor name for JS objects, V8's node type
// otherwise: string, closure, code, array, native...), count and self size, largest first. Given a
// second snapshot and a count, prints what grew between them per unit of that count (per kept
// session for bench:fleet's two snapshots).
// Usage: node test/bench/heap-top.mjs <a.heapsnapshot> [<b.heapsnapshot> <per>] [rows]
import { readFileSync } from 'node:fs';

function summarise(file) {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const kinds = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name = strings[nodes[i + nameAt]];
    // JS objects by constructor; strings, arrays, closures and V8's internals by type, so that
    // thousands of distinct strings are one row.
    const kind = type === 'object' || type === 'native' ? `${type} ${name}` : type === 'closure' ? `closure ${name || '(anonymous)'}` : `(${type})`;
    const k = kinds.get(kind) ?? { count: 0, bytes: 0 };
    k.count += 1;
    k.bytes += nodes[i + sizeAt];
    kinds.set(kind, k);
  }
  return kinds;
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node test/bench/heap-top.mjs <a.heapsnapshot> [<b.heapsnapshot> <per>] [rows]');
  process.exit(2);
}
const kb = (bytes) => (bytes / 1024).toFixed(2);
if (args.length >= 3) {
  const [a, b, perArg, rowsArg] = args;
  const per = Number(perArg);
  if (!Number.isFinite(per) || per <= 0) throw new Error(`per must be a positive number, not "${perArg}"`);
  const before = summarise(a);
  const after = summarise(b);
  const rows = [];
  let total = 0;
  for (const [kind, k] of after) {
    const was = before.get(kind) ?? { count: 0, bytes: 0 };
    total += k.bytes - was.bytes;
    rows.push({ kind, count: (k.count - was.count) / per, bytes: (k.bytes - was.bytes) / per });
  }
  for (const [kind, was] of before) if (!after.has(kind)) rows.push({ kind, count: -was.count / per, bytes: -was.bytes / per });
  console.log(`heap growth: ${(total / 2 ** 20).toFixed(1)} MB, ${kb(total / per)} KB per unit (${per} units)`);
  console.log('KB/unit  objects/unit  kind');
  for (const r of rows.sort((x, y) => y.bytes - x.bytes).slice(0, Number(rowsArg ?? 30))) {
    console.log(`${kb(r.bytes).padStart(7)}  ${r.count.toFixed(1).padStart(12)}  ${r.kind}`);
  }
} else {
  const [a, rowsArg] = args;
  const kinds = summarise(a);
  const total = [...kinds.values()].reduce((s, k) => s + k.bytes, 0);
  console.log(`heap: ${(total / 2 ** 20).toFixed(1)} MB`);
  for (const [kind, k] of [...kinds].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, Number(rowsArg ?? 30))) {
    console.log(`${(k.bytes / 2 ** 20).toFixed(2).padStart(8)} MB ${String(k.count).padStart(9)}  ${kind}`);
  }
}
