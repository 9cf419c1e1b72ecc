import type { z } from 'zod';

/**
 * How many problems a report lists, and how long one may be: a file of random bytes has tens of
 * thousands of YAML errors, and printing (or answering a reload with) megabytes of them helps
 * nobody. The first ones name where to start; the count says how many more there are.
 */
export const MAX_PROBLEMS = 20;
const MAX_PROBLEM_CHARS = 300;

/** A config that cannot be applied. `problems` holds one line per problem: "path: reason". */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    const shown = problems.slice(0, MAX_PROBLEMS).map(clip);
    if (problems.length > MAX_PROBLEMS) shown.push(`... and ${problems.length - MAX_PROBLEMS} more problems`);
    super(`invalid config ${file}:\n${shown.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = shown;
  }
}

/** One bounded, printable line: a problem may quote bytes of a binary file. */
function clip(line: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const printable = line.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return printable.length <= MAX_PROBLEM_CHARS ? printable : `${printable.slice(0, MAX_PROBLEM_CHARS - 3)}...`;
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
  return [`${formatPath(issue.path)}: ${message(issue)}`];
}

/** zod's wording where a person would want another: a missing key is "required", 2.5 is not a whole number. */
function message(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (/received undefined$/.test(issue.message)) return 'required';
    if (issue.expected === 'int') return 'must be a whole number';
  }
  return issue.message;
}

function unionHint(path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  if (last === 'password') return 'must be "${ENV_NAME}", { env: ENV_NAME } or { file: /path/to/secret }';
  if (last === 'startFrom') return 'must be "all" or a date such as 2026-01-31';
  return 'is not any of the accepted forms';
}
