import type { z } from 'zod';

/** A config that cannot be applied. `problems` holds one line per problem: "path: reason". */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`invalid config ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** `['mailboxes', 2, 'profile']` -> `mailboxes[2].profile`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

export function formatIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`);
  }
  if (issue.code === 'invalid_union' && issue.path.length > 0) {
    return [`${formatPath(issue.path)}: ${unionHint(issue.path)}`];
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

function unionHint(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  if (last === 'password') return 'must be "${ENV_NAME}", { env: ENV_NAME } or { file: /path/to/secret }';
  if (last === 'startFrom') return 'must be "all" or a date such as 2026-01-31';
  return 'is not any of the accepted forms';
}
