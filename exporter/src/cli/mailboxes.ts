import { API_OPTIONS, apiTarget, callApi, type ApiRequest, type ApiTarget, type CliIo } from './api-client.js';
import { bulkApproveCommand, type BulkApprove } from './approve.js';
import { defineCommand, helpText, parseCommandLine } from './options.js';
import { UsageError } from './usage-error.js';

export const MAILBOXES = defineCommand({
  name: 'mailboxes',
  usage: 'mailsync mailboxes <action> [options]',
  about: `Talks to a running mailsync through its admin API (/api), so every change is checked against the
token's role and audited like any API call. The one exception is 'approve --config FILE', for the
first deployment: it works on the store before the service has ever run on it.

Actions:
  list                       list mailboxes (filters below), one line each
  show ID                    one mailbox: state per direction, approval, Test & Enable, alert records
  approve ID [--comment C]   approve the address (trusted profiles need an admin token)
  approve --profile P | --all | --ids-file FILE [--comment C]
                             approve a selection at once (POST /api/mailboxes/approve); each
                             mailbox is judged as a single approval is, a rejected one is left
                             alone, and the refused ones are listed with the reason (exit 1)
  approve ... --config FILE  before the first 'run' (no API yet): approve directly in the store
                             the config names, as the local user with the admin role
  reject ID [--comment C]    reject the address
  test-enable ID [--this-organization-only] [--send-test-message]
                             test connect, TLS, login and folders (and the SMTP login for
                             outgoing); enable what passes. --this-organization-only takes over a
                             mailbox another deployment marked as its own; --send-test-message
                             sends the mailbox an email to itself and waits for it
  disable ID --reason TEXT [--direction D]...
                             disable the mailbox (all configured directions, or the ones named)`,
  options: {
    ...API_OPTIONS,
    comment: { type: 'string', value: 'C', description: 'approve, reject: a comment for the audit log' },
    reason: { type: 'string', value: 'TEXT', description: 'disable: why (shown to whoever finds the mailbox disabled)' },
    direction: { type: 'string', value: 'D', multiple: true, description: 'disable: only this direction (incoming, outgoing, act)' },
    'this-organization-only': { type: 'boolean', description: 'test-enable: take over a mailbox another deployment marked as its own' },
    'send-test-message': { type: 'boolean', description: 'test-enable: send the mailbox an email to itself and wait for it' },
    state: { type: 'string', value: 'enabled|disabled', description: 'list filter: enabled or disabled' },
    health: { type: 'string', value: 'H', description: 'list filter: healthy, failing, intermittent, inactive or testing' },
    profile: { type: 'string', value: 'P', description: 'list filter, approve: the profile id' },
    all: { type: 'boolean', description: 'approve: every mailbox in the config' },
    'ids-file': { type: 'string', value: 'FILE', description: 'approve: the mailbox ids in FILE, one a line (# starts a comment)' },
    config: { type: 'string', short: 'c', value: 'FILE', description: "approve: work on this config's store, before the first 'run'" },
    approval: { type: 'string', value: 'A', description: 'list filter: empty, pending, approved or rejected' },
    q: { type: 'string', value: 'TEXT', description: 'list filter: id or address contains TEXT' },
    page: { type: 'string', value: 'N', description: 'list: the page (from 1)' },
    'page-size': { type: 'string', value: 'N', description: 'list: mailboxes per page (1-500, default 50)' },
  },
  positionals: true,
  after: 'Exit status: 0 done, 1 the API refused (the reason is printed), 2 bad usage.',
});

export const MAILBOXES_HELP = helpText(MAILBOXES);

/** Parses `mailsync mailboxes ...` into one API request. Pure, so tests cover every action. */
export function mailboxesRequest(args: string[]): ({ request: ApiRequest; json: boolean } & ApiTarget) | { bulk: BulkApprove } | 'help' {
  const parsed = parseCommandLine(MAILBOXES, args);
  if (parsed.help) return 'help';
  const { values: o, positionals } = parsed;
  const [action, id, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`mailboxes: unexpected argument "${extra[0]}"`);
  const common = { json: o.json ?? false, ...apiTarget(o) };
  if (action !== undefined && action !== 'approve') {
    for (const name of ['all', 'ids-file', 'config'] as const) {
      if (o[name] !== undefined) throw new UsageError(`mailboxes ${action}: --${name} works only with approve`);
    }
  }
  const selecting = o.profile !== undefined || o.all === true || o['ids-file'] !== undefined || o.config !== undefined;
  if (action === 'approve' && (id === undefined || selecting)) return { bulk: bulkRequest(id, o, common) };
  const needId = () => {
    if (!id) throw new UsageError(`mailboxes ${action}: the mailbox ID is required`);
    return `/api/mailboxes/${encodeURIComponent(id)}`;
  };
  switch (action) {
    case 'list': {
      if (id) throw new UsageError(`mailboxes list: unexpected argument "${id}"`);
      const query = new URLSearchParams();
      for (const key of ['state', 'health', 'profile', 'approval', 'q', 'page'] as const) if (o[key] !== undefined) query.set(key, o[key]);
      if (o['page-size'] !== undefined) query.set('pageSize', o['page-size']);
      const qs = query.toString();
      return { ...common, request: { method: 'GET', path: `/api/mailboxes${qs ? `?${qs}` : ''}` } };
    }
    case 'show': return { ...common, request: { method: 'GET', path: needId() } };
    case 'approve':
    case 'reject':
      return { ...common, request: { method: 'POST', path: `${needId()}/${action}`, body: o.comment === undefined ? {} : { comment: o.comment } } };
    case 'test-enable':
      return {
        ...common,
        request: { method: 'POST', path: `${needId()}/test-enable`, body: { thisOrganizationOnly: o['this-organization-only'] ?? false, sendTestMessage: o['send-test-message'] ?? false } },
      };
    case 'disable': {
      const path = `${needId()}/disable`;
      if (!o.reason) throw new UsageError('mailboxes disable: --reason TEXT is required (it is shown to whoever finds the mailbox disabled)');
      return { ...common, request: { method: 'POST', path, body: { reason: o.reason, ...(o.direction ? { directions: o.direction } : {}) } } };
    }
    case undefined: throw new UsageError('mailboxes: an action is required (list, show, approve, reject, test-enable, disable)');
    default: throw new UsageError(`mailboxes: unknown action "${action}"`);
  }
}

/** approve with a filter, or with --config (offline): exactly one way of naming the mailboxes. */
function bulkRequest(
  id: string | undefined,
  o: { profile?: string; all?: boolean; 'ids-file'?: string; config?: string; comment?: string },
  common: { json: boolean } & ApiTarget,
): BulkApprove {
  const given: [string, boolean][] = [['ID', id !== undefined], ['--profile', o.profile !== undefined], ['--all', o.all === true], ['--ids-file', o['ids-file'] !== undefined]];
  const selectors = given.filter(([, present]) => present).map(([name]) => name);
  if (selectors.length === 0) throw new UsageError('mailboxes approve: name the mailboxes: an ID, --profile P, --all or --ids-file FILE');
  if (selectors.length > 1) throw new UsageError(`mailboxes approve: give one of ID, --profile, --all, --ids-file (got ${selectors.join(' and ')})`);
  const selection = id !== undefined ? { ids: [id] }
    : o.profile !== undefined ? { profile: o.profile }
      : o.all ? { all: true as const } : { idsFile: o['ids-file'] as string };
  return { selection, comment: o.comment, configFile: o.config, json: common.json, target: { url: common.url, tokenFile: common.tokenFile } };
}

/** Runs `mailsync mailboxes ...`; returns the exit status. */
export async function mailboxesCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = mailboxesRequest(args);
  if (parsed === 'help') {
    io.out(MAILBOXES_HELP);
    return 0;
  }
  if ('bulk' in parsed) return bulkApproveCommand(parsed.bulk, io);
  const body = await callApi(parsed, parsed.request, io, 'mailboxes');
  if (!body) return 1;
  io.out(parsed.json ? JSON.stringify(body, null, 2) : render(parsed.request, body));
  return 0;
}

type View = {
  id: string; address: string; profile: string; health: string; approval: { state: string };
  testEnable: { state: string };
  warnings?: string[];
  directions: Record<string, { configured: boolean; enabled: boolean; status: string; disabled: { code: string | null; by: string | null } | null; lastError: { code: string } | null; consecutiveFailures: number; retriesLeft: number }>;
};

function render(request: ApiRequest, body: Record<string, unknown>): string {
  if (request.path.startsWith('/api/mailboxes?') || request.path === '/api/mailboxes') {
    const items = body.items as View[];
    const rows = [['ID', 'ADDRESS', 'PROFILE', 'HEALTH', 'APPROVAL', 'INCOMING', 'LAST ERROR']];
    for (const v of items) {
      const i = v.directions.incoming;
      rows.push([v.id, v.address, v.profile, v.health, v.approval.state, directionWord(i), i?.lastError?.code ?? '-']);
    }
    return `${table(rows)}\n${items.length} of ${String(body.total)} mailboxes (page ${String(body.page)})`;
  }
  const v = body as unknown as View;
  const lines = [
    `${v.id} <${v.address}> profile ${v.profile}`,
    `  health: ${v.health}   approval: ${v.approval.state}   Test & Enable: ${v.testEnable.state}`,
    // Right under the state, before the directions: a line at the end of the output would be missed.
    ...(v.warnings ?? []).map((w) => `  WARNING: ${w}`),
  ];
  for (const [name, d] of Object.entries(v.directions)) {
    if (!d.configured) continue;
    lines.push(`  ${name}: ${directionWord(d)}, last run ${d.status}, last error ${d.lastError?.code ?? '-'}, retries left ${d.retriesLeft}`);
  }
  const alerts = (body.alerts ?? []) as { code: string; count: number; lastSeenAt: number }[];
  if (alerts.length > 0) lines.push('  alert records:', ...alerts.map((a) => `    ${a.code} x${a.count}, last ${new Date(a.lastSeenAt).toISOString()}`));
  return lines.join('\n');
}

function directionWord(d: View['directions'][string] | undefined): string {
  if (!d?.configured) return '-';
  if (d.disabled) return `disabled (${d.disabled.code ?? `by ${d.disabled.by ?? 'operator'}`})`;
  return 'enabled';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}
