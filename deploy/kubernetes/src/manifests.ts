import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { stringify } from 'yaml';
import { ruleFiles } from '../../../alerts/src/rules.js';
import { VERSION } from '../../../exporter/src/version.js';
import { CONFIG_DIR, MAILSYNC_YAML, PORT, SECRET_KEYS, STORE_DIR } from './config.js';
import { podSpec } from './pod.js';

export const NAME = 'mailsync';
export const LABELS = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/component': 'sync-runner' };
const metadata = { name: NAME, labels: { ...LABELS, 'app.kubernetes.io/version': VERSION } };

type Manifest = { validate(): void; toJSON(): unknown };

/** Every manifest of deploy/kubernetes, by file name, each a typed model. */
export function manifests(): Record<string, Manifest> {
  return {
    'configmap.yaml': new ConfigMap({ metadata, data: { 'mailsync.yaml': MAILSYNC_YAML } }),
    // Placeholders only: replace them (or manage the Secret elsewhere) before applying.
    'secret.example.yaml': new Secret({
      metadata, type: 'Opaque',
      stringData: Object.fromEntries(SECRET_KEYS.map((k) => [k, `REPLACE-ME-${k.toLowerCase().replace(/_/g, '-')}`])),
    }),
    'pvc.yaml': new PersistentVolumeClaim({
      metadata,
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } },
    }),
    'deployment.yaml': new Deployment({
      metadata,
      spec: {
        // One runner per store: SQLite has one writer, and a second pod would sync every mailbox
        // twice. Scale-out needs the PostgreSQL driver (a later issue); until then replicas: 1,
        // and Recreate so an update never runs the old and the new pod on the store at once.
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: LABELS },
        template: { metadata: { labels: LABELS }, spec: podSpec({ configDir: CONFIG_DIR, storeDir: STORE_DIR, port: PORT, version: VERSION, name: NAME }) },
      },
    }),
    'service.yaml': new Service({
      metadata,
      spec: { selector: LABELS, ports: [{ name: 'http', port: PORT, targetPort: 'http' }] },
    }),
    // The job label is the Service's name, "mailsync": the alert rules select job=~"mailsync.*".
    'servicemonitor.yaml': new ServiceMonitor({
      metadata,
      spec: { selector: { matchLabels: LABELS }, endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }] },
    }),
    'prometheusrule.yaml': new PrometheusRule({
      metadata,
      spec: { groups: Object.values(ruleFiles()).flatMap((f) => f.groups) as NonNullable<PrometheusRule['spec']>['groups'] },
    }),
  };
}

export const HEADER = '# Generated from deploy/kubernetes/src by `npm run deploy:generate`; do not edit by hand.\n';

/** The text of every file of deploy/kubernetes, manifests and kustomization.yaml, by file name. */
export function renderManifests(): Record<string, string> {
  const out: Record<string, string> = {};
  const all = manifests();
  for (const [file, model] of Object.entries(all)) {
    model.validate();
    out[file] = HEADER + stringify(model.toJSON(), { lineWidth: 0 });
  }
  // The Secret example is left out of the kustomization: applying it would overwrite real values.
  out['kustomization.yaml'] = HEADER + stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: Object.keys(all).filter((f) => f !== 'secret.example.yaml'),
  }, { lineWidth: 0 });
  return out;
}
