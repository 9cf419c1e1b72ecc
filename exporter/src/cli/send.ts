import { readFileSync } from 'node:fs';
import path from 'node:path';
import { API_OPTIONS, apiTarget, callApi, type CliIo } from './api-client.js';
import { defineCommand, helpText, parseCommandLine } from './options.js';
import { UsageError } from './usage-error.js';

export const SEND = defineCommand({
  name: 'send',
  usage: 'mailsync send --mailbox ID --to ADDRESS --subject TEXT (--text TEXT | --text-file F) [options]',
  about: `Queues an email from a mailbox through the running service's admin API. It waits as Pending Send
until the mailbox's outgoing server accepts it; 'mailsync send --status EMAIL_ID --mailbox ID'
shows where it is (pending_send, sending, sent, postponed, failed) and its history.`,
  options: {
    mailbox: { type: 'string', short: 'm', value: 'ID', required: true, description: 'the sending mailbox (its address is the sender)' },
    to: { type: 'string', value: 'ADDRESS', multiple: true, description: 'recipient' },
    cc: { type: 'string', value: 'ADDRESS', multiple: true, description: 'copy recipient' },
    bcc: { type: 'string', value: 'ADDRESS', multiple: true, description: 'blind copy recipient' },
    subject: { type: 'string', short: 's', value: 'TEXT', description: 'subject line' },
    text: { type: 'string', value: 'TEXT', description: 'plain-text body (or --text-file FILE)' },
    'text-file': { type: 'string', value: 'FILE', description: 'plain-text body from a file' },
    'html-file': { type: 'string', value: 'FILE', description: 'HTML body' },
    attach: { type: 'string', value: 'FILE', multiple: true, description: 'attach a file' },
    status: { type: 'string', value: 'EMAIL_ID', description: 'show a queued email instead of queueing one' },
    ...API_OPTIONS,
  },
  after: 'Exit status: 0 queued (or shown), 1 the API refused (the reason is printed), 2 bad usage.',
});

export const SEND_HELP = helpText(SEND);

/** Runs `mailsync send ...`; returns the exit status. */
export async function sendCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(SEND, args);
  if (parsed.help) {
    io.out(SEND_HELP);
    return 0;
  }
  const o = parsed.values;
  const target = apiTarget(o);
  const base = `/api/mailboxes/${encodeURIComponent(o.mailbox)}/emails`;
  if (o.status !== undefined) {
    const body = await callApi(target, { method: 'GET', path: `${base}/${encodeURIComponent(o.status)}` }, io, 'send');
    if (!body) return 1;
    io.out(o.json ? JSON.stringify(body, null, 2) : describe(body));
    return 0;
  }
  if (!o.to?.length) throw new UsageError('send: at least one --to ADDRESS is required');
  if (o.subject === undefined) throw new UsageError('send: --subject TEXT is required');
  const text = o.text ?? (o['text-file'] ? readText(o['text-file']) : undefined);
  const html = o['html-file'] ? readText(o['html-file']) : undefined;
  if (text === undefined && html === undefined) throw new UsageError('send: give a body with --text, --text-file or --html-file');
  const attachments = (o.attach ?? []).map((file) => ({ filename: path.basename(file), contentBase64: readFile(file).toString('base64') }));
  const body = await callApi(target, {
    method: 'POST', path: base,
    body: { to: o.to, cc: o.cc ?? [], bcc: o.bcc ?? [], subject: o.subject, ...(text !== undefined ? { text } : {}), ...(html !== undefined ? { html } : {}), attachments },
  }, io, 'send');
  if (!body) return 1;
  if (o.json) io.out(JSON.stringify(body, null, 2));
  else {
    io.out(`queued: ${describe(body.email as Record<string, unknown>)}`);
    if (body.warning) io.err(`warning: ${String(body.warning)}`);
  }
  return 0;
}

function describe(e: Record<string, unknown>): string {
  const history = (e.history ?? []) as { at: number; state: string; detail: string }[];
  return [`email ${String(e.id)} ${String(e.messageId)} ${String(e.state)}`,
    ...history.map((h) => `  ${new Date(h.at).toISOString()} ${h.state}: ${h.detail}`)].join('\n');
}

function readFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`send: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function readText(file: string): string {
  return readFile(file).toString('utf8');
}
