import type { Role } from '../config/index.js';

/** A refusal the API turns into an HTTP status with a JSON body. */
export class OperationError extends Error {
  constructor(readonly status: 400 | 403 | 404 | 409, message: string) {
    super(message);
    this.name = 'OperationError';
  }
}

/** Who does something to a mailbox, as the audit log records it. */
export interface Actor {
  /** The API token's name (never the token), or the local user for the offline CLI. */
  name: string;
  role: Role;
}
