import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../exporter/src/config/index.js';
import { createApp } from '../../../exporter/src/http/app.js';
import { MAILSYNC_YAML, SECRET_KEYS, STORE_DIR } from './config.js';
import { manifests, renderManifests } from './manifests.js';

/**
 * No cluster here: the manifests are checked structurally, by the typed models' validate() (the
 * Kubernetes and prometheus-operator OpenAPI schemas), and against the project's own sources.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(root, '../..');

describe('deploy/kubernetes', () => {
  it('is what deploy/kubernetes/src generates (run `npm run deploy:generate` after a change)', () => {
    const generated = renderManifests();
    const committed = readdirSync(root).filter((f) => f.endsWith('.yaml')).sort();
    expect(committed).toEqual(Object.keys(generated).sort());
    for (const [file, text] of Object.entries(generated)) expect(readFileSync(path.join(root, file), 'utf8'), file).toBe(text);
  });

  it('fails on a wrong field, as the models check every manifest', () => {
    expect(() => new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'one' as unknown as number, selector: {}, template: {} } }).validate()).toThrow(/replicas/);
    expect(() => new PrometheusRule({ metadata: { name: 'x' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up', for: 'soon' }] }] } }).validate()).toThrow(/for/);
    for (const model of Object.values(manifests())) expect(() => model.validate()).not.toThrow();
  });

  it('carries the same alert groups as alerts/rules/*.yaml', () => {
    const rulesDir = path.join(repo, 'alerts/rules');
    const fromFiles = readdirSync(rulesDir).sort().flatMap((f) => (parse(readFileSync(path.join(rulesDir, f), 'utf8')) as { groups: { name: string }[] }).groups);
    const rule = parse(readFileSync(path.join(root, 'prometheusrule.yaml'), 'utf8')) as { spec: { groups: { name: string }[] } };
    const byName = (gs: { name: string }[]) => Object.fromEntries(gs.map((g) => [g.name, g]));
    expect(byName(rule.spec.groups)).toEqual(byName(fromFiles));
  });

  it('runs one replica on a valid config whose secrets all come from the Secret, the store on its volume', () => {
    const secret = parse(readFileSync(path.join(root, 'secret.example.yaml'), 'utf8')) as { stringData: Record<string, string> };
    const env = secret.stringData;
    const config = parseConfig(MAILSYNC_YAML, '/etc/mailsync/mailsync.yaml', { env });
    expect(config.store.path).toBe(`${STORE_DIR}/mailsync.db`);
    // Every ${NAME} in the config is a key of the Secret (and nothing else is asked for).
    expect([...MAILSYNC_YAML.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]).sort()).toEqual([...SECRET_KEYS].sort());
    const deployment = parse(readFileSync(path.join(root, 'deployment.yaml'), 'utf8')) as { spec: { replicas: number; template: { spec: { containers: { volumeMounts: { mountPath: string }[]; securityContext: { readOnlyRootFilesystem: boolean } }[] } } } };
    expect(deployment.spec.replicas).toBe(1);
    const container = deployment.spec.template.spec.containers[0];
    expect(container?.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container?.volumeMounts.map((m) => m.mountPath)).toContain(STORE_DIR);
  });

  it('probes paths the runner serves', async () => {
    const app = createApp({ metrics: { contentType: () => 'text/plain', scrape: () => Promise.resolve('') }, notReadyReason: () => undefined });
    const text = readFileSync(path.join(root, 'deployment.yaml'), 'utf8');
    const paths = [...text.matchAll(/path: (\S+)/g)].map((m) => m[1] as string);
    expect([...new Set(paths)].sort()).toEqual(['/-/healthy', '/-/ready']);
    for (const p of paths) expect((await request(app).get(p)).status).toBe(200);
  });
});
