export { Store, RUN_HISTORY } from './store.js';
export type * from './types.js';
export { SCRAPE_COLUMNS } from './types.js';
