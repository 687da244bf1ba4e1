// The gRPC variant of mock/server.mjs: a unary service that answers its chain line, after calling its
// upstream (over the sidecar) and appending the upstream's answer:
//   -> mocka(version: v2, ip: 127.0.0.1)-> mockb(version: v1, ip: 127.0.0.1)-> mockc(version: v2, ip: ...)
// On the upstream call it forwards the `baggage` metadata and nothing else, as OpenTelemetry's gRPC
// instrumentation does (one `baggage` entry, injected into the outgoing Metadata).
import * as grpc from "@grpc/grpc-js";

/**
 * protobuf `message Chain { string text = 1; }`, encoded by hand: one string field needs no .proto toolchain,
 * and the bytes on the wire are still what protoc's code would send. An object, not a bare string: grpc-js
 * takes a falsy request message for a missing one.
 */
export interface Chain { text: string }

export function encodeChain({ text }: Chain): Buffer {
  const body = Buffer.from(text, "utf8");
  if (body.length === 0) return Buffer.alloc(0); // proto3 leaves a default value out
  const len: number[] = [];
  let n = body.length;
  for (; n >= 0x80; n >>>= 7) len.push((n & 0x7f) | 0x80);
  len.push(n);
  return Buffer.concat([Buffer.from([0x0a, ...len]), body]);
}

export function decodeChain(buf: Buffer): Chain {
  let text = "";
  for (let i = 0; i < buf.length;) {
    if (buf[i++] !== 0x0a) throw new Error(`Chain: unexpected field tag ${buf[i - 1]} at byte ${i - 1}`);
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= buf.length || shift > 28) throw new Error("Chain: truncated length");
      const b = buf[i++];
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (i + len > buf.length) throw new Error("Chain: truncated text");
    text = buf.toString("utf8", i, i + len); // a repeated field: the last one wins, as in protobuf
    i += len;
  }
  return { text };
}

/** The method every hop calls. */
export const CHAIN_METHOD = "/lanetag.demo.Mock/Chain";

export const MockService: grpc.ServiceDefinition<grpc.UntypedServiceImplementation> = {
  Chain: {
    path: CHAIN_METHOD, requestStream: false, responseStream: false, originalName: "chain",
    requestSerialize: encodeChain, requestDeserialize: decodeChain,
    responseSerialize: encodeChain, responseDeserialize: decodeChain,
  },
};

/** Calls Chain on `client` with `metadata`; the chain text, or the gRPC error. */
export function callChain(client: grpc.Client, metadata: grpc.Metadata, timeoutMs: number, onMetadata?: (m: grpc.Metadata) => void): Promise<string> {
  return new Promise((ok, fail) => {
    const call = client.makeUnaryRequest(CHAIN_METHOD, encodeChain, decodeChain, { text: "" }, metadata, { deadline: Date.now() + timeoutMs },
      (err, reply) => (err ? fail(err) : ok(reply?.text ?? "")));
    if (onMetadata) call.on("metadata", onMetadata);
  });
}

export interface GrpcMock { port: number; close(): void }

/**
 * Starts the service on `host`:`port` (127.0.0.1, any free port). `upstream` is the name it dials (e.g.
 * mockb:8000, the `:authority` its calls carry); `via` the address those calls land on (its sidecar's
 * outbound listener, where a mesh's traffic capture would put them).
 */
export async function startGrpcMock({ app, version, ip = "127.0.0.1", upstream, via, host = "127.0.0.1", port = 0 }: { app: string; version: string; ip?: string; upstream?: string; via?: string; host?: string; port?: number }): Promise<GrpcMock> {
  const line = `-> ${app}(version: ${version}, ip: ${ip})`;
  const client = upstream ? new grpc.Client(via ?? upstream, grpc.credentials.createInsecure(), { "grpc.default_authority": upstream }) : null;
  const server = new grpc.Server();
  server.addService(MockService, {
    Chain: (call: grpc.ServerUnaryCall<Chain, Chain>, callback: grpc.sendUnaryData<Chain>) => {
      if (!client) return callback(null, { text: line });
      const out = new grpc.Metadata();
      const baggage = call.metadata.get("baggage");
      if (baggage.length) out.set("baggage", baggage.map(String).join(","));
      callChain(client, out, 10_000).then(
        (text) => callback(null, { text: line + text }),
        (e: grpc.ServiceError) => callback({ code: e.code, details: `${line}-> ${upstream} failed: ${e.details}` }),
      );
    },
  });
  const bound = await new Promise<number>((ok, fail) => server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
  return { port: bound, close: () => { client?.close(); server.forceShutdown(); } };
}
