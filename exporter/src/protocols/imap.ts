import type { Socket } from 'node:net';
import { ImapFlow } from 'imapflow';
import type { ChannelPolicy } from './channel.js';
import { clientOptions, type ImapEndpoint, type ImapLogin } from './imap-options.js';
import { resolveFolderName, type ListedFolder } from './folder-names.js';
import { toSequenceSet } from './sequence-set.js';
import type { Logger } from '../log.js';

export type { ChannelPolicy, ImapEndpoint, ImapLogin };

export interface FolderStatus {
  uidValidity: number;
  uidNext: number;
  messages: number;
}

export interface MessageSize {
  uid: number;
  size: number;
}

/** RFC 5464 vendor entry ("vendor." + our name, as the RFC asks for unregistered vendors). */
export const OWNER_ENTRY = '/private/vendor/vendor.mailsync/owner';

/**
 * A logged-in IMAP connection, read-only by construction: folders are opened with EXAMINE and
 * bodies fetched with BODY.PEEK, so flags never change and nothing is deleted. The only writes
 * are the ownership mark (Test & Enable) and the copy of a sent email (`sentCopy: append`).
 */
export class ImapSession {
  readonly #client: ImapFlow;
  /** The server's folders, listed once per session (a kept session lists them once for many cycles). */
  #folders: Promise<ListedFolder[]> | undefined;
  readonly #socketTimeoutMs: number;

  /** Untagged EXISTS that raised the open folder's count, since the session opened (see `newMailReports`). */
  #newMailReports = 0;

  private constructor(client: ImapFlow, socketTimeoutMs: number) {
    this.#client = client;
    this.#socketTimeoutMs = socketTimeoutMs;
    client.on('exists', (e: { count: number; prevCount: number }) => {
      if (e.count > e.prevCount) this.#newMailReports += 1;
    });
  }

  /**
   * How many times the server has reported more messages in the open folder on this session. A
   * cycle that starts on a folder left open (push) compares it before and after: a report during
   * the cycle may concern mail the cycle did not read, so the mailbox is woken again.
   */
  get newMailReports(): number {
    return this.#newMailReports;
  }

  /**
   * The folder this session has open (EXAMINE) and its state as the session sees it: kept current by
   * the server's untagged EXISTS while it is open, so mail is read from it without a STATUS.
   */
  get openFolder(): (FolderStatus & { path: string }) | undefined {
    const box = this.#client.mailbox;
    if (!box) return undefined;
    return { path: box.path, uidValidity: Number(box.uidValidity), uidNext: box.uidNext, messages: box.exists };
  }

  /**
   * Connects, secures and logs in. An abort (the runner is stopping) closes the connection at
   * once instead of waiting for a server that is slow to greet, and rejects with `AbortError`.
   */
  static async open(endpoint: ImapEndpoint, login: ImapLogin, policy: ChannelPolicy, logger: Logger, signal?: AbortSignal): Promise<ImapSession> {
    signal?.throwIfAborted();
    const client = new ImapFlow(clientOptions(endpoint, login, policy, logger));
    // Without a listener an 'error' event would crash the process; the failing command rejects too.
    client.on('error', (error: Error) => logger.debug({ err: error.message }, 'imap connection error'));
    const abort = () => client.close();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await client.connect();
    } catch (error) {
      if (signal?.aborted) throw new DOMException('the runner is stopping', 'AbortError');
      throw error;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    return new ImapSession(client, endpoint.timeouts.socketSeconds * 1_000);
  }

  /**
   * Between cycles. imapflow's socket timeout (for overdue replies) closes a quiet session that is
   * neither idling nor locked, so one kept longer than `socketSeconds` (300 s by default, the
   * default poll interval) died before its next cycle, which logged in afresh: the longer a pass
   * over the fleet, the more logins (docs/performance.md). Parked, TCP keepalive watches instead.
   */
  park(): void {
    this.#socket()?.setTimeout(0).setKeepAlive(true, 60_000);
  }

  unpark(): void {
    this.#socket()?.setTimeout(this.#socketTimeoutMs);
  }

  /** imapflow keeps its socket to itself; this is the one place that reaches it. */
  #socket(): Socket | undefined {
    return (this.#client as unknown as { socket?: Socket }).socket;
  }

  /** False once the server or the network closed the connection. */
  get usable(): boolean {
    return this.#client.usable;
  }

  async status(folder: string): Promise<FolderStatus> {
    const s = await this.#client.status(folder, { uidNext: true, uidValidity: true, messages: true });
    if (s !== false) return { uidValidity: Number(s.uidValidity ?? 0), uidNext: s.uidNext ?? 1, messages: s.messages ?? 0 };
    // imapflow throws NotFound for a missing folder but swallows every other STATUS refusal into
    // `false`, losing the server's words. EXAMINE fails with them (or answers the same question).
    const box = await this.examine(folder);
    await this.leaveFolder();
    return box;
  }

  /**
   * The server's path for a configured folder name: special-use names, the personal namespace's
   * prefix and separator (protocols/folder-names.ts). INBOX needs no LIST.
   */
  async resolveFolder(name: string): Promise<string> {
    if (name.toUpperCase() === 'INBOX') return 'INBOX';
    this.#folders ??= this.#client.list().then((list) => list.map((f) => ({
      path: f.path, delimiter: f.delimiter, specialUse: f.specialUse, flagged: f.specialUseSource === 'extension',
    })));
    // A failed LIST is not kept: the next call asks again.
    this.#folders.catch(() => { this.#folders = undefined; });
    const ns = this.#client.namespace;
    return resolveFolderName(name, await this.#folders, ns ? { prefix: ns.prefix ?? '', delimiter: ns.delimiter ?? '' } : undefined);
  }

  /** Opens a folder read-only (EXAMINE). */
  async examine(folder: string): Promise<FolderStatus> {
    const box = await this.#client.mailboxOpen(folder, { readOnly: true });
    return { uidValidity: Number(box.uidValidity), uidNext: box.uidNext, messages: box.exists };
  }

  /**
   * Leaves the open folder. Dovecot answers STATUS for the selected folder from this session's
   * old view, so a kept session must not stay in a folder or it would never see new mail.
   */
  async leaveFolder(): Promise<void> {
    if (this.#client.mailbox) await this.#client.mailboxClose();
  }

  /** UIDs (with sizes) above `afterUid` in the open folder, ascending. */
  async listAfter(afterUid: number): Promise<MessageSize[]> {
    const out: MessageSize[] = [];
    for await (const m of this.#client.fetch(`${afterUid + 1}:*`, { uid: true, size: true }, { uid: true })) {
      // "n:*" always matches the highest UID, even when it is below n (RFC 3501 6.4.8).
      if (m.uid > afterUid) out.push({ uid: m.uid, size: m.size ?? 0 });
    }
    return out.sort((a, b) => a.uid - b.uid);
  }

  /** UIDs of messages received on or after `date` (server's INTERNALDATE) in the open folder. */
  async searchSince(date: Date): Promise<number[]> {
    const found = await this.#client.search({ since: date }, { uid: true });
    return found ? [...found].sort((a, b) => a - b) : [];
  }

  /** Raw sources of `uids` in the open folder; UIDs expunged meanwhile are simply absent. */
  async *fetchSources(uids: number[]): AsyncGenerator<{ uid: number; source: Buffer; internalDate: number | undefined }> {
    if (uids.length === 0) return;
    for await (const m of this.#client.fetch(toSequenceSet(uids), { uid: true, source: true, internalDate: true }, { uid: true })) {
      // INTERNALDATE is when the server received the message: where the sync lag is measured from.
      const internalDate = m.internalDate instanceof Date ? m.internalDate.getTime() : undefined;
      if (m.source) yield { uid: m.uid, source: m.source, internalDate };
    }
  }

  /**
   * Whether a message with this Message-ID is in `folder` (opened read-only, then left): how an
   * interrupted send is reconciled against the Sent folder.
   */
  async hasMessageId(folder: string, messageId: string): Promise<boolean> {
    await this.examine(await this.resolveFolder(folder));
    try {
      const found = await this.#client.search({ header: { 'message-id': messageId } }, { uid: true });
      return Array.isArray(found) && found.length > 0;
    } finally {
      await this.leaveFolder();
    }
  }

  /**
   * Appends a sent email to the Sent folder, marked read. The one write mailsync does to a
   * mailbox, and only when the profile asks for it (`outgoing.sentCopy: append`).
   */
  async appendSent(folder: string, raw: Buffer, date: Date): Promise<void> {
    await this.#client.append(await this.resolveFolder(folder), raw, ['\\Seen'], date);
  }

  /** True when the server advertises IDLE (RFC 2177): new mail can be pushed instead of polled. */
  get supportsIdle(): boolean {
    return this.#client.capabilities.has('IDLE');
  }

  /**
   * Waits in IDLE on the open folder; resolves when any other command on this session breaks it
   * (imapflow sends DONE first), when the server ends it, or when the connection closes.
   * False when the server refused IDLE.
   */
  async idle(): Promise<boolean> {
    return (await this.#client.idle()) !== false;
  }

  /** Breaks an IDLE in progress, so that the next one is issued afresh. */
  async noop(): Promise<void> {
    await this.#client.noop();
  }

  /** Calls `listener` when the server reports more messages in the open folder (untagged EXISTS). */
  onNewMail(listener: () => void): () => void {
    const exists = (e: { count: number; prevCount: number }) => {
      if (e.count > e.prevCount) listener();
    };
    this.#client.on('exists', exists);
    return () => this.#client.off('exists', exists);
  }

  /** Calls `listener` once when the connection ends, whoever ended it. */
  onClosed(listener: () => void): () => void {
    this.#client.once('close', listener);
    return () => this.#client.off('close', listener);
  }

  /** True when the server stores per-user annotations (RFC 5464 METADATA), where the ownership mark lives. */
  get supportsMetadata(): boolean {
    return this.#client.capabilities.has('METADATA') || this.#client.capabilities.has('METADATA-SERVER');
  }

  /**
   * The deployment that marked this mailbox as its own, or null. The mark is a private server
   * annotation (RFC 5464), so it lives with the mailbox, survives our store, and is visible to any
   * other deployment that logs in as the same user. imapflow has no METADATA command; its
   * low-level `exec` sends ours (kept here, the one place that knows).
   */
  async getOwnerMark(): Promise<string | null> {
    let value: string | null = null;
    const response = await this.#exec('GETMETADATA', [{ type: 'STRING', value: '' }, { type: 'ATOM', value: OWNER_ENTRY }], {
      untagged: {
        // * METADATA "" (/private/vendor/vendor.mailsync/owner "org-id")   (NIL when unset)
        METADATA: async (untagged: { attributes?: unknown[] }) => {
          const list = untagged.attributes?.[1];
          if (!Array.isArray(list)) return;
          for (let i = 0; i + 1 < list.length; i += 2) {
            const key = (list[i] as { value?: unknown }).value;
            // Dovecot sends the value as a literal (a Buffer here), other servers as a quoted string.
            const raw = (list[i + 1] as { value?: unknown } | null)?.value;
            const v = Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
            if (typeof key === 'string' && key.toLowerCase() === OWNER_ENTRY && typeof v === 'string' && v !== '') value = v;
          }
        },
      },
    });
    response.next();
    return value;
  }

  async setOwnerMark(owner: string): Promise<void> {
    const response = await this.#exec('SETMETADATA', [
      { type: 'STRING', value: '' },
      [{ type: 'ATOM', value: OWNER_ENTRY }, { type: 'STRING', value: owner }],
    ]);
    response.next();
  }

  #exec(command: string, attributes: unknown[], options?: object): Promise<{ next: () => void }> {
    const exec = (this.#client as unknown as { exec: (c: string, a: unknown[], o?: object) => Promise<{ next: () => void }> }).exec;
    return exec.call(this.#client, command, attributes, options);
  }

  /** LOGOUT politely, but never wait on a dead peer for longer than a second. */
  async close(): Promise<void> {
    if (!this.#client.usable) {
      this.#client.close();
      return;
    }
    const timer = setTimeout(() => this.#client.close(), 1_000);
    try {
      await this.#client.logout();
    } catch {
      this.#client.close();
    } finally {
      clearTimeout(timer);
    }
  }
}
