/**
 * bench:feed's consumer in its own thread, as a real consumer is another process: it reads the
 * whole feed with raw bytes as multipart/mixed pages (test/harness/feed-multipart.ts) when told
 * to, and answers how many emails' bytes it received. The runner's thread only serves.
 */
import { get, type IncomingMessage } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { boundaryOf, FeedPageReader, type FeedPart } from '../harness/feed-multipart.js';
import { profiled } from './common.js';

const { base, token, page } = workerData as { base: string; token: string; page: number };

function request(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { authorization: `Bearer ${token}`, accept: 'multipart/mixed' } }, (res) => {
      if (res.statusCode === 200) resolve(res);
      else reject(new Error(`GET ${url} answered ${res.statusCode}`));
    }).on('error', reject);
  });
}

/** One page's parts handed to `onPart` as the chunks arrive: no promise per part. */
function readPage(res: IncomingMessage, onPart: (part: FeedPart) => void): Promise<void> {
  const reader = new FeedPageReader(boundaryOf(res.headers['content-type'] ?? null), onPart);
  return new Promise((resolve, reject) => {
    res.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        res.destroy(error as Error);
      }
    });
    res.on('error', reject);
    res.on('end', () => {
      try {
        reader.end();
        resolve();
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/**
 * Every change's JSON part parsed, every message/rfc822 part taken as bytes; pages until an empty
 * one. With `ahead`, the next page is asked for as soon as this page's headers give its cursor
 * (Mailsync-Next), so the runner reads the store for it while this one is parsed: the pages are
 * still read one after the other, in order.
 */
export async function readWholeFeed(ahead: boolean): Promise<number> {
  let n = 0;
  const pageAfter = (after: string) => request(`${base}/changes?after=${after}&limit=${page}&include=raw`);
  let res = await pageAfter('0');
  for (;;) {
    const after = String(res.headers['mailsync-next']);
    const next = ahead ? pageAfter(after) : undefined;
    // Awaited below; until then a failure of this page must not leave it rejected unhandled.
    next?.catch(() => undefined);
    let changes = 0;
    await readPage(res, (part) => {
      if (part.type === 'application/json') changes += (JSON.parse(part.body.toString()) as { rawBytes: number }).rawBytes > 0 ? 1 : 0;
      else if (part.type === 'message/rfc822' && part.body.length > 0) n += 1;
    });
    if (changes === 0) {
      (await next)?.resume();
      return n;
    }
    res = await (next ?? pageAfter(after));
  }
}

let round = 0;
parentPort!.on('message', ({ ahead }: { ahead: boolean }) => {
  // Profiled apart from the runner's thread (BENCH_CPU_PROFILE): the consumer's CPU is half the figure's.
  profiled(`feed-consumer-${round++}`, () => readWholeFeed(ahead)).then((n) => parentPort!.postMessage({ n }), (error: unknown) => parentPort!.postMessage({ error: String(error) }));
});
parentPort!.postMessage({ ready: true });
