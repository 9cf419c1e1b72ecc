import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../config/index.js';
import { openStore, type Store } from '../store/index.js';
import { applyConfigApprovals } from './config-approval.js';

// Approvals declared in the config: which one applies, and what they do to the store.

const yaml = (org = '') => `
organization: { id: acme${org} }
profiles:
  - id: corp
    incoming: { host: imap.example.com }
    approval: { approvedBy: Jane Admin, role: operator }
  - id: trusted
    incoming: { host: imap.example.com }
    auth: { mode: impersonation, credentials: { username: svc, password: "\${PW}" } }
  - id: loose
    incoming: { host: imap.example.com }
mailboxes:
  - { id: ann, address: ann@example.com, profile: corp, credentials: { username: ann, password: "\${PW}" } }
  - { id: ben, address: ben@example.com, profile: corp, credentials: { username: ben, password: "\${PW}" }, approval: { approvedBy: Head of IT, role: admin } }
  - { id: ceo, address: ceo@example.com, profile: trusted, approval: { approvedBy: Jane Admin, role: admin } }
  - { id: cfo, address: cfo@example.com, profile: trusted, approval: { approvedBy: Jane Admin, role: operator } }
  - { id: dan, address: dan@example.com, profile: loose, credentials: { username: dan, password: "\${PW}" } }
`;
const load = (org?: string): Config => parseConfig(yaml(org), '/etc/mailsync/mailsync.yaml', { env: { PW: 'a-password' } });

describe('declared approvals in the config', () => {
  it("a mailbox's own approval wins over its profile's; no declaration means none", () => {
    const config = load();
    expect(Object.fromEntries(config.mailboxes.map((m) => [m.id, m.approval]))).toEqual({
      ann: { approvedBy: 'Jane Admin', role: 'operator', declaredAt: 'profiles[0].approval' },
      ben: { approvedBy: 'Head of IT', role: 'admin', declaredAt: 'mailboxes[1].approval' },
      ceo: { approvedBy: 'Jane Admin', role: 'admin', declaredAt: 'mailboxes[2].approval' },
      cfo: { approvedBy: 'Jane Admin', role: 'operator', declaredAt: 'mailboxes[3].approval' },
      dan: undefined,
    });
  });

  it("warns that an operator's approval does not count for a trusted profile, unless the organization allows it", () => {
    expect(load().warnings).toEqual(['mailboxes[3].approval.role: "operator" does not approve a mailbox of a trusted (impersonation) profile; it needs "admin"']);
    expect(load(', requireAdminApprovalForTrustedProfiles: false').warnings).toEqual([]);
  });
});

describe('applyConfigApprovals', () => {
  let store: Store;
  const at = 1_800_000_000_000;
  beforeEach(async () => {
    store = await openStore({ path: ':memory:' });
  });
  afterEach(() => store.close());

  it('approves in the approver\'s name, audits approve_from_config, and lifts an approval disable', async () => {
    await store.lifecycle.disable('ceo', 'incoming', { code: 'admin_approval_required', reason: 'needs an admin', by: 'system', at });
    const outcome = await applyConfigApprovals(store, load(), at);
    expect(outcome).toEqual({
      approved: [{ id: 'ann', reenabled: [] }, { id: 'ben', reenabled: [] }, { id: 'ceo', reenabled: ['incoming'] }, { id: 'cfo', reenabled: [] }],
      rejected: [],
    });
    expect(await store.lifecycle.get('ceo')).toMatchObject({ approval: 'approved', approvalBy: 'Jane Admin', approvalRole: 'admin', approvalAt: at });
    expect((await store.runs.getDirectionState('ceo', 'incoming'))?.disabled).toBe(false);
    expect(await store.lifecycle.auditLog('ceo')).toMatchObject([{
      actor: 'Jane Admin', role: 'admin', action: 'approve_from_config', mailboxId: 'ceo',
      detail: { config: '/etc/mailsync/mailsync.yaml', key: 'mailboxes[2].approval', reenabled: ['incoming'] },
    }]);
    expect((await store.lifecycle.get('dan')).approval).toBe('empty');
  });

  it('writes nothing again on the next start or reload', async () => {
    await applyConfigApprovals(store, load(), at);
    expect(await applyConfigApprovals(store, load(), at + 1)).toEqual({ approved: [], rejected: [] });
    expect(await store.lifecycle.auditLog('ann')).toHaveLength(1);
  });

  it('keeps a rejection made through the API, and says so; raises an operator approval to the declared admin one', async () => {
    await store.lifecycle.setApproval('ann', 'rejected', 'alice', 'operator', at - 1);
    await store.lifecycle.setApproval('ben', 'approved', 'alice', 'operator', at - 1);
    const outcome = await applyConfigApprovals(store, load(), at);
    expect(outcome.rejected).toEqual([{ id: 'ann', by: 'alice', declaredAt: 'profiles[0].approval' }]);
    expect(outcome.approved.map((a) => a.id)).toEqual(['ben', 'ceo', 'cfo']);
    expect(await store.lifecycle.get('ann')).toMatchObject({ approval: 'rejected', approvalBy: 'alice' });
    expect(await store.lifecycle.auditLog('ann')).toEqual([]);
    expect(await store.lifecycle.get('ben')).toMatchObject({ approval: 'approved', approvalBy: 'Head of IT', approvalRole: 'admin' });
  });

  it('never lowers an admin approval made through the API to the operator one the file declares', async () => {
    await store.lifecycle.setApproval('ann', 'approved', 'root', 'admin', at - 1);
    await applyConfigApprovals(store, load(), at);
    expect(await store.lifecycle.get('ann')).toMatchObject({ approvalBy: 'root', approvalRole: 'admin' });
  });
});
