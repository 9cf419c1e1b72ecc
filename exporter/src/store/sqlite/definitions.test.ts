import { definitionStoreSuite } from '../../../../test/support/definition-store-suite.js';
import { SqliteStore } from './store.js';

definitionStoreSuite(async () => {
  const store = new SqliteStore({ path: ':memory:' });
  return { definitions: store.definitions, close: () => store.close() };
});
