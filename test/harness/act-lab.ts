import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { ActRunner } from '../../exporter/src/act/index.js';
import { systemClock, type Clock } from '../../exporter/src/clock.js';
import { loadConfigFile, type Config } from '../../exporter/src/config/index.js';
import type { DirectionDeps } from '../../exporter/src/directions/contract.js';
import { createDirections } from '../../exporter/src/directions/registry.js';
import { createTurn } from '../../exporter/src/directions/turn.js';
import { createLogger } from '../../exporter/src/log.js';
import { ActItemOperations, type ActPushBody } from '../../exporter/src/mailboxes/act-items.js';
import { createAutodiscover } from '../../exporter/src/protocols/autodiscover.js';
import { openStore } from '../../exporter/src/store/index.js';
import { runTestEnable } from '../../exporter/src/test-enable/run.js';

export interface ActLabMailbox {
  id: string;
  /** The Radicale login. */
  user: string;
  password: string;
  address?: string;
  profile?: string;
}

export interface ActLabOptions {
  mailboxes: ActLabMailbox[];
  /** Profiles by id with their `act:` section; the default `dav` profile points at `url`. */
  profiles?: Record<string, Record<string, unknown>>;
  url?: string;
  organization?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

const silent = createLogger('silent');

/** The YAML config of an ACT-only lab (incoming off; the IMAP host is never contacted). */
export function writeActConfig(options: ActLabOptions): { file: string; config: Config; dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailsync-act-lab-'));
  const env: NodeJS.ProcessEnv = {};
  const profiles = Object.entries({ dav: { act: { url: options.url, requestTimeoutSeconds: 5 } }, ...options.profiles }).map(([id, p]) => ({
    id, incoming: { host: 'imap.invalid' }, auth: { mode: 'mailbox' }, ...p,
  }));
  const doc = {
    server: { listen: '127.0.0.1:0' },
    store: { path: './mailsync.db' },
    log: { level: 'warn' },
    organization: { id: 'lab', processOnlyApproved: false, allowNonTlsServers: true, allowCredentialsOverInsecureChannel: true, ...options.organization },
    profiles,
    mailboxes: options.mailboxes.map((m) => {
      const envName = `ACT_PW_${m.id.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;
      env[envName] = m.password;
      return {
        id: m.id, address: m.address ?? `${m.user}@lab.example`, profile: m.profile ?? 'dav', incoming: false, act: true,
        credentials: { username: m.user, password: `\${${envName}}` },
      };
    }),
    ...options.extra,
  };
  const file = path.join(dir, 'mailsync.yaml');
  writeFileSync(file, stringify(doc));
  return { file, dir, env, config: loadConfigFile(file, { env: { ...process.env, ...env } }) };
}

/** ACT cycles in this process with the production code against a real Radicale. */
export async function openActLab(options: ActLabOptions, clock: Clock = systemClock) {
  const { config, dir } = writeActConfig(options);
  const store = await openStore({ path: path.join(dir, 'mailsync.db') });
  const autodiscover = createAutodiscover(config.autodiscover, clock);
  const deps: DirectionDeps = { store, clock, logger: silent, autodiscover: () => autodiscover };
  const directions = createDirections(deps, () => 10);
  const act = directions.get('act') as ActRunner;
  const turn = createTurn(act, () => config, deps);
  const items = new ActItemOperations({ config: () => config, store, clock, wakeAct: () => undefined });
  const find = (id: string) => {
    const mailbox = config.mailboxes.find((m) => m.id === id);
    if (!mailbox) throw new Error(`no mailbox ${id} in the lab`);
    return { mailbox, profile: config.profiles.find((p) => p.id === mailbox.profile)! };
  };
  return {
    config, store, act,
    /** One scheduled ACT turn: the lifecycle gate, then the cycle. */
    turn(id: string, signal?: AbortSignal) {
      const { mailbox, profile } = find(id);
      return turn(mailbox, profile, signal);
    },
    async testEnable(id: string, thisOrgOnly = false) {
      const { mailbox, profile } = find(id);
      await store.lifecycle.requestTest(id, 'test', thisOrgOnly, clock.now());
      return runTestEnable(mailbox, profile, config, directions, deps);
    },
    queue(id: string, body: ActPushBody) {
      return items.queue(id, { name: 'test', role: 'operator' }, body);
    },
    state(id: string) {
      return store.runs.getDirectionState(id, 'act');
    },
    /** HTTP requests the direction made so far (all profiles). */
    requests(): number {
      return [...config.profiles].reduce((n, p) => n + (p.act ? act.connections.client(p).requests : 0), 0);
    },
    async close() {
      await Promise.all([...directions.values()].map((d) => d.close()));
      await store.close();
    },
  };
}

export type ActLab = Awaited<ReturnType<typeof openActLab>>;
