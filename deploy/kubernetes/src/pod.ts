import type { IIoK8sApiCoreV1PodSpec } from 'kubernetes-models/v1/PodSpec';

/**
 * Sized from docs/performance.md (10,000 mailboxes, the README's scale): the exporter's RSS is
 * 269 MB steady while scraped and 316 MB at its peak (parsing a 10,000-mailbox config at start);
 * ingest peaked at 227 MB and a 2,000-mailbox cycle at 197 MB. The request covers the peak, the
 * limit leaves headroom. CPU: one Node.js thread does the work (a 10,000-mailbox scrape takes
 * ~0.36 s of it, ingest is bound by one core), so half a core is requested and no CPU limit is
 * set: throttling would stretch scrapes and cycles instead of failing anything.
 */
export const RESOURCES = { requests: { cpu: '500m', memory: '320Mi' }, limits: { memory: '512Mi' } };

/** The node image's unprivileged user (exporter/Dockerfile runs as it). */
const NODE_UID = 1000;

export function podSpec(o: { configDir: string; storeDir: string; port: number; version: string; name: string }): IIoK8sApiCoreV1PodSpec {
  const probe = (path: string, failureThreshold: number) => ({ httpGet: { path, port: 'http' }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold });
  return {
    securityContext: { runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID, seccompProfile: { type: 'RuntimeDefault' } },
    // A stop aborts the cycles in progress (docs/decisions.md); the default 30 s is enough.
    terminationGracePeriodSeconds: 30,
    containers: [{
      name: o.name,
      // Built from exporter/Dockerfile; the tag is exporter/package.json's version.
      image: `mailsync:${o.version}`,
      args: ['run', '--config', `${o.configDir}/mailsync.yaml`],
      ports: [{ name: 'http', containerPort: o.port }],
      envFrom: [{ secretRef: { name: o.name } }],
      resources: RESOURCES,
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      // /-/healthy answers as soon as the process serves HTTP; /-/ready once the store is open
      // and the config loaded. The startup probe gives the first start (migrations) a minute.
      startupProbe: probe('/-/healthy', 6),
      livenessProbe: probe('/-/healthy', 3),
      readinessProbe: probe('/-/ready', 1),
      volumeMounts: [
        { name: 'config', mountPath: o.configDir, readOnly: true },
        // The only writable places: the SQLite store (with its -wal and -shm files) and /tmp.
        { name: 'store', mountPath: o.storeDir },
        { name: 'tmp', mountPath: '/tmp' },
      ],
    }],
    volumes: [
      { name: 'config', configMap: { name: o.name } },
      { name: 'store', persistentVolumeClaim: { claimName: o.name } },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ],
  };
}
