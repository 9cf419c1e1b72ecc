import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort, waitForGreeting } from './ports.js';
import { makeCert, type CertFiles, type CertOptions } from './tls.js';
import { waitFor } from './wait.js';

/** Dovecot refuses to run mail processes as root; this uid/gid needs no /etc/passwd entry. */
const MAIL_UID = 5000;

/** Messages seedMaildir has written in this process: part of each file's unique name. */
let seeded = 0;

export interface DovecotOptions {
  /** Extra lines appended to dovecot.conf (benchmarks raise process limits here). */
  extraConfig?: string;
  /** The server certificate (default: valid for localhost and 127.0.0.1 for 30 days). */
  cert?: CertOptions;
  /**
   * Per-user annotations (RFC 5464 METADATA), where the ownership mark lives (default on); off is
   * a server that cannot be marked; `failing` advertises METADATA but cannot store an entry (its
   * dictionary file is unwritable: SETMETADATA answers NO), as servers that refuse the mark do.
   */
  metadata?: boolean | 'failing';
  /**
   * The personal namespace: Dovecot's `/` with no prefix (default), or `INBOX.` with separator `.`
   * (Courier's and Cyrus's layout: `Archive` is `INBOX.Archive`), with special-use folders.
   */
  namespace?: 'default' | 'inbox-prefix';
  /**
   * POP3 listeners too (Debian's dovecot-pop3d): `pop3Port` plain with STLS, `pop3sPort` implicit
   * TLS; `pop3_uidl_format` as shipped, and the maildrop locked per session as RFC 1939 describes.
   */
  pop3?: boolean;
  /**
   * An LMTP listener on `lmtpPort` (Debian's dovecot-lmtpd): how an MTA such as Postfix hands mail
   * to Dovecot for delivery, over a connection it keeps, with no process started per message.
   */
  lmtp?: boolean;
  /**
   * Dovecot's oauth2 passdb: XOAUTH2 and OAUTHBEARER logins checked by RFC 7662 introspection
   * (POST) at this URL, over HTTPS trusting `caFile` (the token service's certificate).
   */
  oauth2?: { introspectionUrl: string; caFile: string; tenantDomain: string };
}

export interface DovecotUser {
  name: string;
  password: string;
}

/**
 * A real Dovecot (Debian's dovecot-imapd) run as an ordinary process on 127.0.0.1: one listener
 * for plaintext and STARTTLS, one for implicit TLS, passwd-file users and a master user for
 * impersonation. Everything lives in one temporary folder that `stop()` removes.
 */
export class Dovecot {
  readonly dir: string;
  readonly cert: CertFiles;
  readonly master: DovecotUser = { name: 'mailsync-master', password: 'master-secret' };
  imapPort = 0;
  imapsPort = 0;
  /** Plain POP3 with STLS, and implicit TLS (995-style); 0 unless started with `pop3: true`. */
  pop3Port = 0;
  pop3sPort = 0;
  /** LMTP for delivering mail as an MTA does; 0 unless started with `lmtp: true`. */
  lmtpPort = 0;
  #process: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  /** The master process's id (its children are the login, auth and imap processes): for CPU accounting in benchmarks. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  private constructor(dir: string, cert: CertOptions) {
    this.dir = dir;
    this.cert = makeCert(dir, 'server', cert);
  }

  static async start(options: DovecotOptions = {}): Promise<Dovecot> {
    const dovecot = new Dovecot(mkdtempSync(path.join(tmpdir(), 'mailsync-dovecot-')), options.cert ?? {});
    try {
      await dovecot.#start(options);
    } catch (error) {
      await dovecot.stop();
      throw error;
    }
    return dovecot;
  }

  get mailRoot(): string {
    return path.join(this.dir, 'mail');
  }

  get logFile(): string {
    return path.join(this.dir, 'dovecot.log');
  }

  async #start(options: DovecotOptions): Promise<void> {
    this.imapPort = await freePort();
    this.imapsPort = await freePort();
    if (options.pop3) {
      this.pop3Port = await freePort();
      this.pop3sPort = await freePort();
    }
    if (options.lmtp) this.lmtpPort = await freePort();
    // Dovecot's auth process runs as the dovecot user and must reach the passwd files.
    chmodSync(this.dir, 0o755);
    for (const sub of ['run', 'state', 'mail']) mkdirSync(path.join(this.dir, sub), { recursive: true });
    chownSync(this.mailRoot, MAIL_UID, MAIL_UID);
    mkdirSync(path.join(this.dir, 'users.d'));
    writeFileSync(path.join(this.dir, 'masters'), `${this.master.name}:{PLAIN}${this.master.password}\n`);
    if (options.oauth2) writeFileSync(path.join(this.dir, 'oauth2.conf.ext'), oauth2Config(options.oauth2));
    writeFileSync(path.join(this.dir, 'dovecot.conf'), this.#config(options.extraConfig ?? '', options.metadata ?? true, options.pop3 ?? false, options.namespace ?? 'default', options.oauth2 !== undefined) + (options.lmtp ? this.#lmtpConfig() : ''));
    const child = spawn('dovecot', ['-F', '-c', path.join(this.dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#process = child;
    let output = '';
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const failed = this.#exited.then(() => {
      throw new Error(`dovecot exited during start: ${output}${this.#log()}`);
    });
    await Promise.race([waitForGreeting(this.imapPort, '* OK'), failed]);
  }

  #log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  #config(extra: string, metadata: boolean | 'failing', pop3: boolean, namespace: 'default' | 'inbox-prefix', oauth2: boolean): string {
    const d = this.dir;
    return `
base_dir = ${d}/run
state_dir = ${d}/state
log_path = ${d}/dovecot.log
listen = 127.0.0.1
protocols = imap${pop3 ? ' pop3' : ''}
ssl = yes
ssl_cert = <${this.cert.cert}
ssl_key = <${this.cert.key}
disable_plaintext_auth = no
auth_mechanisms = plain login${oauth2 ? ' xoauth2 oauthbearer' : ''}
auth_master_user_separator = *
mail_location = maildir:${d}/mail/%u
first_valid_uid = 1000
mail_fsync = never
# Real servers delay failed logins; tests of wrong passwords need not wait for it.
auth_failure_delay = 0
# IDLE learns of new mail through inotify, but the instances are per user (128 by default on
# Debian) and every harness Dovecot runs its mail as one uid: with a few hundred sessions in IDLE
# (a soak, a benchmark) they run out and Dovecot falls back to checking every 30 s. Check every
# second instead, so a test never depends on how many instances are left.
mailbox_idle_check_interval = 1 secs
${oauth2 ? `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${d}/oauth2.conf.ext
}
` : ''}passdb {
  driver = passwd-file
  master = yes
  pass = yes
  args = scheme=PLAIN ${d}/masters
}
# One file per user: Dovecot re-reads a changed passwd-file at most once a second, so users added
# by a test in quick succession would otherwise be missed.
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${d}/users.d/%u
}
userdb {
  driver = passwd-file
  args = ${d}/users.d/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${this.imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${this.imapsPort}
    ssl = yes
  }
  chroot =
}
service anvil {
  chroot =
  # Dovecot slows down logins from an address after failed ones (2 s, doubling up to 15 s); the
  # fault tests fail logins from 127.0.0.1 on purpose. Mode 0 is Dovecot's documented way to turn
  # the auth penalty off.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service stats {
  chroot =
}
${metadata ? `# Per-user annotations (RFC 5464 METADATA), where mailsync keeps its ownership mark.
mail_attribute_dict = file:${metadata === 'failing' ? '/proc/mailsync-unwritable/attributes' : '%h/dovecot-attributes'}
protocol imap {
  imap_metadata = yes
}` : '# No METADATA: a server that cannot store the ownership mark.'}
${namespace === 'inbox-prefix' ? Dovecot.#inboxPrefixNamespace : `namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
}`}
${pop3 ? this.#pop3Config() : ''}
${extra}
`;
  }

  /** Personal folders under `INBOX.`, special-use names differing from Dovecot's defaults (as Exchange's and Gmail's do). */
  static readonly #inboxPrefixNamespace = `namespace inbox {
  inbox = yes
  prefix = INBOX.
  separator = .
  mailbox "Sent Items" {
    special_use = \\Sent
    auto = create
  }
  mailbox "Old Mail" {
    special_use = \\Archive
    auto = create
  }
  mailbox Archive {
    auto = create
  }
}`;

  #lmtpConfig(): string {
    return `
# LMTP (dovecot-lmtpd): recipients are the harness's user names, with or without a domain.
protocols = $protocols lmtp
postmaster_address = postmaster@mailsync.test
protocol lmtp {
  auth_username_format = %Ln
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${this.lmtpPort}
  }
}
`;
  }

  #pop3Config(): string {
    return `
# POP3 (dovecot-pop3d): pop3_uidl_format stays Debian's default (%08Xu%08Xv: UID and UIDVALIDITY).
pop3_lock_session = yes
protocol pop3 {
  # A second session on a locked maildrop answers [IN-USE] after this wait (default: minutes).
  mail_max_lock_timeout = 1s
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${this.pop3Port}
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = ${this.pop3sPort}
    ssl = yes
  }
  chroot =
}
`;
  }

  /** Adds a user with its own passwd file; usable at once. */
  addUser(name: string, password = `pw-${name}`): DovecotUser {
    if (!/^[a-z0-9.@_-]+$/.test(name)) throw new Error(`harness user names are [a-z0-9.@_-]+, not "${name}"`);
    const home = path.join(this.mailRoot, name);
    writeFileSync(path.join(this.dir, 'users.d', name), `${name}:{PLAIN}${password}:${MAIL_UID}:${MAIL_UID}::${home}::\n`);
    return { name, password };
  }

  /**
   * Gives an existing user a new password and returns once Dovecot logs in with it. Dovecot looks
   * at a passwd-file again at most once a second, so a rewrite within the second of the last
   * login would otherwise go unseen by the next one; `doveadm auth test` asks the same auth
   * process a login asks.
   */
  async changePassword(name: string, password: string): Promise<DovecotUser> {
    const user = this.addUser(name, password);
    await waitFor(() => this.#accepts(name, password), { what: `Dovecot to accept ${name}'s new password` });
    return user;
  }

  #accepts(name: string, password: string): boolean {
    try {
      this.doveadm(['auth', 'test', name, password]);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs doveadm against this instance (as root, which doveadm needs to switch to the mail user). */
  doveadm(args: string[]): string {
    return execFileSync('doveadm', ['-c', path.join(this.dir, 'dovecot.conf'), ...args], { encoding: 'utf8', stdio: 'pipe' });
  }

  /** Delivers a message into a user's folder with `doveadm save`, as a local MTA would (no IMAP login). */
  deliver(user: string, folder: string, raw: Buffer): void {
    execFileSync('doveadm', ['-c', path.join(this.dir, 'dovecot.conf'), 'save', '-u', user, '-m', folder], { input: raw, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** How many messages of a user's folder carry this Message-ID (doveadm search, no IMAP login). */
  countMessageId(user: string, folder: string, messageId: string): number {
    const out = this.doveadm(['search', '-u', user, 'mailbox', folder, 'header', 'Message-ID', messageId]);
    return out.split('\n').filter((l) => l.trim() !== '').length;
  }

  /** A logged-in imapflow client for arranging test data over real IMAP. */
  async client(user: DovecotUser): Promise<ImapFlow> {
    const client = new ImapFlow({
      host: '127.0.0.1', port: this.imapPort, secure: false, doSTARTTLS: false,
      auth: { user: user.name, pass: user.password }, logger: false, disableAutoIdle: true,
    });
    await client.connect();
    return client;
  }

  /** Appends messages to a folder (created when missing) and returns their UIDs. */
  async append(user: DovecotUser, folder: string, messages: (string | Buffer)[]): Promise<number[]> {
    const client = await this.client(user);
    try {
      if (folder !== 'INBOX') await client.mailboxCreate(folder).catch(() => undefined);
      const uids: number[] = [];
      for (const m of messages) {
        const res = await client.append(folder, m);
        if (res && typeof res === 'object' && res.uid) uids.push(res.uid);
      }
      return uids;
    } finally {
      await client.logout();
    }
  }

  /**
   * Writes messages straight into a user's Maildir (Dovecot assigns UIDs when it next looks):
   * fast enough to seed thousands of messages for a benchmark.
   */
  seedMaildir(user: string, messages: Iterable<Buffer>, folder = 'INBOX'): number {
    const base = path.join(this.mailRoot, user);
    const box = folder === 'INBOX' ? base : path.join(base, `.${folder}`);
    // Each path written here is given to the mail uid as it is made: a `chown -R` process per user
    // took ~10 minutes for bench:fleet's 10,000 users.
    const own = (p: string) => chownSync(p, MAIL_UID, MAIL_UID);
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(path.join(box, sub), { recursive: true });
    for (const dir of new Set([base, box, ...['cur', 'new', 'tmp'].map((sub) => path.join(box, sub))])) own(dir);
    let n = 0;
    const stamp = Math.floor(Date.now() / 1000);
    for (const m of messages) {
      n += 1;
      // G: a file name per message of the process, not of the call: a second call within the same
      // second wrote the first call's names again, replacing its messages.
      seeded += 1;
      const file = path.join(box, 'cur', `${stamp}.M${seeded}P${process.pid}.mailsync,S=${m.length}:2,S`);
      writeFileSync(file, m);
      own(file);
    }
    return n;
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The oauth2 passdb's settings (Dovecot 2.3): RFC 7662 introspection by POST; `username` in the answer is the token's domain. */
function oauth2Config(o: { introspectionUrl: string; caFile: string; tenantDomain: string }): string {
  return `introspection_mode = post
introspection_url = ${o.introspectionUrl}
# The tenant's domain, a constant: an app-only token (client credentials) names no user, only its
# tenant, and Dovecot 2.3.19's oauth2 passdb expands no %-variables here (seen: username_format
# %Ld gives '', a %u in introspection_url crashes the auth process). The SMTP lab checks the user.
username_format = ${o.tenantDomain}
username_attribute = username
active_attribute = active
active_value = true
tls_ca_cert_file = ${o.caFile}
`;
}
