import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../harness/cli.js';
import { writeLabConfig } from '../harness/config.js';
import { Dovecot } from '../harness/dovecot.js';
import { makeMessage } from '../harness/mail.js';
import { waitFor } from '../harness/wait.js';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.stop();
});

const OPERATOR_TOKEN = 'operator-token-for-the-lifecycle-test';

describe('a mailbox broken on purpose, fixed, and brought back with Test & Enable (service, API and CLI)', () => {
  it('is disabled with credentials_rejected, then enabled by Test & Enable after the fix, and syncs', async () => {
    // The mailbox's configured password is "rotated-pw"; the server still has the old one.
    const user = dovecot.addUser('broken', 'old-pw');
    await dovecot.append(user, 'INBOX', [makeMessage(1), makeMessage(2)]);
    process.env.LAB_OPERATOR_TOKEN = OPERATOR_TOKEN;
    const lab = writeLabConfig(dovecot, {
      mailboxes: [{ id: 'broken', user: user.name, password: 'rotated-pw' }],
      sync: { jitterRatio: 0, pollIntervalSeconds: 3600 },
      extra: { api: { tokens: [{ name: 'oncall', role: 'operator', token: '${LAB_OPERATOR_TOKEN}' }] } },
    });
    const env = { ...lab.env, MAILSYNC_TOKEN: OPERATOR_TOKEN };
    const run = startCli(['run', '--config', lab.file, '--log-level', 'info'], env);
    try {
      const { url } = await run.waitForLog((e) => e.msg === 'mailsync started');
      const cli = (...args: string[]) => runCli(['mailboxes', ...args, '--url', String(url)], env);
      // Polling goes straight to the API (a CLI process per poll would be slow); changes go through the CLI.
      const show = async () => {
        const r = await fetch(`${String(url)}/api/mailboxes/broken`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
        expect(r.status).toBe(200);
        return await r.json() as { directions: { incoming: { enabled: boolean; disabled: { code: string } | null; itemsProcessedTotal: number; status: string } }; testEnable: { state: string; result: { checks: { ok: boolean }[] } }; alerts: { code: string }[]; audit: { action: string; actor: string }[] };
      };

      const disabled = await waitFor(show, { until: (m) => m.directions.incoming.disabled !== null, what: 'the mailbox to be disabled' });
      expect(disabled.directions.incoming).toMatchObject({ enabled: false, disabled: { code: 'credentials_rejected' } });
      expect(disabled.alerts).toMatchObject([{ code: 'credentials_rejected' }]);
      const listed = await cli('list', '--state', 'disabled');
      expect(listed.stdout).toMatch(/broken\s+broken@lab\.example\s+lab\s+failing\s+empty\s+disabled \(credentials_rejected\)\s+credentials_rejected/);

      // Test & Enable before the fix fails again and keeps it disabled.
      expect((await cli('test-enable', 'broken')).code).toBe(0);
      const stillBroken = await waitFor(show, { until: (m) => m.testEnable.state === 'completed', what: 'the first Test & Enable' });
      expect(stillBroken.testEnable.result.checks).toMatchObject([{ ok: false }]);
      expect(stillBroken.directions.incoming.enabled).toBe(false);

      // The fix: the server gets the rotated password.
      await dovecot.changePassword(user.name, 'rotated-pw');
      expect((await cli('test-enable', 'broken')).code).toBe(0);
      const fixed = await waitFor(show, { until: (m) => m.testEnable.state === 'completed' && m.directions.incoming.enabled, what: 'Test & Enable to enable the mailbox' });
      expect(fixed.testEnable.result.checks).toMatchObject([{ ok: true }]);
      // Enabling wakes the scheduler: the mail arrives without waiting an hour-long poll interval.
      const synced = await waitFor(show, { until: (m) => m.directions.incoming.itemsProcessedTotal === 2, what: 'the two messages to be synced' });
      expect(synced.directions.incoming.status).toBe('success');
      expect(synced.audit.filter((a) => a.action === 'test_enable')).toMatchObject([{ actor: 'oncall' }, { actor: 'oncall' }]);
      const shown = await cli('show', 'broken');
      expect(shown.stdout).toContain('incoming: enabled, last run success, last error credentials_rejected, retries left 10');
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    expect(run.stderr()).not.toContain(OPERATOR_TOKEN);
    expect(run.stderr()).not.toContain('rotated-pw');
  });

  it('the CLI explains usage and API refusals', async () => {
    const noToken = await runCli(['mailboxes', 'list', '--url', 'http://127.0.0.1:9'], { MAILSYNC_TOKEN: '' });
    expect([noToken.code, noToken.stderr]).toEqual([2, expect.stringContaining('no API token')]);
    const noReason = await runCli(['mailboxes', 'disable', 'x'], { MAILSYNC_TOKEN: 't' });
    expect([noReason.code, noReason.stderr]).toEqual([2, expect.stringContaining('--reason TEXT is required')]);
    const unreachable = await runCli(['mailboxes', 'list', '--url', 'http://127.0.0.1:9'], { MAILSYNC_TOKEN: 't' });
    expect([unreachable.code, unreachable.stderr]).toEqual([1, expect.stringContaining('cannot reach http://127.0.0.1:9')]);
    const help = await runCli(['mailboxes', '--help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('test-enable ID [--this-organization-only]')]);
  });
});
