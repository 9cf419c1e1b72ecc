import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stdout. Secrets are already unprintable (config/secret.ts); the redaction paths
 * are a second net for anything that carries a password or token under a familiar name.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mailsync' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['password', 'pass', '*.password', '*.pass', '*.auth.pass', 'authorization', '*.authorization', 'token', '*.token'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
