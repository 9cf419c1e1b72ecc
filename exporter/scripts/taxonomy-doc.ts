// Writes docs/taxonomy.md from the taxonomy table (npm run docs:taxonomy).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTaxonomyDoc } from '../src/classify/doc.js';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/taxonomy.md');
writeFileSync(target, renderTaxonomyDoc());
console.log(`wrote ${target}`);
