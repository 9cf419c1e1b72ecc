/**
 * Finds contract values written out again outside the contract. Pure: a file's text in, the hits
 * out (the test walks the repository). Each rule looks for the value in the shape a copy takes, not
 * for the words alone, so ordinary prose and subsets (`['incoming', 'outgoing']`) pass.
 */
import { DIRECTIONS } from '../directions.js';
import { HEALTH_BUCKETS } from '../health.js';
import { APPROVALS, TEST_STATES } from '../lifecycle.js';
import { RUNBOOK_BASE_URL } from '../runbook.js';
import { TAXONOMY } from '../taxonomy.js';
import { DEFAULT_RETRY_BUDGET, INTERMITTENT_WINDOW_SECONDS, LONG_TEST_ENABLE_SECONDS } from '../thresholds.js';

export interface Hit {
  file: string;
  line: number;
  rule: string;
  text: string;
}

interface Rule {
  name: string;
  /** Offsets in the text where the rule matched. */
  find: (text: string) => number[];
}

const offsets = (text: string, re: RegExp): number[] => [...text.matchAll(re)].map((m) => m.index);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The URL without its scheme, so `http://` or a template literal's prefix does not hide it. */
const runbookUrl: Rule = {
  name: 'runbook URL',
  find: (text) => offsets(text, new RegExp(escape(RUNBOOK_BASE_URL.replace(/^https?:\/\//, '')), 'g')),
};

/**
 * Quoted words joined by `,` or `|` (array elements, a type union, a PromQL alternation or a
 * comma-joined string, over several lines too): a copy of a list when it names every member.
 */
const QUOTED = String.raw`(?:'[\w,|]+'|"[\w,|]+"|\`[\w,|]+\`)`;
const QUOTED_RUN = new RegExp(`${QUOTED}(?:\\s*[,|]\\s*${QUOTED})*`, 'g');

function completeList(name: string, members: readonly string[]): Rule {
  return {
    name: `list of ${name}`,
    find: (text) => [...text.matchAll(QUOTED_RUN)]
      .filter((m) => {
        const words = new Set(m[0].split(/\W+/));
        return members.every((w) => words.has(w));
      })
      .map((m) => m.index),
  };
}

/** A number literal, or a product of them (`15 * 60`, `3 * 3_600`). */
const NUMBER = String.raw`\d[\d_]*(?:\.\d+)?(?:\s*\*\s*\d[\d_]*(?:\.\d+)?)*`;
const ASSIGNED = new RegExp(String.raw`\b\w+\s*[:=]\s*(${NUMBER})(?![\w.])`, 'g');
const valueOf = (expr: string) => expr.split('*').reduce((p, f) => p * Number(f.trim().replaceAll('_', '')), 1);

/**
 * A threshold under one of its names: on a line that names it, a key or variable set to its value
 * (in seconds, milliseconds or minutes). Other values (a test's own threshold) pass.
 */
function threshold(name: string, names: RegExp, values: number[]): Rule {
  return {
    name: `${name} threshold`,
    find: (text) => {
      const out: number[] = [];
      for (const line of text.matchAll(/^.*$/gm)) {
        if (!names.test(line[0])) continue;
        for (const m of line[0].matchAll(ASSIGNED)) if (values.includes(valueOf(m[1] as string))) out.push(line.index + m.index);
      }
      return out;
    },
  };
}
const inUnits = (seconds: number) => [seconds, seconds * 1_000, seconds / 60];

/** The taxonomy is data of the contract: not imported from the exporter's sources by others. */
const taxonomyImport: Rule = {
  name: 'taxonomy imported from exporter/src',
  find: (text) => offsets(text, /import\s*(?:type\s*)?\{[^}]*\bTAXONOMY\b[^}]*\}\s*from\s*['"][^'"]*exporter\/src\/[^'"]*['"]/g),
};

/**
 * A code followed by its class, scope rule and level: a row of the taxonomy table written again.
 * (A test's expected classification, code, class and scope, is an expectation, not a copy.)
 */
const word = (alternatives: string) => `['"\`](?:${alternatives})['"\`]`;
const TAXONOMY_ROW = [
  TAXONOMY.map((e) => escape(e.code)).join('|'), 'permanent|transient', 'server|mailbox|credential_source', 'mailbox|item',
].map(word).join(String.raw`\s*,\s*`);
const taxonomyRow: Rule = {
  name: 'taxonomy row',
  find: (text) => offsets(text, new RegExp(TAXONOMY_ROW, 'g')),
};

export const RULES: readonly Rule[] = [
  runbookUrl,
  completeList('directions', DIRECTIONS),
  completeList('health buckets', HEALTH_BUCKETS),
  completeList('approval states', APPROVALS),
  completeList('Test & Enable states', TEST_STATES),
  threshold('long Test & Enable', /longTest|testEnableLong|LongTestEnable|LONG_TEST/, inUnits(LONG_TEST_ENABLE_SECONDS)),
  threshold('retry budget', /\bretryBudget\b|maxTransientRetries|RETRY_BUDGET/, [DEFAULT_RETRY_BUDGET]),
  threshold('intermittent window', /intermittentWindow|INTERMITTENT_WINDOW/, inUnits(INTERMITTENT_WINDOW_SECONDS)),
  taxonomyImport,
  taxonomyRow,
];

/** Every place in `text` where a rule matched, with its line (1-based) for the message. */
export function scan(file: string, text: string, rules: readonly Rule[] = RULES): Hit[] {
  const lineStarts = [0, ...offsets(text, /\n/g).map((i) => i + 1)];
  const lineOf = (offset: number) => lineStarts.filter((s) => s <= offset).length;
  return rules.flatMap((rule) => rule.find(text).map((offset) => {
    const line = lineOf(offset);
    const end = text.indexOf('\n', offset);
    return { file, line, rule: rule.name, text: text.slice(lineStarts[line - 1], end === -1 ? undefined : end).trim().slice(0, 160) };
  }));
}
