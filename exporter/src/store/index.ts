export { Store, RUN_HISTORY } from './store.js';
export type * from './types.js';
export { SCRAPE_COLUMNS } from './types.js';
export { OUTGOING_STATES } from './outgoing.js';
export type { OutgoingEmail, OutgoingEvent, OutgoingState, QueuedEmailInput } from './outgoing.js';
