import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './index.js';

/** YAML-ish text: keys the schema knows, values of every kind, flow and block syntax, anchors and aliases. */
const token = fc.oneof(
  fc.constantFrom('organization', 'profiles', 'mailboxes', 'id', 'incoming', 'host', 'port', 'sync', 'batchSize', 'store', 'path', 'api', 'tokens'),
  fc.constantFrom(': ', '\n', '  ', '- ', '{', '}', '[', ']', ', ', '&a ', '*a', '"', "'", '#', '|', '>', '!!str ', '~', 'null', 'true', '1e400', '-1', '2.5', '0x1F'),
  fc.string({ maxLength: 12 }),
);
const texts = fc.array(token, { maxLength: 80 }).map((parts) => parts.join(''));

describe('the config loader, on any text', () => {
  it('accepts it or throws a ConfigError whose problems are bounded lines, nothing else', () => {
    fc.assert(fc.property(texts, (text) => {
      try {
        parseConfig(text, '/etc/mailsync/mailsync.yaml', { env: {} });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        const { problems } = error as ConfigError;
        expect(problems.length).toBeGreaterThan(0);
        for (const p of problems) expect(p.length).toBeLessThanOrEqual(300);
      }
    }), { numRuns: 2_000 });
  });
});
