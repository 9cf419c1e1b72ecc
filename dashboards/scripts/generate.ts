// Writes dashboards/generated/*.json from dashboards/src (npm run dashboards:generate).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboards } from '../src/render.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../generated');
for (const [name, text] of Object.entries(renderDashboards())) {
  writeFileSync(path.join(dir, name), text);
  console.log(`wrote ${path.join(dir, name)}`);
}
