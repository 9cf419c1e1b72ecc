import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { Gauge, Registry } from 'prom-client';

/** Size knobs: CI runs every benchmark once at a small size through these variables. */
export function sizeFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}

/** Peak resident set of this process so far, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const fmt = (n: number, digits = 0): string => n.toFixed(digits);

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * A realistic message mix: mostly small text mail, some with attachments, a few large ones;
 * sizes from about 2 KB to 200 KB (about 45 KB on average), with quoted-printable, base64 and
 * encoded-word headers as real mail has.
 */
export function corpusMessage(n: number, random: () => number): Buffer {
  const r = random();
  const bodyBytes = r < 0.6 ? 2_000 + Math.floor(random() * 18_000) : r < 0.9 ? 20_000 + Math.floor(random() * 80_000) : 100_000 + Math.floor(random() * 100_000);
  const withAttachment = r >= 0.6;
  const head = [
    `Message-ID: <bench-${n}-${randomBytes(6).toString('hex')}@bench.example>`,
    `From: =?UTF-8?Q?B=C3=A9n=C3=A9dicte_${n % 50}?= <sender${n % 50}@bench.example>`,
    `To: bench@bench.example${n % 3 === 0 ? ', team@bench.example' : ''}`,
    ...(n % 4 === 0 ? ['Cc: "Ops, On-call" <oncall@bench.example>'] : []),
    `Subject: =?UTF-8?B?${Buffer.from(`Rapport n°${n} – état du système`).toString('base64')}?=`,
    `Date: ${new Date(Date.UTC(2026, 0, 1) + n * 97_000).toUTCString()}`,
    'MIME-Version: 1.0',
    `Received: from mx${n % 5}.bench.example by imap.bench.example; ${new Date(Date.UTC(2026, 0, 1) + n * 97_000).toUTCString()}`,
  ].join('\r\n');
  const text = Array.from({ length: Math.ceil(Math.min(bodyBytes, 8_000) / 60) }, (_, i) => `Ligne ${i} du message ${n}: tout va bien, merci.`).join('\r\n');
  if (!withAttachment) {
    const filler = 'x'.repeat(Math.max(0, bodyBytes - text.length)).replace(/.{72}/g, '$&\r\n');
    return Buffer.from(`${head}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n${filler}\r\n`);
  }
  const attachment = randomBytes(Math.floor((bodyBytes * 3) / 4)).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `${head}\r\nContent-Type: multipart/mixed; boundary="=_b${n}"\r\n\r\n--=_b${n}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n` +
    `--=_b${n}\r\nContent-Type: application/pdf; name="report-${n}.pdf"\r\nContent-Disposition: attachment; filename="report-${n}.pdf"\r\n` +
    `Content-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n--=_b${n}--\r\n`,
  );
}

/** A deterministic PRNG (mulberry32), so every run of a benchmark builds the same corpus. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeds `count` corpus messages (seed 42, the same corpus every benchmark reads) into a user's
 * INBOX Maildir of the harness Dovecot; returns the total bytes.
 */
export function seedCorpus(dovecot: { seedMaildir(user: string, messages: Iterable<Buffer>): number }, user: string, count: number): number {
  const random = seededRandom(42);
  let bytes = 0;
  dovecot.seedMaildir(user, (function* () {
    for (let i = 0; i < count; i++) {
      const m = corpusMessage(i, random);
      bytes += m.length;
      yield m;
    }
  })());
  return bytes;
}

/**
 * Runs `fn` under the V8 CPU profiler when BENCH_CPU_PROFILE names a directory, and writes
 * `<dir>/<label>.cpuprofile`: the profile of the measured part alone, not of the set-up around it
 * (`node --cpu-prof` would mostly show the initial sync).
 */
export async function profiled<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${label}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    progress(`CPU profile of ${label} written to ${file}`);
  }
}

export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
}

/**
 * The baseline of the scrape ratios: prom-client serialising `series` plain labelled gauge series
 * (10 per mailbox label) in this process, median of `rounds` after a warm-up.
 */
export async function promClientBaselineMs(series: number, rounds: number): Promise<number> {
  const registry = new Registry();
  const gauge = new Gauge({ name: 'bench_gauge', help: 'baseline', labelNames: ['mailbox', 'kind'] as const, registers: [registry] });
  for (let i = 0; i < series; i++) gauge.set({ mailbox: `mb-${Math.floor(i / 10)}`, kind: `k${i % 10}` }, i);
  await registry.metrics();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    await registry.metrics();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}
