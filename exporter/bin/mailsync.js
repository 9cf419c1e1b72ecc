#!/usr/bin/env node
// Entry point of the mailsync command; the code lives in dist/ (npm run build).
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`mailsync: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 1;
  },
);
