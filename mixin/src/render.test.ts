import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { substitute, type FieldName } from './fields.js';
import { quote, toJsonnet } from './jsonnet.js';
import { renderMixin } from './render.js';

const mixinDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the mixin', () => {
  it('is committed exactly as alerts/src and dashboards/src generate it (run `npm run mixin:generate`)', () => {
    for (const [name, text] of Object.entries(renderMixin())) expect(readFileSync(path.join(mixinDir, name), 'utf8'), name).toBe(text);
  });

  it('leaves no stand-in behind', () => {
    for (const [name, text] of Object.entries(renderMixin())) expect(text, name).not.toMatch(/[\u27e6\u27e7]/);
  });
});

describe('stand-ins become _config references', () => {
  const sub = (v: string | number, used = new Set<FieldName>()) => substitute(used)(v);

  it('a whole value, a pattern, text around fields (with its own % doubled), a number', () => {
    expect(sub('\u27e6disabledFor\u27e7')).toBe('$._config.disabledFor');
    expect(sub('\u27e6runbookURLPattern%\u27e7mailsyncexporterdown')).toBe("$._config.runbookURLPattern % 'mailsyncexporterdown'");
    expect(sub('up{\u27e6mailsyncSelector\u27e7} > 50 %')).toBe("'up{%(mailsyncSelector)s} > 50 %%' % $._config");
    expect(sub(-7_000_001)).toBe('$._config.testEnableLongSeconds / 60');
    expect(sub('plain %q text')).toBeUndefined();
    expect(sub(5)).toBeUndefined();
  });

  it('records the fields it meets', () => {
    const used = new Set<FieldName>();
    sub('a \u27e6mailsyncSelector\u27e7 b \u27e6notSyncingSeconds\u27e7', used);
    expect([...used].sort()).toEqual(['mailsyncSelector', 'notSyncingSeconds']);
  });

  it('refuses an unknown field and a pattern inside other text, naming the value', () => {
    expect(() => sub('\u27e6nope\u27e7')).toThrow(/unknown _config field nope/);
    expect(() => sub('see \u27e6runbookURLPattern%\u27e7x')).toThrow(/pattern field must be the whole value.*see/);
  });
});

describe('jsonnet text', () => {
  it('quotes as jsonnetfmt does, escapes what a literal cannot hold', () => {
    expect(quote('job=~"a.*"')).toBe(`'job=~"a.*"'`);
    expect(quote("profile's")).toBe(`"profile's"`);
    expect(quote(`it's "x"`)).toBe(`'it\\'s "x"'`);
    expect(quote('a\\b\nc')).toBe("'a\\\\b\\nc'");
  });

  it('quotes field names that are not identifiers or are keywords', () => {
    expect(toJsonnet({ for: '5m', 'a.json': {}, ok: [] }, () => undefined)).toBe("{\n  'for': '5m',\n  'a.json': {},\n  ok: [],\n}");
  });
});
