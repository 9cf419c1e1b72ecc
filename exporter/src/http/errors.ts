import type { Request } from 'express';

export interface HttpFailure {
  status: number;
  message: string;
}

/**
 * What to tell a client whose request failed before or inside a route, in words that name the
 * request's fault and nothing of mailsync's insides (no stack, no install path). Undefined for an
 * error that is mailsync's own fault: the caller answers 500 and logs it.
 */
export function describeRequestError(error: unknown, req: Request): HttpFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { type?: string; status?: number; statusCode?: number; message?: string; code?: string; expose?: boolean };
  const encoding = req.get('content-encoding') ?? 'identity';
  switch (e.type) {
    case 'entity.parse.failed': return { status: 400, message: `body is not valid JSON: ${e.message ?? ''}`.trim() };
    case 'entity.too.large': return { status: 413, message: 'the request body is too large' };
    case 'encoding.unsupported': return { status: 415, message: `unsupported Content-Encoding "${encoding}" (gzip, deflate and br are read)` };
    case 'charset.unsupported': return { status: 415, message: e.message ?? 'unsupported charset' };
    case 'request.aborted': return { status: 400, message: 'the request was aborted before its body arrived' };
    case 'request.size.invalid': return { status: 400, message: 'the body is not as long as its Content-Length says' };
  }
  const status = e.status ?? e.statusCode;
  // The router could not decode a path segment such as %E0%A4%A.
  if (status === 400 && e.message?.startsWith('Failed to decode param')) return { status: 400, message: 'malformed percent-encoding in the path' };
  // zlib's failure to inflate a body that claims an encoding it does not have.
  if (status === 400 && typeof e.code === 'string' && e.code.startsWith('Z_')) return { status: 400, message: `the body is not valid ${encoding} data` };
  if (typeof status === 'number' && status >= 400 && status < 500 && e.expose) return { status, message: 'bad request' };
  return undefined;
}
