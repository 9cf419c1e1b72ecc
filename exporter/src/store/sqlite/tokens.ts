import type Database from 'better-sqlite3';
import type { StoredRefreshToken } from '../types.js';

/** Rotated OAuth2 refresh tokens, sealed by auth/sealed.ts before they get here. */
export class SqliteTokens {
  readonly #get;
  readonly #put;

  constructor(db: Database.Database) {
    this.#get = db.prepare<[string], { sealed: Buffer; initial_fingerprint: string; rotated_at: number }>(
      'SELECT sealed, initial_fingerprint, rotated_at FROM oauth_refresh_token WHERE login_key = ?');
    this.#put = db.prepare<[string, Buffer, string, number]>(`
      INSERT INTO oauth_refresh_token (login_key, sealed, initial_fingerprint, rotated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (login_key) DO UPDATE SET sealed = excluded.sealed, initial_fingerprint = excluded.initial_fingerprint, rotated_at = excluded.rotated_at`);
  }

  getRefreshToken(loginKey: string): StoredRefreshToken | undefined {
    const row = this.#get.get(loginKey);
    return row && { sealed: row.sealed, initialFingerprint: row.initial_fingerprint, rotatedAt: row.rotated_at };
  }

  /** One statement: the old token is replaced by the new one or kept, never lost half-way. */
  putRefreshToken(loginKey: string, token: StoredRefreshToken): void {
    this.#put.run(loginKey, token.sealed, token.initialFingerprint, token.rotatedAt);
  }
}
