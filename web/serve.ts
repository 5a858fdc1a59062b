/**
 * A small static file server for the browser page (127.0.0.1 only; GET/HEAD; no directory
 * listings; paths cannot escape the served folders).
 *
 *   npx tsx web/serve.ts [--models DIR] [--port N]
 *
 * serves web/dist at / and DIR (e.g. runs/demo, holding regular/model and scaat/model) at
 * /models/, and prints a link that preloads the demo's models.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.css': 'text/css',
};

/** A running server: its base URL (ending in '/') and how to stop it. */
export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `mounts` (URL prefix → folder, longest prefix first) on 127.0.0.1.
 * @param port 0 picks a free port.
 */
export async function serveStatic(mounts: Readonly<Record<string, string>>, port = 0): Promise<StaticServer> {
  const entries = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, path.resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let pathname = decodeURIComponent(url.pathname);
    if (pathname.endsWith('/')) pathname += 'index.html';
    const mount = entries.find(([prefix]) => pathname.startsWith(prefix));
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !mount) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405).end();
      return;
    }
    const file = path.resolve(mount[1], `.${pathname.slice(mount[0].length - 1)}`);
    if (!file.startsWith(mount[1] + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${pathname}`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dist = path.join(here, 'dist');
  if (!existsSync(path.join(dist, 'app.js'))) {
    console.error(`${dist}/app.js is missing: build the page first with 'npx tsx web/build.ts'`);
    process.exit(1);
  }
  const models = opt('--models');
  const server = await serveStatic({ '/': dist, ...(models ? { '/models/': models } : {}) }, Number(opt('--port') ?? 8080));
  const link = models
    ? `${server.url}?regular=models/regular/model/model.json&scaat=models/scaat/model/model.json&image=models/samples/0.png`
    : server.url;
  console.log(`serving the scaat page at ${link}  (Ctrl-C to stop)`);
}
