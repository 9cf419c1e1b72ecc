import { ClassifiedError } from '../classify/index.js';

/** A folder as the server lists it (LIST, with RFC 6154 special-use flags). */
export interface ListedFolder {
  path: string;
  delimiter: string;
  /** `\Sent`, `\Archive`, `\All`... when the server flags it (or imapflow recognised its name). */
  specialUse?: string | undefined;
  /** Whether the server said so (SPECIAL-USE) rather than imapflow guessing from the name. */
  flagged: boolean;
}

/** The personal namespace (RFC 2342 NAMESPACE): `INBOX.` and `.` on Courier and Cyrus, empty and `/` on Dovecot's default. */
export interface PersonalNamespace {
  prefix: string;
  delimiter: string;
}

/** RFC 6154 special-use names accepted in `folders:` and `sentFolder`. */
export const SPECIAL_USE = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'] as const;

/**
 * The server's path for a configured folder name, or a `mailbox_not_found` error naming the
 * server's folders. Pure. In order:
 * - a special-use name (`\Sent`) is the folder the server flags with it; without such a flag, the
 *   one whose name imapflow recognises (Sent Items, [Gmail]/Sent Mail...);
 * - `INBOX` in any case is the INBOX;
 * - a path the server lists as written;
 * - the name inside the personal namespace, `/` standing for the server's separator
 *   (`Archive` -> `INBOX.Archive`, `Projects/2026` -> `INBOX.Projects.2026`).
 */
export function resolveFolderName(name: string, folders: readonly ListedFolder[], namespace: PersonalNamespace | undefined): string {
  if (name.startsWith('\\')) {
    const wanted = name.toLowerCase();
    const matches = folders.filter((f) => f.specialUse?.toLowerCase() === wanted);
    const found = matches.find((f) => f.flagged) ?? matches[0];
    if (found) return found.path;
    throw notFound(name, folders, `no folder is marked ${name} (RFC 6154 special-use)`);
  }
  if (name.toUpperCase() === 'INBOX') return 'INBOX';
  const exact = folders.find((f) => f.path === name);
  if (exact) return exact.path;
  if (namespace) {
    const inside = namespace.prefix + (namespace.delimiter ? name.split('/').join(namespace.delimiter) : name);
    const found = folders.find((f) => f.path === inside);
    if (found) return found.path;
  }
  throw notFound(name, folders, 'the server has no such folder');
}

function notFound(name: string, folders: readonly ListedFolder[], why: string): ClassifiedError {
  const shown = folders.slice(0, 30).map((f) => (f.specialUse ? `${f.path} (${f.specialUse})` : f.path));
  const more = folders.length > 30 ? `, and ${folders.length - 30} more` : '';
  return new ClassifiedError('mailbox_not_found', `folder "${name}": ${why}; the server's folders are ${shown.join(', ')}${more}`);
}
