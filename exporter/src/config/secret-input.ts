import { z } from 'zod';

/** A secret as written in YAML: "${ENV_NAME}", { file: path } or (discouraged) an inline string. */
export const secretInput = z.union([
  z.string().min(1),
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }),
]);
