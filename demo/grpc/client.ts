// The gRPC demo's client: the calls of client.ts's runRequests, made with grpc-js to the gateway.
import * as grpc from "@grpc/grpc-js";
import { runRequests, type Call, type SendOptions, type Result } from "../core/client.ts";
import { LANE_HEADER } from "../core/topology.ts";
import { callChain } from "./app.ts";

const laneOf = (m: grpc.Metadata | undefined) => String(m?.get(LANE_HEADER)[0] ?? "");

/** A Chain call on `client` (a channel to the gateway), the headers as metadata, as a Call. */
export function grpcCall(client: grpc.Client): Call {
  return async (headers) => {
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
    let lane = "";
    try {
      const body = await callChain(client, metadata, 15_000, (m) => (lane = laneOf(m)));
      return { status: 200, lane, body };
    } catch (e) {
      // A failed call has no HTTP status to show (grpc-js turns one into a code): status 0, the code in the body.
      const err = e as grpc.ServiceError;
      return { status: 0, lane: lane || laneOf(err.metadata), body: `grpc status ${err.code} (${grpc.status[err.code]}): ${err.details}` };
    }
  };
}

/** Calls Chain `n` times on the gateway at `target` (host:port, h2c), each with the headers runRequests gives as metadata. */
export async function sendGrpcRequests(target: string, n: number, opts: SendOptions = {}): Promise<Result[]> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  try {
    return await runRequests(grpcCall(client), n, opts);
  } finally {
    client.close();
  }
}
