import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type Running } from '../harness/cli.js';
import { freePort } from '../harness/ports.js';
import { makeCert, type CertFiles } from '../harness/tls.js';
import { waitFor } from '../harness/wait.js';

// mailsync's --web.config.file against Debian's prometheus-node-exporter (exporter-toolkit) on the
// same files: every fixture must pass `promtool check web-config`, and each request must get the
// same answer from both, an HTTP status or no HTTP answer at all (a refused TLS handshake).

const PASSWORD = 'scrape-secret';
let dir: string;
let server: CertFiles;
let client: CertFiles;
let stranger: CertFiles;
const started: (Running | ChildProcess)[] = [];

interface Probe {
  name: string;
  scheme: 'http' | 'https';
  auth?: string;
  cert?: CertFiles;
}

/** The fixtures, and the requests each one is compared on. */
function fixtures(hash: string): { name: string; yaml: string; probes: Probe[] }[] {
  const users = `basic_auth_users:\n  prometheus: ${hash}\n`;
  const tls = `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n`;
  return [
    { name: 'basic', yaml: users, probes: [
      { name: 'no credentials', scheme: 'http' },
      { name: 'wrong password', scheme: 'http', auth: 'prometheus:wrong' },
      { name: 'unknown user', scheme: 'http', auth: `nobody:${PASSWORD}` },
      { name: 'right password', scheme: 'http', auth: `prometheus:${PASSWORD}` },
    ] },
    { name: 'tls-basic', yaml: tls + users, probes: [
      { name: 'plain HTTP to the TLS port', scheme: 'http', auth: `prometheus:${PASSWORD}` },
      { name: 'no credentials', scheme: 'https' },
      { name: 'wrong password', scheme: 'https', auth: 'prometheus:wrong' },
      { name: 'right password', scheme: 'https', auth: `prometheus:${PASSWORD}` },
    ] },
    { name: 'mtls', yaml: `${tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client.crt\n  min_version: TLS12\n`, probes: [
      { name: 'client cert required and missing', scheme: 'https' },
      { name: 'client cert not from the CA', scheme: 'https', cert: stranger },
      { name: 'client cert from the CA', scheme: 'https', cert: client },
    ] },
    { name: 'any-cert', yaml: `${tls}  client_auth_type: RequireAnyClientCert\n`, probes: [
      { name: 'client cert required and missing', scheme: 'https' },
      { name: 'any client cert', scheme: 'https', cert: stranger },
    ] },
  ];
}

/** One GET /metrics; the status, or "no HTTP answer" when the connection ends without one. */
function probe(port: number, p: Probe): Promise<number | string> {
  return new Promise((resolve) => {
    const options = {
      host: '127.0.0.1', port, path: '/metrics', agent: false as const,
      headers: p.auth ? { authorization: `Basic ${Buffer.from(p.auth).toString('base64')}` } : {},
      ...(p.scheme === 'https' ? { ca: readFileSync(server.cert), servername: 'localhost', ...(p.cert ? { cert: readFileSync(p.cert.cert), key: readFileSync(p.cert.key) } : {}) } : {}),
    };
    const req = (p.scheme === 'https' ? https : http).get(options, (res) => {
      res.resume();
      resolve(res.statusCode ?? 'no status');
    });
    req.on('error', () => resolve('no HTTP answer'));
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

async function startNodeExporter(file: string): Promise<number> {
  const port = await freePort();
  const child = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`, `--web.config.file=${file}`, '--collector.disable-defaults'], { stdio: 'ignore' });
  started.push(child);
  await waitFor(() => accepts(port), { what: `node-exporter on ${port}`, timeoutMs: 15_000 });
  return port;
}

async function startMailsync(name: string, file: string): Promise<number> {
  const config = path.join(dir, `${name}.mailsync.yaml`);
  writeFileSync(config, `organization: { id: acme }\nprofiles: [{ id: p, incoming: { host: imap.example.com } }]\nstore: { path: ${path.join(dir, `${name}.db`)} }\nserver: { listen: "127.0.0.1:0" }\n`);
  const run = startCli(['run', '--config', config, '--web.config.file', file]);
  started.push(run);
  const { url } = await run.waitForLog((e) => e.msg === 'mailsync started');
  return Number(new URL(String(url)).port);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mailsync-web-'));
  server = makeCert(dir, 'server');
  client = makeCert(dir, 'client', { names: ['prometheus.example'] });
  stranger = makeCert(dir, 'stranger', { names: ['stranger.example'] });
});

afterAll(async () => {
  for (const p of started) {
    if ('stop' in p) await p.stop();
    else p.kill('SIGTERM');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('web config: mailsync answers as node_exporter does', () => {
  it.each(['basic', 'tls-basic', 'mtls', 'any-cert'])('%s', async (name) => {
    const fixture = fixtures(bcrypt.hashSync(PASSWORD, 4)).find((f) => f.name === name)!;
    const file = path.join(dir, `${name}.web.yml`);
    writeFileSync(file, fixture.yaml);
    // Throws with promtool's output when it refuses the file.
    execFileSync('promtool', ['check', 'web-config', file], { stdio: 'pipe' });
    const [exporterPort, mailsyncPort] = await Promise.all([startNodeExporter(file), startMailsync(name, file)]);
    const answers = [];
    for (const p of fixture.probes) {
      answers.push({ request: p.name, nodeExporter: await probe(exporterPort, p), mailsync: await probe(mailsyncPort, p) });
    }
    for (const a of answers) expect(a.mailsync, `${name}: ${a.request} (node_exporter: ${a.nodeExporter})`).toBe(a.nodeExporter);
    // The comparison must compare something: each fixture has a refusal and a success.
    expect(answers.some((a) => a.nodeExporter === 200)).toBe(true);
    expect(answers.some((a) => a.nodeExporter !== 200)).toBe(true);
  });

  it('refuses a file promtool refuses, naming the key (exit 2)', async () => {
    const file = path.join(dir, 'bad.web.yml');
    writeFileSync(file, 'basic_auth_users:\n  prometheus: plaintext\n');
    expect(() => execFileSync('promtool', ['check', 'web-config', file], { stdio: 'pipe' })).toThrow();
    const config = path.join(dir, 'bad.mailsync.yaml');
    writeFileSync(config, `organization: { id: acme }\nprofiles: [{ id: p, incoming: { host: imap.example.com } }]\nstore: { path: ${path.join(dir, 'bad.db')} }\nserver: { listen: "127.0.0.1:0" }\n`);
    const run = startCli(['run', '--config', config, '--web.config.file', file]);
    const { code } = await run.exited;
    expect(code).toBe(2);
    expect(run.stderr()).toContain('basic_auth_users.prometheus: must be a bcrypt hash');
  });
});
