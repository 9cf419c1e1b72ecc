import { ConfigError, type Config } from '../config/index.js';
import { configFromDocument } from '../config/load.js';
import type { Definition, DefinitionInput, DefinitionKind } from '../store/index.js';
import { withoutInlineSecrets } from './secrets.js';

// C: pure steps between a config file, the store's definitions and the running config.

const LISTS: Record<DefinitionKind, 'profiles' | 'mailboxes'> = { profile: 'profiles', mailbox: 'mailboxes' };

const keyOf = (kind: DefinitionKind, id: string) => `${kind}:${id}`;

function entries(document: unknown, list: 'profiles' | 'mailboxes'): Record<string, unknown>[] {
  const value = (document as Record<string, unknown> | null)?.[list];
  return Array.isArray(value) ? value.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as { id?: unknown }).id === 'string') : [];
}

/** The file's own profiles and mailboxes, keyed by kind and id, as written (inline secrets included). */
export function fileBodies(document: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const kind of ['profile', 'mailbox'] as const) {
    for (const body of entries(document, LISTS[kind])) out.set(keyOf(kind, body.id as string), body);
  }
  return out;
}

/** What a file import writes: the file's definitions without inline secrets, in file order. */
export function fileDefinitions(document: unknown, file: string, at: number): DefinitionInput[] {
  return [...fileBodies(document)].map(([key, body]) => ({
    kind: key.slice(0, key.indexOf(':')) as DefinitionKind, id: body.id as string, body: withoutInlineSecrets(body), changedBy: `file:${file}`, changedAt: at,
  }));
}

/** A problem's `mailboxes[3]` as `mailbox "sales" (api)`: the merged list's order means nothing to a reader. */
function relabel(text: string, labels: Record<'profiles' | 'mailboxes', string[]>): string {
  return text.replace(/\b(profiles|mailboxes)\[(\d+)\]/g, (whole, list: 'profiles' | 'mailboxes', i: string) => labels[list][Number(i)] ?? whole);
}

/**
 * The running config: the runner's own file for every setting, its profiles and mailboxes
 * replaced by the store's definitions (file and API), validated together by the file's schema and
 * checks. A definition this runner's file holds is taken from the file itself (its inline
 * secrets are not in the store). Throws ConfigError whose problems name definitions by id.
 */
export function buildConfig(document: unknown, file: string, definitions: readonly Definition[], env?: NodeJS.ProcessEnv): Config {
  const own = fileBodies(document);
  const labels: Record<'profiles' | 'mailboxes', string[]> = { profiles: [], mailboxes: [] };
  const lists: Record<'profiles' | 'mailboxes', Record<string, unknown>[]> = { profiles: [], mailboxes: [] };
  // The file's own in file order (as a runner without API definitions always had them), then the rest.
  const order = new Map([...own.keys()].map((k, i) => [k, i]));
  const rank = (d: Definition) => order.get(keyOf(d.kind, d.id)) ?? order.size;
  const sorted = [...definitions].sort((a, b) => rank(a) - rank(b));
  for (const d of sorted) {
    const list = LISTS[d.kind];
    lists[list].push((d.source === 'file' ? own.get(keyOf(d.kind, d.id)) : undefined) ?? d.body);
    labels[list].push(`${d.kind} "${d.id}" (${d.source === 'file' ? d.changedBy : 'api'})`);
  }
  const merged = { ...(document as Record<string, unknown>), ...lists };
  let config: Config;
  try {
    config = configFromDocument(merged, file, env ? { env } : {});
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(file, error.problems.map((p) => relabel(p, labels)));
    throw error;
  }
  return {
    ...config,
    warnings: config.warnings.map((w) => relabel(w, labels)),
    mailboxes: config.mailboxes.map((m) => (m.approval ? { ...m, approval: { ...m.approval, declaredAt: relabel(m.approval.declaredAt, labels) } } : m)),
  };
}
