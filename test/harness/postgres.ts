import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { makeCert, type CertFiles } from './tls.js';
import { waitFor } from './wait.js';

/** The PostgreSQL server binaries: Debian keeps them per major version under /usr/lib/postgresql. */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error('PostgreSQL is not installed (Debian package postgresql; npm test installs it when run as root)');
  return path.join(root, newest, 'bin');
}

/** initdb and the server refuse to run as root: as root, the harness runs them as `postgres`. */
const asRoot = process.getuid?.() === 0;

/**
 * A real PostgreSQL (Debian's postgresql 15) on 127.0.0.1: a fresh cluster in a temporary folder,
 * `trust` authentication for the loopback (the tests' connection strings carry no password), fsync
 * off (the tests kill runners, not the database's machine). `stop()` and `start()` keep the data, so
 * a test can take the database away for a while; `destroy()` removes it.
 */
export class Postgres {
  readonly dir: string;
  readonly data: string;
  port = 0;
  /** A: with `start({ tls: true })`: the server's self-signed certificate (localhost, 127.0.0.1), the CA clients trust. */
  tls: CertFiles | undefined;
  /** C: with `start({ fullPageWrites: true })`: WAL as a production server writes it (bench:sizing measures it). */
  fullPageWrites = false;
  /** With `start({ statements: true })`: pg_stat_statements is loaded (a database still needs CREATE EXTENSION). */
  statements = false;
  readonly #bin = binDir();
  #running = false;

  private constructor(dir: string) {
    this.dir = dir;
    this.data = path.join(dir, 'data');
  }

  /**
   * `tls`: A: the server also accepts TLS (ssl=on) with a certificate of its own; plain connections still work.
   * `fullPageWrites`: C: keep PostgreSQL's default full_page_writes=on (a whole page in the WAL at its
   * first change after each checkpoint), which tests turn off for speed; it changes the WAL's volume.
   * `statements`: load pg_stat_statements (bench:scale's BENCH_PG_STATEMENTS: where the database's time goes).
   */
  static async start(options: { tls?: boolean; fullPageWrites?: boolean; statements?: boolean } = {}): Promise<Postgres> {
    const p = new Postgres(mkdtempSync(path.join(tmpdir(), 'mailsync-pg-')));
    p.fullPageWrites = options.fullPageWrites ?? false;
    p.statements = options.statements ?? false;
    try {
      if (asRoot) chownSync(p.dir, uid('postgres'), gid('postgres'));
      p.#run('initdb', ['-D', p.data, '-U', 'mailsync', '-A', 'trust', '-E', 'UTF8', '--no-instructions', '--locale=C']);
      if (options.tls) p.#makeTls();
      p.port = await freePort();
      await p.start();
    } catch (error) {
      await p.destroy();
      throw error;
    }
    return p;
  }

  /** A connection string for `database` (default: the cluster's `postgres` database). */
  url(database = 'postgres'): string {
    return `postgresql://mailsync@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates an empty database and returns its connection string: one per test keeps them apart. */
  async createDatabase(name: string): Promise<string> {
    await this.sql(`CREATE DATABASE "${name.replaceAll('"', '')}"`);
    return this.url(name);
  }

  /** One statement as the superuser, outside mailsync (seeding, inspecting, faults). */
  async sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = [], database = 'postgres'): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Ends every other session on `database` (the fault of a restarted or failed-over server). */
  async terminateConnections(database: string): Promise<number> {
    const rows = await this.sql<{ n: string }>(
      'SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
    return Number(rows[0]?.n ?? 0);
  }

  async start(): Promise<void> {
    // Loopback only, the socket in our folder (not /run/postgresql), no fsync: a test server.
    const tls = this.tls ? ` -c ssl=on -c ssl_cert_file=${this.tls.cert} -c ssl_key_file=${this.tls.key}` : '';
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=${this.fullPageWrites ? 'on' : 'off'} -c max_connections=200${tls}${this.statements ? ' -c shared_preload_libraries=pg_stat_statements' : ''}`;
    this.#run('pg_ctl', ['-D', this.data, '-o', options, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
    this.#running = true;
    await waitFor(() => this.#accepts(), { what: `PostgreSQL on 127.0.0.1:${this.port}`, timeoutMs: 30_000, intervalMs: 50 });
  }

  /** Stops the server (fast shutdown: open sessions are ended); the data stays for `start()`. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#run('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    this.#running = false;
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** The server reads its key only if the server's user owns it and nobody else may read it. */
  #makeTls(): void {
    const made = makeCert(mkdtempSync(path.join(tmpdir(), 'mailsync-pg-tls-')), 'postgres');
    const files = { cert: path.join(this.dir, 'server.crt'), key: path.join(this.dir, 'server.key') };
    copyFileSync(made.cert, files.cert);
    copyFileSync(made.key, files.key);
    chmodSync(files.key, 0o600);
    if (asRoot) for (const f of [files.cert, files.key]) chownSync(f, uid('postgres'), gid('postgres'));
    rmSync(path.dirname(made.cert), { recursive: true, force: true });
    this.tls = files;
  }

  async #accepts(): Promise<boolean> {
    try {
      await this.sql('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  #run(command: string, args: string[]): void {
    const file = path.join(this.#bin, command);
    const r = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', file, ...args], { encoding: 'utf8', cwd: this.dir })
      : spawnSync(file, args, { encoding: 'utf8', cwd: this.dir });
    if (r.status !== 0) throw new Error(`${command} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}
