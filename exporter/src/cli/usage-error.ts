/**
 * The command line was wrong (unknown option, missing value, unknown action): main prints the
 * message with a pointer to the command's help and exits with status 2, without a stack trace.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
