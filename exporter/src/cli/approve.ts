import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { systemClock } from '../clock.js';
import { loadConfigFile } from '../config/index.js';
import { approveMany, type ApprovalSelection, type BulkApprovalResult } from '../mailboxes/bulk-approve.js';
import { OperationError, type Actor } from '../mailboxes/operation-error.js';
import { openStore } from '../store/index.js';
import { storeName, storeOptions } from '../service/errors.js';
import { callApi, type ApiTarget, type CliIo } from './api-client.js';
import { UsageError } from './usage-error.js';

// `mailsync mailboxes approve` with a filter (--profile, --all, --ids-file): through the running
// service's bulk route, or, with --config before the first run, straight on the store. Both go
// through the same approveMany, so the rules (trusted profiles, rejections, audit) are the same.

/** A bulk approve as parsed from the command line; ids are read from the file when it runs. */
export interface BulkApprove {
  selection: { profile?: string; all?: true; idsFile?: string; ids?: string[] };
  comment: string | undefined;
  /** --config: offline, on the store the file names. */
  configFile: string | undefined;
  json: boolean;
  target: ApiTarget;
}

/** One id per line; blank lines and everything after `#` are ignored. */
export function parseIdsFile(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.replace(/#.*$/, '').trim()).filter((line) => line !== '');
}

function readIds(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`mailboxes approve: cannot read --ids-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const ids = parseIdsFile(text);
  if (ids.length === 0) throw new UsageError(`mailboxes approve: --ids-file ${file} lists no mailbox id`);
  return ids;
}

/** Runs a bulk approve; exit status 0 when every selected mailbox is approved, 1 otherwise. */
export async function bulkApproveCommand(bulk: BulkApprove, io: CliIo): Promise<number> {
  const { idsFile, ...rest } = bulk.selection;
  const selection: ApprovalSelection = idsFile !== undefined ? { ...rest, ids: readIds(idsFile) } : rest;
  let result: BulkApprovalResult;
  if (bulk.configFile !== undefined) {
    try {
      result = await approveOffline(bulk.configFile, selection, bulk.comment);
    } catch (error) {
      if (!(error instanceof OperationError)) throw error;
      io.err(`mailsync: ${error.message}`);
      return 1;
    }
  } else {
    const body = await callApi(bulk.target, { method: 'POST', path: '/api/mailboxes/approve', body: { ...selection, ...(bulk.comment ? { comment: bulk.comment } : {}) } }, io, 'mailboxes');
    if (!body) return 1;
    result = body as unknown as BulkApprovalResult;
  }
  io.out(bulk.json ? JSON.stringify(result, null, 2) : renderBulk(result));
  return result.refused.length === 0 ? 0 : 1;
}

/**
 * Before the first `run` there is no API to call: whoever can write the store file is this
 * deployment's administrator, so the local user approves with the admin role. Once the service has
 * run on the store, approvals go through its API, where tokens and roles apply.
 */
async function approveOffline(configFile: string, selection: ApprovalSelection, comment: string | undefined): Promise<BulkApprovalResult> {
  const config = loadConfigFile(configFile);
  const store = await openStore(storeOptions(config.store));
  try {
    if ((await store.runs.listDirectionStates()).length > 0) {
      throw new OperationError(409, `the service has already run on ${storeName(config.store)}: approve through its API (drop --config; pass --url and a token)`);
    }
    const actor: Actor = { name: `local:${userInfo().username}`, role: 'admin' };
    return await approveMany({ config, store, clock: systemClock }, selection, actor, comment);
  } finally {
    await store.close();
  }
}

export function renderBulk(r: BulkApprovalResult): string {
  const lines = [`approved ${r.approved.length}${r.approved.length > 0 ? `: ${r.approved.map((a) => a.id).join(', ')}` : ''}`];
  if (r.alreadyApproved.length > 0) lines.push(`already approved ${r.alreadyApproved.length}: ${r.alreadyApproved.join(', ')}`);
  if (r.refused.length > 0) lines.push(`refused ${r.refused.length}:`, ...r.refused.map((f) => `  ${f.id}: ${f.reason}`));
  return lines.join('\n');
}
