import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAILSYNC_BIN = path.join(root, 'exporter/bin/mailsync.js');

/** The CLI runs from exporter/dist; say how to build it instead of failing obscurely. */
export function assertBuilt(): void {
  if (!existsSync(path.join(root, 'exporter/dist/cli/main.js'))) {
    throw new Error('exporter/dist is missing: run `npm run build` (npm test does it) before the process tests');
  }
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stderr JSON log line that satisfies `match`. */
  waitForLog: (match: (entry: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Graceful stop (SIGTERM) if it still runs; resolves when it has exited. */
  stop: () => Promise<void>;
}

/** Starts `mailsync <args>` as a real process with `env` added to this one's environment. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  assertBuilt();
  const child = spawn(process.execPath, [MAILSYNC_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { match: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  const scan = (stream: string, chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const w of [...waiters]) {
        if (w.match(entry)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(entry);
        }
      }
    }
    return stream + chunk;
  };
  child.stdout?.on('data', (d: Buffer) => (out = scan(out, d.toString())));
  child.stderr?.on('data', (d: Buffer) => (err = scan(err, d.toString())));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    waitForLog: (match, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
        waiters.push({ match, resolve: (e) => { clearTimeout(timer); resolve(e); } });
      }),
  };
}

/** Runs `mailsync <args>` to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = startCli(args, env);
  const { code } = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/** One call to a running mailsync's admin API with a bearer token; JSON body when given. */
export function callApi(url: string, token: string, method: 'GET' | 'POST', route: string, body?: object): Promise<Response> {
  return fetch(`${url}/api${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}
