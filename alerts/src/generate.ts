import { stringify } from 'yaml';
import { ruleFiles } from './rules.js';

export const RULES_HEADER = '# Generated from alerts/src by `npm run alerts:generate`; do not edit by hand.\n';

/** The text of each rule file under alerts/rules/, by file name. */
export function renderRuleFiles(): Record<string, string> {
  return Object.fromEntries(Object.entries(ruleFiles()).map(([group, doc]) => [
    `${group}.yaml`,
    RULES_HEADER + stringify(doc, { lineWidth: 0 }),
  ]));
}
