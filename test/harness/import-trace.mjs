// `node --import <this file>`: the process appends every module it resolves to the file named by
// MAILSYNC_IMPORT_TRACE, one line each: the specifier asked for, a tab, the URL it resolved to.
// What a start-up loads, seen from outside (test/integration/lazy-imports.test.ts).
import { register } from 'node:module';

register('./import-trace-hooks.mjs', import.meta.url, { data: { file: process.env.MAILSYNC_IMPORT_TRACE } });
