import type { ImapFlowOptions } from 'imapflow';
import type { Logger } from '../log.js';

/** imapflow logs every command at debug; keep only its warnings and errors in our log. */
export function imapLogger(logger: Logger): ImapFlowOptions['logger'] {
  const child = logger.child({ component: 'imap' });
  const quiet = () => undefined;
  return {
    debug: quiet,
    info: quiet,
    warn: (obj: object) => child.warn(obj),
    error: (obj: object) => child.error(obj),
  };
}
