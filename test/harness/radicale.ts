import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { makeCert, type CertFiles, type CertOptions } from './tls.js';
import { waitFor } from './wait.js';

export interface RadicaleUser {
  name: string;
  password: string;
}

export interface RadicaleOptions {
  /** Also listen with TLS, with this certificate (default: valid for localhost and 127.0.0.1). */
  tls?: boolean;
  cert?: CertOptions;
}

export interface DavReply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A real Radicale (Debian's radicale 3.1) as an ordinary process on 127.0.0.1: htpasswd users with
 * bcrypt hashes, `owner_only` rights (a user reaches only their own collections: another user's
 * home is a 403), storage in a temporary folder that `stop()` removes. With `tls`, a second
 * process serves the same storage over TLS with the harness's self-signed certificate.
 */
export class Radicale {
  readonly dir: string;
  readonly cert: CertFiles;
  port = 0;
  tlsPort = 0;
  readonly #children: { child: ChildProcess; exited: Promise<void> }[] = [];

  private constructor(dir: string, cert: CertOptions) {
    this.dir = dir;
    this.cert = makeCert(dir, 'server', cert);
  }

  static async start(users: RadicaleUser[], options: RadicaleOptions = {}): Promise<Radicale> {
    const r = new Radicale(mkdtempSync(path.join(tmpdir(), 'mailsync-radicale-')), options.cert ?? {});
    try {
      writeFileSync(r.#users, '');
      for (const u of users) r.addUser(u);
      r.port = await freePort();
      await r.#spawn(r.port, false);
      if (options.tls) {
        r.tlsPort = await freePort();
        await r.#spawn(r.tlsPort, true);
      }
    } catch (error) {
      await r.stop();
      throw error;
    }
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get tlsUrl(): string {
    return `https://127.0.0.1:${this.tlsPort}/`;
  }

  get #users(): string {
    return path.join(this.dir, 'users');
  }

  /** Adds a user (Radicale re-reads the htpasswd file on each login). */
  addUser(user: RadicaleUser): void {
    // Debian's radicale runs on the system Python, whose bcrypt module is python3-bcrypt.
    const hash = execFileSync('/usr/bin/python3', ['-c', 'import bcrypt,sys;print(bcrypt.hashpw(sys.argv[1].encode(),bcrypt.gensalt(4)).decode())', user.password])
      .toString().trim();
    appendFileSync(this.#users, `${user.name}:${hash}\n`);
  }

  async #spawn(port: number, tls: boolean): Promise<void> {
    const args = [
      '--server-hosts', `127.0.0.1:${port}`, '--auth-type', 'htpasswd', '--auth-htpasswd-filename', this.#users,
      '--auth-htpasswd-encryption', 'bcrypt', '--storage-filesystem-folder', path.join(this.dir, 'collections'),
      '--rights-type', 'owner_only', '--logging-level', 'warning',
      ...(tls ? ['--server-ssl', '--server-certificate', this.cert.cert, '--server-key', this.cert.key] : []),
    ];
    const child = spawn('/usr/bin/radicale', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.#children.push({ child, exited });
    const failed = exited.then(() => {
      throw new Error(`radicale exited during start: ${output}`);
    });
    const answers = () => this.#probe(port, tls);
    await Promise.race([waitFor(answers, { what: `radicale on 127.0.0.1:${port}`, timeoutMs: 15_000 }), failed]);
  }

  #probe(port: number, tls: boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const make = tls ? httpsRequest : request;
      const req = make({ host: '127.0.0.1', port, path: '/', method: 'OPTIONS', rejectUnauthorized: false, timeout: 1_000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }

  /** One WebDAV request as `user`, straight over HTTP (seeding and inspecting, not through mailsync). */
  dav(user: RadicaleUser, method: string, urlPath: string, body = '', headers: Record<string, string> = {}): Promise<DavReply> {
    return new Promise((resolve, reject) => {
      const auth = Buffer.from(`${user.name}:${user.password}`).toString('base64');
      const req = request({
        host: '127.0.0.1', port: this.port, path: urlPath, method,
        headers: { authorization: `Basic ${auth}`, 'content-length': Buffer.byteLength(body), ...headers },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async #ok(reply: Promise<DavReply>, what: string): Promise<DavReply> {
    const r = await reply;
    if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    return r;
  }

  /** A calendar (`components` VEVENT, VTODO or both) at /user/name/. */
  async makeCalendar(user: RadicaleUser, name: string, components: ('VEVENT' | 'VTODO')[] = ['VEVENT']): Promise<string> {
    const href = `/${user.name}/${name}/`;
    const comps = components.map((c) => `<C:comp name="${c}"/>`).join('');
    await this.#ok(this.dav(user, 'MKCALENDAR', href, `<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">`
      + `<D:set><D:prop><C:supported-calendar-component-set>${comps}</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
    { 'content-type': 'application/xml' }), `MKCALENDAR ${href}`);
    return href;
  }

  async makeAddressBook(user: RadicaleUser, name: string): Promise<string> {
    const href = `/${user.name}/${name}/`;
    await this.#ok(this.dav(user, 'MKCOL', href, '<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
      + '<D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>',
    { 'content-type': 'application/xml' }), `MKCOL ${href}`);
    return href;
  }

  /** Writes an item as is (the server keeps what it accepts); returns its ETag. */
  async put(user: RadicaleUser, href: string, data: string): Promise<string> {
    const type = data.includes('BEGIN:VCARD') ? 'text/vcard' : 'text/calendar';
    const r = await this.#ok(this.dav(user, 'PUT', href, data, { 'content-type': `${type}; charset=utf-8` }), `PUT ${href}`);
    return String(r.headers.etag ?? '');
  }

  async remove(user: RadicaleUser, href: string): Promise<void> {
    await this.#ok(this.dav(user, 'DELETE', href), `DELETE ${href}`);
  }

  async get(user: RadicaleUser, href: string): Promise<DavReply> {
    return this.dav(user, 'GET', href);
  }

  /** Writes a dead property on a collection, as another deployment would. */
  async setProperty(user: RadicaleUser, href: string, namespace: string, name: string, value: string): Promise<void> {
    await this.#ok(this.dav(user, 'PROPPATCH', href, `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:X="${namespace}">`
      + `<D:set><D:prop><X:${name}>${value}</X:${name}></D:prop></D:set></D:propertyupdate>`, { 'content-type': 'application/xml' }), `PROPPATCH ${href}`);
  }

  /** Stops the plain listener only (the server is "down"); `restart()` brings it back on the same port. */
  async stopPlain(): Promise<void> {
    const first = this.#children.shift();
    if (!first) return;
    first.child.kill('SIGTERM');
    await first.exited;
  }

  async restartPlain(): Promise<void> {
    await this.#spawn(this.port, false);
    // Keep the plain listener first, as stopPlain expects.
    this.#children.unshift(this.#children.pop()!);
  }

  async stop(): Promise<void> {
    for (const { child, exited } of this.#children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A minimal valid appointment; `organizer: false` with attendees is the documented Organizer case. */
export function vevent(uid: string, summary: string, options: { organizer?: boolean; attendees?: string[] } = {}): string {
  const attendees = options.attendees ?? [];
  const org = options.organizer ?? true;
  return [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//mailsync tests//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z',
    'DTSTART:20260105T100000Z', 'DTEND:20260105T110000Z', `SUMMARY:${summary}`,
    ...(org && attendees.length > 0 ? ['ORGANIZER:mailto:organizer@example.test'] : []),
    ...attendees.map((a) => `ATTENDEE:mailto:${a}`),
    'END:VEVENT', 'END:VCALENDAR', '',
  ].join('\r\n');
}

export function vtodo(uid: string, summary: string): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//mailsync tests//EN', 'BEGIN:VTODO', `UID:${uid}`, 'DTSTAMP:20260101T000000Z',
    `SUMMARY:${summary}`, 'STATUS:NEEDS-ACTION', 'END:VTODO', 'END:VCALENDAR', ''].join('\r\n');
}

export function vcard(uid: string, name: string): string {
  return ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${name}`, `N:${name};;;;`, `EMAIL:${uid}@example.test`, 'END:VCARD', ''].join('\r\n');
}
