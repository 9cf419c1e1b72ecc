import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../exporter/src/config/index.js';
import { runnerId } from '../exporter/src/leases/wanted.js';

/**
 * The compose profile `scale` (docs/scaling.md): without a Docker engine here, what can be checked
 * is that its runners' config loads, that each runner gets its own id, and that its Prometheus
 * scrapes every runner of the profile and nothing else.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
interface Service { profiles?: string[]; hostname?: string; image?: string; volumes?: string[]; environment?: Record<string, string> }
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const scale = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('scale'));
const runners = scale.filter(([, s]) => s.image === 'mailsync:demo');

describe('the compose profile scale', () => {
  it('has PostgreSQL, three runners and a Prometheus, and leaves the default stack alone', () => {
    expect(scale.map(([name]) => name).sort()).toEqual(['mailsync-scale-1', 'mailsync-scale-2', 'mailsync-scale-3', 'postgres', 'prometheus-scale']);
    expect(compose.services.postgres?.image).toBe('postgres:15');
  });

  it('gives each runner the shared PostgreSQL config and its own runner id', () => {
    const ids = runners.map(([name, s]) => {
      expect(s.hostname, name).toBe(name);
      expect(s.volumes).toContain('./demo/compose/mailsync-scale.yaml:/etc/mailsync/mailsync.yaml:ro');
      const config = loadConfigFile(path.join(root, 'demo/compose/mailsync-scale.yaml'), { env: { ...s.environment, MAILSYNC_PG_URL: 'postgresql://mailsync:pw@postgres:5432/mailsync' } });
      expect(config.store.driver).toBe('postgresql');
      // node is PID 1 in the image (exec-form ENTRYPOINT).
      return runnerId(config, s.hostname, 1);
    });
    expect(ids).toEqual(['mailsync-scale-1-1', 'mailsync-scale-2-1', 'mailsync-scale-3-1']);
  });

  it('scrapes every runner of the profile', () => {
    const prometheus = parse(readFileSync(path.join(root, 'demo/compose/prometheus-scale.yml'), 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targets.sort()).toEqual(runners.map(([name]) => `${name}:9782`).sort());
  });
});
