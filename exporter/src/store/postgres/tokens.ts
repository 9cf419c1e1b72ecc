import type { StoredRefreshToken } from '../types.js';
import type { Db } from './connection.js';

/** Rotated OAuth2 refresh tokens in PostgreSQL, sealed by auth/sealed.ts before they get here. */
export class PgTokens {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async getRefreshToken(loginKey: string): Promise<StoredRefreshToken | undefined> {
    const [row] = await this.#db.read<{ sealed: Buffer; initial_fingerprint: string; rotated_at: number }>(
      'SELECT sealed, initial_fingerprint, rotated_at FROM oauth_refresh_token WHERE login_key = $1', [loginKey]);
    return row && { sealed: row.sealed, initialFingerprint: row.initial_fingerprint, rotatedAt: row.rotated_at };
  }

  /** One statement: the old token is replaced by the new one or kept, never lost half-way. */
  async putRefreshToken(loginKey: string, token: StoredRefreshToken): Promise<void> {
    await this.#db.write((tx) => tx.query(`INSERT INTO oauth_refresh_token (login_key, sealed, initial_fingerprint, rotated_at)
      VALUES ($1, $2, $3, $4) ON CONFLICT (login_key) DO UPDATE
      SET sealed = excluded.sealed, initial_fingerprint = excluded.initial_fingerprint, rotated_at = excluded.rotated_at`,
    [loginKey, token.sealed, token.initialFingerprint, token.rotatedAt]));
  }
}
