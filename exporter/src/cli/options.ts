import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

// Each command's options are one table: node:util parseArgs accepts exactly its entries and the
// help lists exactly its entries, so an option cannot be parsed without being documented, or
// documented without being parsed.

interface OptionBase {
  short?: string;
  /** Repeatable; the value is a list. */
  multiple?: boolean;
  description: string;
  /** What applies when the option is not given, in the help's words. */
  default?: string;
  /** Checked after parsing (not with --help): "<command>: --NAME VALUE is required". */
  required?: boolean;
}
export type OptionDef = (OptionBase & { type: 'string'; /** The value's name in the help: `--config FILE`. */ value: string }) | (OptionBase & { type: 'boolean' });
export type OptionTable = Record<string, OptionDef>;

type ValueOf<D extends OptionDef> = (D['type'] extends 'boolean' ? boolean : string) extends infer V
  ? D extends { multiple: true } ? V[] : V
  : never;
/** The parsed values, typed from the table: required options are present, the others optional. */
export type Values<T extends OptionTable> =
  { [K in keyof T as T[K] extends { required: true } ? K : never]: ValueOf<T[K]> } &
  { [K in keyof T as T[K] extends { required: true } ? never : K]?: ValueOf<T[K]> };

const help: OptionBase & { type: 'boolean' } = { type: 'boolean', short: 'h', description: 'show this help' };
export const HELP_OPTION = { help };

export interface CommandSpec<T extends OptionTable = OptionTable> {
  /** As typed after `mailsync`, and as error messages start. */
  name: string;
  /** The usage line, after "Usage: ". */
  usage: string;
  /** The paragraphs between the usage line and the options. */
  about: string;
  /** The paragraphs after the options (exit status), if any. */
  after?: string;
  /** Every command also takes -h/--help, added here so no table can forget it. */
  options: T & typeof HELP_OPTION;
  positionals: boolean;
}

export function defineCommand<T extends OptionTable>(
  spec: Omit<CommandSpec<T>, 'options' | 'positionals'> & { options: T; positionals?: boolean },
): CommandSpec<T> {
  return { ...spec, options: { ...spec.options, ...HELP_OPTION }, positionals: spec.positionals ?? false };
}

export type Parsed<T extends OptionTable> =
  | { help: true }
  | { help: false; values: Values<T>; positionals: string[] };

/** Parses `args` against the command's table; bad usage throws UsageError naming the command. */
export function parseCommandLine<T extends OptionTable>(spec: CommandSpec<T>, args: string[]): Parsed<T> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: parseArgsOptions(spec.options), allowPositionals: spec.positionals, strict: true });
  } catch (error) {
    throw new UsageError(`${spec.name}: ${(error as Error).message}`);
  }
  if (parsed.values.help === true) return { help: true };
  for (const [name, def] of Object.entries(spec.options)) {
    // An empty value (`--mailbox ''`) names nothing, so it counts as missing.
    if (def.required && (parsed.values[name] === undefined || parsed.values[name] === '')) throw new UsageError(`${spec.name}: ${flag(name, def)} is required`);
  }
  return { help: false, values: parsed.values as Values<T>, positionals: parsed.positionals };
}

/** The table as parseArgs takes it: only the parsing fields (its own `default` would apply a value). */
function parseArgsOptions(table: OptionTable) {
  return Object.fromEntries(Object.entries(table).map(([name, def]) => [
    name,
    { type: def.type, ...(def.short ? { short: def.short } : {}), ...(def.multiple ? { multiple: true } : {}) },
  ]));
}

/** `--config FILE`, or `--json` for a boolean. */
function flag(name: string, def: OptionDef): string {
  return `--${name}${def.type === 'string' ? ` ${def.value}` : ''}`;
}

/** The help text: usage, the command's paragraphs, one line per option of the table. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, def]) => {
    const notes = [
      def.multiple ? ' (repeat for several)' : '',
      def.default !== undefined ? ` (default: ${def.default})` : '',
      def.required ? ' (required)' : '',
    ].join('');
    return [`${def.short ? `-${def.short}, ` : '    '}${flag(name, def)}`, `${def.description}${notes}`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  const options = rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
  return [`Usage: ${spec.usage}`, spec.about, `Options:\n${options}`, ...(spec.after ? [spec.after] : [])].join('\n\n');
}
