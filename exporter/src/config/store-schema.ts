import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { secretInput } from './secret-input.js';

/** Where mailsync keeps its state: the embedded SQLite file, or a PostgreSQL several runners share. */
export const storeSchema = z
  .strictObject({
    path: z.string().min(1).default(DEFAULTS.storePath),
    /** A: the key rotated OAuth2 refresh tokens are encrypted with in the store (required with grant refresh_token). */
    encryptionKey: secretInput.optional(),
    // E: raw messages as append-only pack files; unset means `<path>.packs`, next to the SQLite file.
    packDir: z.string().min(1).optional(),
    // A: which database: the embedded SQLite file at `path`, or a PostgreSQL that several runners share.
    driver: z.enum(['sqlite', 'postgresql']).default('sqlite'),
    postgresql: z
      .strictObject({
        /** A connection string; a secret input (env/file), since it may carry the password. Required with driver postgresql. */
        url: secretInput.optional(),
        ssl: z
          .strictObject({
            mode: z.enum(['disable', 'require', 'verify-full']).default('disable'),
            caFile: z.string().min(1).optional(),
            certFile: z.string().min(1).optional(),
            keyFile: z.string().min(1).optional(),
          })
          .prefault({}),
        poolSize: z.number().int().positive().max(1_000).default(10),
      })
      .prefault({}),
  })
  .prefault({});

/** B: this process among several runners on one shared store (docs/scaling.md). */
export const runnerSchema = z
  .strictObject({
    /** Unique per running process: two processes with one id would both believe they hold its leases. */
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'must be 1-63 letters, digits, dots, dashes or underscores' }).optional(),
  })
  .prefault({});

/** B: how long a runner's claim on a mailbox direction lasts without renewal. */
export const leasesSchema = z
  .strictObject({
    seconds: z.number().int().min(3).max(3_600).default(DEFAULTS.leaseSeconds),
  })
  .prefault({});
