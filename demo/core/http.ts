// HTTP/1.1 as the demo's emulated Envoy listeners handle it, for every protocol built on it (plain requests,
// WebSocket upgrades): Envoy-style header pairs from and back to Node's http, forwarding to 127.0.0.1, and
// the filter run on a request (and its response) as Envoy runs it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Header, Plugin } from "../../emulator/index.ts";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host", "content-length"]);

/** Node request -> Envoy-style header pairs (lowercase, pseudo-headers first, repeated headers kept); `keep`:
 *  hop-by-hop headers Envoy passes on (an upgrade request's `connection` and `upgrade`). */
export function pairs(req: http.IncomingMessage, authority: string, path: string, keep: string[] = []): Header[] {
  const out: Header[] = [[":authority", authority], [":path", path], [":method", req.method ?? "GET"], [":scheme", "http"]];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i].toLowerCase();
    if (!HOP_BY_HOP.has(k) || keep.includes(k)) out.push([k, req.rawHeaders[i + 1]]);
  }
  return out;
}

export function outgoing(headers: Header[]): { authority: string; path: string; headers: Record<string, string[]> } {
  const h: Record<string, string[]> = {};
  let authority = "";
  let path = "/";
  for (const [k, v] of headers) {
    if (k === ":authority") authority = v;
    else if (k === ":path") path = v;
    else if (!k.startsWith(":")) (h[k] ??= []).push(v);
  }
  return { authority, path, headers: h };
}

/** Keep-alive connections to the listeners and apps; `closeAgent` ends them when a mesh closes. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export const closeAgent = () => agent.destroy();

export function forward(res: http.ServerResponse, port: number, path: string, authority: string, headers: Record<string, string[]>, extra: Record<string, string> = {}, onResponse?: (h: Header[]) => Header[]) {
  const up = http.request({ host: "127.0.0.1", port, path, method: "GET", agent, headers: { ...headers, host: authority } }, (r) => {
    if (onResponse) {
      // The response headers through a filter, as Envoy runs on_response_headers.
      const h = onResponse(responsePairs(r));
      const out: Record<string, string[]> = {};
      let status = r.statusCode ?? 502;
      for (const [k, v] of h) {
        if (k === ":status") status = Number(v);
        else if (!k.startsWith(":")) (out[k] ??= []).push(v);
      }
      res.writeHead(status, { ...out, ...extra });
    } else {
      res.writeHead(r.statusCode ?? 502, { ...r.headers, ...extra });
    }
    r.pipe(res);
  });
  up.on("error", (e) => { res.writeHead(503); res.end(`upstream connect error: ${e.message}`); });
  up.end();
}

/** Node response -> Envoy-style response header pairs (:status first). */
function responsePairs(r: http.IncomingMessage): Header[] {
  const out: Header[] = [[":status", String(r.statusCode ?? 502)]];
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    const k = r.rawHeaders[i].toLowerCase();
    if (!HOP_BY_HOP.has(k)) out.push([k, r.rawHeaders[i + 1]]);
  }
  return out;
}

export function listen(server: http.Server): Promise<number> {
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok((server.address() as AddressInfo).port)));
}

/** Runs the filter as Envoy would; returns the headers to forward, or null when the request is refused. */
export function filter(plugin: Plugin | null, headers: Header[], listenerDirection: number): Header[] | null {
  if (!plugin) return headers;
  const r = plugin.request(headers, { listenerDirection });
  if (r.outcome === "failed") return null; // fail closed: Envoy answers 503
  return r.outcome === "passed-failed" ? headers : r.headers;
}

/** A request through a filter that also sees its response; null headers: refused (fail closed, 503). */
export interface Filtered { headers: Header[] | null; respond(h: Header[]): Header[]; close(): void }

const PASS: Omit<Filtered, "headers"> = { respond: (h) => h, close: () => {} };

/** Runs the filter on a request as Envoy would, and keeps the stream for its response. */
export function filterStream(plugin: Plugin | null, headers: Header[], listenerDirection: number): Filtered {
  if (!plugin) return { headers, ...PASS };
  const s = plugin.open(headers, { listenerDirection });
  const r = s.request;
  if (r.outcome === "failed") { s.close(); return { headers: null, ...PASS }; }
  if (r.outcome === "passed-failed") { s.close(); return { headers, ...PASS }; }
  return { headers: r.headers, respond: (h) => s.respond(h).headers, close: () => s.close() };
}

/** The request's authority and path: from an absolute-form target (a proxy request) or the Host header. */
export function target(req: http.IncomingMessage): { authority: string; path: string } {
  const raw = req.url ?? "/";
  if (raw.startsWith("/")) return { authority: req.headers.host ?? "", path: raw };
  const url = new URL(raw);
  return { authority: url.host, path: url.pathname + url.search };
}

/** Ends every connection of `servers` and closes them. */
export function closeAll(servers: http.Server[]): Promise<unknown> {
  return Promise.all(servers.map((s) => new Promise((ok) => { s.closeAllConnections(); s.close(() => ok(null)); })));
}
