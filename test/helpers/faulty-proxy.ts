/**
 * A real HTTP proxy on 127.0.0.1 in front of a test registry, which misbehaves on demand: cuts a blob
 * response after N bytes, stalls one after N bytes (until the client goes away), answers 503 or 429
 * (with Retry-After) K times, corrupts a blob (same length, one byte flipped), refuses a PATCH of an
 * upload with 503 (nothing forwarded), or forwards only part of a PATCH's body and breaks off. Everything else is forwarded as is (Range headers too, so
 * the registry itself answers 206). Every request is logged with its method, path, Range and
 * Content-Range, and the status the client got.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';

export interface ProxyRequest {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  readonly contentRange: string | undefined;
  /** The status the client was answered (0 while in flight). */
  status: number;
  readonly at: number;
}

/** Which requests a fault applies to: blob GETs, manifest requests, PATCHes, or a pattern of the path. */
export type Match = 'blobs' | 'manifests' | 'patch' | 'any' | RegExp;

export interface Faults {
  /** Cut blob responses larger than minSize after `bytes` body bytes, `times` times (default every). */
  cut?: { bytes: number; times?: number; minSize?: number };
  /** Send `bytes` of a blob larger than minSize, then nothing more (the connection stays open). */
  stall?: { bytes: number; minSize?: number };
  /** Answer 503 to `times` matching requests (Infinity: forever). */
  unavailable?: { times: number; match?: Match };
  /** Answer 429 Too Many Requests with Retry-After to `times` matching requests. */
  tooMany?: { times: number; retryAfter: string; match?: Match };
  /** Forward only `bytes` of the first `times` PATCH bodies, then break both connections. */
  cutPatch?: { bytes: number; times?: number };
  /** Flip one byte in the middle of blobs larger than minSize. */
  corrupt?: { minSize?: number };
}

export interface FaultyProxy {
  readonly port: number;
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly requests: ProxyRequest[];
  /** Replaces the faults (counters start again). */
  set(faults: Faults): void;
  /** Body bytes of blob responses sent to clients so far. */
  readonly blobBytesSent: number;
}

const BLOB = /^\/v2\/.+\/blobs\/(sha256|sha512):[0-9a-f]+(\?.*)?$/;
const MANIFEST = /^\/v2\/.+\/manifests\/[^/]+$/;

function matches(match: Match, req: IncomingMessage): boolean {
  const url = req.url ?? '';
  if (match === 'any') return url.startsWith('/v2/') && url !== '/v2/';
  if (match === 'blobs') return req.method === 'GET' && BLOB.test(url);
  if (match === 'manifests') return MANIFEST.test(url);
  if (match === 'patch') return req.method === 'PATCH';
  return match.test(url);
}

export async function startFaultyProxy(
  t: { after: (fn: () => void | Promise<void>) => void },
  upstreamPort: number,
  initial: Faults = {},
): Promise<FaultyProxy> {
  let faults = initial;
  let counts = { cut: 0, unavailable: 0, tooMany: 0, cutPatch: 0 };
  const requests: ProxyRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  let blobBytesSent = 0;

  const answer = (
    res: ServerResponse,
    entry: ProxyRequest,
    status: number,
    headers: Record<string, string>,
  ) => {
    entry.status = status;
    const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${status}` }] });
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const entry: ProxyRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      range: req.headers.range,
      contentRange: req.headers['content-range'],
      status: 0,
      at: Date.now(),
    };
    requests.push(entry);
    const { unavailable, tooMany } = faults;
    if (unavailable && counts.unavailable < unavailable.times && matches(unavailable.match ?? 'any', req)) {
      counts.unavailable++;
      req.resume();
      answer(res, entry, 503, {});
      return;
    }
    if (tooMany && counts.tooMany < tooMany.times && matches(tooMany.match ?? 'any', req)) {
      counts.tooMany++;
      req.resume();
      answer(res, entry, 429, { 'retry-after': tooMany.retryAfter });
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: upstreamPort, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        const status = up.statusCode ?? 502;
        entry.status = status;
        const isBlob = req.method === 'GET' && BLOB.test(req.url ?? '') && (status === 200 || status === 206);
        if (!isBlob) {
          res.writeHead(status, up.headers);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => sendBlob(req, res, Buffer.concat(chunks), status, up.headers));
      },
    );
    upstream.on('error', () => res.destroy());
    const { cutPatch } = faults;
    if (cutPatch && req.method === 'PATCH' && counts.cutPatch < (cutPatch.times ?? 1)) {
      counts.cutPatch++;
      let forwarded = 0;
      req.on('data', (chunk: Buffer) => {
        const room = cutPatch.bytes - forwarded;
        if (room <= 0) return;
        upstream.write(chunk.subarray(0, room));
        forwarded += Math.min(room, chunk.length);
        if (forwarded >= cutPatch.bytes)
          setTimeout(() => {
            entry.status = -1;
            upstream.destroy();
            res.socket?.destroy();
          }, 50);
      });
      return;
    }
    req.pipe(upstream);
  });

  /** A blob's whole body, as the faults want it sent. */
  const sendBlob = (
    _req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    status: number,
    headers: import('node:http').IncomingHttpHeaders,
  ) => {
    const { cut, stall, corrupt } = faults;
    if (corrupt && body.length > (corrupt.minSize ?? 1024)) {
      body = Buffer.from(body);
      const i = Math.floor(body.length / 2);
      body[i] = (body[i] ?? 0) ^ 0xff;
    }
    res.writeHead(status, headers);
    const send = (bytes: Buffer) => {
      blobBytesSent += bytes.length;
      res.write(bytes);
    };
    if (cut && body.length > (cut.minSize ?? 1024) && counts.cut < (cut.times ?? Infinity)) {
      counts.cut++;
      send(body.subarray(0, cut.bytes));
      // Let the bytes leave, then break the connection as a failing network would.
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    if (stall && body.length > (stall.minSize ?? 1024)) {
      send(body.subarray(0, stall.bytes));
      return; // never ends: the client gives up or is killed
    }
    send(body);
    res.end();
  };

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    host: `127.0.0.1:${port}`,
    requests,
    set(next: Faults) {
      faults = next;
      counts = { cut: 0, unavailable: 0, tooMany: 0, cutPatch: 0 };
    },
    get blobBytesSent() {
      return blobBytesSent;
    },
  };
}
