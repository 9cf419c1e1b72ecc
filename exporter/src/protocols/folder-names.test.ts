import { describe, expect, it } from 'vitest';
import { resolveFolderName, type ListedFolder } from './folder-names.js';

const f = (path: string, specialUse?: string, flagged = true): ListedFolder => ({ path, delimiter: '.', specialUse, flagged });

describe('folder name resolution', () => {
  const courier = [f('INBOX', '\\Inbox'), f('INBOX.Sent Items', '\\Sent'), f('INBOX.Archive'), f('INBOX.Projects.2026')];
  const ns = { prefix: 'INBOX.', delimiter: '.' };

  it.each([
    ['INBOX', 'INBOX'],
    ['inbox', 'INBOX'],
    ['Archive', 'INBOX.Archive'],
    ['INBOX.Archive', 'INBOX.Archive'],
    ['Projects/2026', 'INBOX.Projects.2026'],
    ['\\Sent', 'INBOX.Sent Items'],
    ['\\sent', 'INBOX.Sent Items'],
  ])('%s -> %s on a server with the INBOX. namespace', (name, path) => {
    expect(resolveFolderName(name, courier, ns)).toBe(path);
  });

  it('prefers the folder the server flags over one imapflow recognised by name (Gmail)', () => {
    const gmail = [f('INBOX'), f('Sent', '\\Sent', false), f('[Gmail]/Sent Mail', '\\Sent'), f('[Gmail]/All Mail', '\\All')];
    expect(resolveFolderName('\\Sent', gmail, { prefix: '', delimiter: '/' })).toBe('[Gmail]/Sent Mail');
    expect(resolveFolderName('\\All', gmail, { prefix: '', delimiter: '/' })).toBe('[Gmail]/All Mail');
  });

  it('fails with mailbox_not_found naming the server\'s folders', () => {
    expect(() => resolveFolderName('Nope', courier, ns)).toThrow(expect.objectContaining({
      mailsyncCode: 'mailbox_not_found',
      message: 'folder "Nope": the server has no such folder; the server\'s folders are INBOX (\\Inbox), INBOX.Sent Items (\\Sent), INBOX.Archive, INBOX.Projects.2026',
    }));
    expect(() => resolveFolderName('\\Junk', courier, ns)).toThrow(/no folder is marked \\Junk/);
  });
});
