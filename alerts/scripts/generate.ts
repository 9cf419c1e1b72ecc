// Writes alerts/rules/*.yaml from alerts/src (npm run alerts:generate).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderRuleFiles } from '../src/generate.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../rules');
for (const [name, text] of Object.entries(renderRuleFiles())) {
  writeFileSync(path.join(dir, name), text);
  console.log(`wrote ${path.join(dir, name)}`);
}
