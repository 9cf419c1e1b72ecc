// Writes deploy/kubernetes/*.yaml from deploy/kubernetes/src (npm run deploy:generate).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderManifests } from '../src/manifests.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
for (const [name, text] of Object.entries(renderManifests())) {
  writeFileSync(path.join(dir, name), text);
  console.log(`wrote ${path.join(dir, name)}`);
}
