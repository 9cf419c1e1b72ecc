// C: secrets in store definitions. The store keeps references only (an env variable or a file
// each runner reads itself), never a password in clear.

/** The keys of the config schema whose value is a secret (config/secret-input.ts). */
const SECRET_KEYS = new Set(['password', 'refreshToken', 'clientSecret', 'privateKey', 'serviceAccountKey']);

const ENV_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** What stands in the store for a secret written inline in a config file: it does not validate anywhere else. */
export const NOT_STORED = { inline: 'written in the config file of the runner that imported it; not stored' } as const;

type Visit = (value: unknown, path: string) => unknown;

function walk(value: unknown, path: string, visit: Visit): unknown {
  if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`, visit));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    out[key] = SECRET_KEYS.has(key) ? visit(v, at) : walk(v, at, visit);
  }
  return out;
}

/** An API body's secrets written as values: each named, never quoted. */
export function inlineSecretProblems(body: unknown): string[] {
  const problems: string[] = [];
  walk(body, '', (value, path) => {
    if (typeof value === 'string') {
      problems.push(`${path}: the API accepts a secret only as { env: NAME } or { file: /path } (read by each runner), never its value`);
    }
    return value;
  });
  return problems;
}

/** A file's definition as the store keeps it: a secret written inline becomes NOT_STORED. */
export function withoutInlineSecrets(body: Record<string, unknown>): Record<string, unknown> {
  return walk(body, '', (value) => (typeof value === 'string' && !ENV_REF.test(value) ? NOT_STORED : value)) as Record<string, unknown>;
}
