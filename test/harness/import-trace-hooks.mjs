// The resolve hook import-trace.mjs registers. It runs on the loader's thread and sees every ESM
// import (static or dynamic); on Node 20, require() calls inside CommonJS packages are not seen.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (file) appendFileSync(file, `${specifier}\t${resolved.url}\n`);
  return resolved;
}
