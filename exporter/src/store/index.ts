export { Store, RUN_HISTORY } from './store.js';
export type * from './types.js';
