export { EmailRecords, SUMMARY_CACHE_CHARS, type EmailFilter, type EmailWithBody } from './emails.js';
export { FailureRecords, type FailureFilter } from './failures.js';
export { recordRoutes } from './routes.js';
export { encodeCursor, decodeCursor, type Page } from './cursor.js';
