// Writes the mixin's generated files under mixin/ from alerts/src and dashboards/src (npm run mixin:generate).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMixin } from '../src/render.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const [name, text] of Object.entries(renderMixin())) {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
