/**
 * The browser harness (test-only): what Grafana does for a panel plugin, reduced to the minimum.
 * It provides the plugin's AMD imports (React and the real @grafana packages), loads the built
 * dist/module.js, and renders its panel in Grafana's theme with data frames built from recorded
 * Prometheus answers.
 */
import * as emotion from '@emotion/css';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as React from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import { HEALTH_BUCKETS } from '@mailsync/contract';
import { DEFAULT_OPTIONS } from '../../src/options';
import { instantToFrame } from './prometheus';

const modules: Record<string, unknown> = {
  react: React, 'react-dom': ReactDOM, '@grafana/data': grafanaData, '@grafana/ui': grafanaUi,
  '@grafana/runtime': grafanaRuntime, '@emotion/css': emotion,
  // AMD's own `module`: create-plugin's build reads its uri to find the plugin's other files.
  module: { uri: new URL('/module.js', window.location.href).href },
};

type Harness = { plugin?: grafanaData.PanelPlugin };
const harness: Harness = {};

// webpack's AMD output: define([deps], factory) returning the module's exports.
(window as unknown as { define: unknown }).define = Object.assign((deps: string[], factory: (...args: unknown[]) => Record<string, unknown>) => {
  const missing = deps.filter((d) => !(d in modules));
  if (missing.length > 0) throw new Error(`the harness does not provide ${missing.join(', ')}`);
  harness.plugin = factory(...deps.map((d) => modules[d])).plugin as grafanaData.PanelPlugin;
}, { amd: true });

let root: Root | undefined;

interface RenderInput {
  frames: grafanaData.DataFrame[];
  now: number;
  mode: 'light' | 'dark';
  width: number;
  height: number;
}

function render({ frames, now, mode, width, height }: RenderInput): void {
  const plugin = harness.plugin;
  if (!plugin?.panel) throw new Error('dist/module.js did not define a panel plugin');
  const Panel = plugin.panel;
  const theme = grafanaData.createTheme({ colors: { mode } });
  const timeRange = { from: grafanaData.dateTime(now - 3_600_000), to: grafanaData.dateTime(now), raw: { from: 'now-1h', to: 'now' } };
  // The defaults the plugin declares in module.ts, as a new panel gets them.
  const defaults = DEFAULT_OPTIONS;
  const props = {
    id: 1, data: { state: grafanaData.LoadingState.Done, series: frames, timeRange }, options: defaults, width, height,
    transparent: false, title: 'Server-side synchronization', timeRange, timeZone: 'utc', renderCounter: 1,
    replaceVariables: (s: string) => s, onChangeTimeRange: () => undefined, onOptionsChange: () => undefined,
    onFieldConfigChange: () => undefined, fieldConfig: { defaults: {}, overrides: [] }, eventBus: new grafanaData.EventBusSrv(),
  };
  document.body.style.background = theme.colors.background.canvas;
  const container = document.getElementById('root') as HTMLElement;
  root?.unmount();
  root = createRoot(container);
  ReactDOM.flushSync(() => {
    root!.render(
      <grafanaUi.ThemeContext.Provider value={theme}>
        <div style={{ width, height, background: theme.colors.background.primary, border: `1px solid ${theme.colors.border.weak}`, borderRadius: 2, color: theme.colors.text.primary, fontFamily: theme.typography.fontFamily, fontSize: theme.typography.fontSize }}>
          <Panel {...(props as unknown as grafanaData.PanelProps)} />
        </div>
      </grafanaUi.ThemeContext.Provider>,
    );
  });
}

/** Frames of `mailboxes` synthetic mailboxes, for the benchmark: the same shapes as the fixture. */
function synthetic(mailboxes: number, now: number): grafanaData.DataFrame[] {
  const buckets = HEALTH_BUCKETS;
  const ids = Array.from({ length: mailboxes }, (_, i) => `mb-${String(i).padStart(5, '0')}`);
  const vec = (rows: { metric: Record<string, string>; value: number }[]) => ({ status: 'success', data: { resultType: 'vector', result: rows.map((r) => ({ metric: r.metric, value: [now / 1_000, String(r.value)] as [number, string] })) } });
  const health = (i: number) => (i % 20 === 0 ? buckets[1 + (i / 20) % 4] : 'healthy') as string;
  return [
    instantToFrame('info', vec(ids.map((m, i) => ({ metric: { mailbox: m, address: `user${i}@bench.example`, profile: `p${i % 10}` }, value: 1 })))),
    instantToFrame('health', vec(ids.map((m, i) => ({ metric: { mailbox: m, health: health(i) }, value: 1 })))),
    instantToFrame('enabled', vec(ids.map((m, i) => ({ metric: { mailbox: m, direction: 'incoming' }, value: health(i) === 'failing' ? 0 : 1 })))),
    instantToFrame('disabled', vec(ids.filter((_, i) => health(i) === 'failing').map((m) => ({ metric: { mailbox: m, direction: 'incoming', code: 'credentials_rejected' }, value: 1 })))),
    instantToFrame('failures', vec(ids.map((m) => ({ metric: { mailbox: m, direction: 'incoming' }, value: 0 })))),
    instantToFrame('success', vec(ids.map((m) => ({ metric: { mailbox: m, direction: 'incoming' }, value: now / 1_000 - 120 })))),
    instantToFrame('error', vec([])),
    instantToFrame('test', vec(ids.filter((_, i) => health(i) === 'testing').map((m) => ({ metric: { mailbox: m }, value: now / 1_000 - 60 })))),
  ];
}

(window as unknown as { mailsyncHarness: unknown }).mailsyncHarness = {
  renderRecorded(responses: Record<string, unknown>, now: number, mode: 'light' | 'dark') {
    const frames = Object.entries(responses).map(([ref, r]) => instantToFrame(ref, r as Parameters<typeof instantToFrame>[1]));
    render({ frames, now, mode, width: 900, height: 520 });
  },
  /** Renders `mailboxes` synthetic mailboxes and returns the time to the first painted frame. */
  async benchFirstRender(mailboxes: number): Promise<number> {
    const now = Date.now();
    const frames = synthetic(mailboxes, now);
    const t0 = performance.now();
    render({ frames, now, mode: 'dark', width: 900, height: 520 });
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  },
};
