/**
 * JSON data written as jsonnet source, the way mixins are written by hand: unquoted field names
 * where jsonnet allows them, single-quoted strings, two-space indent, trailing commas. A value the
 * caller recognises (a stand-in for a `_config` field) is written as the jsonnet expression the
 * caller gives instead. Pure: text out.
 */

/** Jsonnet's keywords: as field names they must be quoted (`'for': '5m'`). */
const KEYWORDS = new Set([
  'assert', 'else', 'error', 'false', 'for', 'function', 'if', 'import', 'importbin', 'importstr', 'in', 'local', 'null',
  'self', 'super', 'tailstrict', 'then', 'true',
]);

/**
 * A string literal: single quotes, so PromQL's double quotes stay readable, or double quotes for
 * text with an apostrophe and no double quote (what jsonnetfmt writes, so its check passes).
 */
export function quote(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a literal must escape
  const body = s.replace(/[\\'"\u0000-\u001f]/g, (c) => {
    if (c === '\\' || c === q) return `\\${c}`;
    if (c === '"' || c === "'") return c;
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return `${q}${body}${q}`;
}

export const fieldName = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && !KEYWORDS.has(k) ? k : quote(k));

/** Returns the jsonnet expression for a value it takes over, or undefined to write the value as data. */
export type Substitute = (value: string | number) => string | undefined;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function toJsonnet(value: Json, substitute: Substitute, indent = ''): string {
  if (typeof value === 'string' || typeof value === 'number') {
    const expr = substitute(value);
    if (expr !== undefined) return expr;
    return typeof value === 'string' ? quote(value) : JSON.stringify(value);
  }
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => `${inner}${toJsonnet(v, substitute, inner)},\n`).join('')}${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${inner}${fieldName(k)}: ${toJsonnet(v, substitute, inner)},\n`).join('')}${indent}}`;
}
