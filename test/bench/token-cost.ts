import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { TokenProvider } from '../../exporter/src/auth/tokens.js';
import { parseConfig, type Config } from '../../exporter/src/config/index.js';
import { createLogger } from '../../exporter/src/log.js';
import { loginFor, withAccessToken } from '../../exporter/src/protocols/login.js';
import { openStore } from '../../exporter/src/store/index.js';
import { TokenService } from '../harness/token-service.js';
import { fmt, progress, sizeFromEnv, timed } from './common.js';

export interface TokenCost {
  /** Token requests the endpoint received for all mailboxes over all cycles. */
  tokenRequests: number;
  /** Time to obtain every mailbox's token once (one cycle of the fleet), mean over the cycles. */
  msPerCycle: number;
}

/** The poll interval between cycles and the lifetime both big providers give app-only tokens. */
const CYCLE_SECONDS = 300;
const LIFETIME_SECONDS = 3_600;

/**
 * The cost of OAuth2 at `mailboxes` mailboxes of one client-credentials login (Microsoft 365
 * app-only): every mailbox's cycle asks for its login's token, `cycles` cycles 5 minutes apart on
 * a simulated clock, against the harness token service (HTTPS on loopback, 1-hour tokens). With
 * `cache: false`, each mailbox's cycle has a token cache of its own: one request per mailbox per
 * cycle, what a login without the shared cache would cost (the baseline).
 */
export async function measureTokenCost(mailboxes: number, cycles = 10, options: { cache?: boolean } = {}): Promise<TokenCost> {
  const service = await TokenService.start();
  const store = await openStore({ path: ':memory:' });
  try {
    service.lifetimeSeconds = LIFETIME_SECONDS;
    service.addClient('bench-app', { secret: 'bench-secret' });
    const config = fleetConfig(service, mailboxes);
    let now = Date.now();
    const deps = { store, clock: { now: () => now }, logger: createLogger('silent'), encryptionKey: () => undefined };
    const shared = new TokenProvider(deps);
    const profile = config.profiles[0]!;
    let total = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const { seconds } = await timed(() => Promise.all(config.mailboxes.map(async (m) => {
        const tokens = options.cache === false ? new TokenProvider(deps) : shared;
        await withAccessToken(loginFor(m, profile).login, tokens);
      })));
      total += seconds;
      now += CYCLE_SECONDS * 1_000;
    }
    return { tokenRequests: service.requests.length, msPerCycle: (total / cycles) * 1_000 };
  } finally {
    await store.close();
    await service.stop();
  }
}

function fleetConfig(service: TokenService, mailboxes: number): Config {
  process.env.BENCH_TOKEN_SECRET = 'bench-secret';
  const text = stringify({
    organization: { id: 'bench' },
    profiles: [{
      id: 'm365', incoming: { host: 'outlook.office365.com' },
      auth: { mode: 'oauth2', oauth2: { grant: 'client_credentials', tokenUrl: service.microsoftUrl(), clientId: 'bench-app', clientSecret: '${BENCH_TOKEN_SECRET}', scope: 'https://outlook.office365.com/.default', caFile: service.cert.cert } },
    }],
    mailboxes: Array.from({ length: mailboxes }, (_, i) => ({ id: `m${i}`, address: `user${i}@bench.example`, profile: 'm365' })),
  });
  return parseConfig(text, '/bench/token-cost.yaml');
}

async function main(): Promise<void> {
  const mailboxes = sizeFromEnv('BENCH_MAILBOXES', 1_000);
  const cycles = sizeFromEnv('BENCH_CYCLES', 24);
  progress(`${mailboxes} mailboxes on one client-credentials login, ${cycles} cycles ${CYCLE_SECONDS} s apart, ${LIFETIME_SECONDS} s tokens`);
  const cached = await measureTokenCost(mailboxes, cycles);
  progress(`shared cache: ${cached.tokenRequests} token requests, ${fmt(cached.msPerCycle, 2)} ms per cycle of the fleet`);
  const baseline = await measureTokenCost(mailboxes, Math.min(cycles, 2), { cache: false });
  const perMailboxCycle = baseline.tokenRequests / Math.min(cycles, 2) / mailboxes;
  progress(`baseline (a cache per mailbox cycle): ${baseline.tokenRequests} requests (${fmt(perMailboxCycle, 2)} per mailbox per cycle), ${fmt(baseline.msPerCycle, 1)} ms per cycle`);
  // A token is used until 5 minutes before it ends: each such window needs one request for the whole fleet.
  const windows = Math.ceil((cycles * CYCLE_SECONDS) / (LIFETIME_SECONDS - 300));
  console.log(`RESULT token_requests=${cached.tokenRequests} token_windows=${windows} mailboxes=${mailboxes} cycles=${cycles} ms_per_cycle=${fmt(cached.msPerCycle, 3)} baseline_ms_per_cycle=${fmt(baseline.msPerCycle, 1)} ratio=${fmt(baseline.msPerCycle / cached.msPerCycle, 1)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
