// The carriers behind one interface, which the pipeline loops over in the configured order: note (a header of
// the read's one pass), strip (untrusted), read, write, remove (fail closed). Each carrier is a module of
// this folder with those parts; baggage's take and strip are called on their own (it is always read and
// stripped, and what it holds feeds the decision).
//
// The interface is a switch over the carrier ids, not a class per carrier with virtual methods: those would
// be indirect calls through a vtable on every request and object fields for what are static constants,
// while here each case is a direct call (the notes inline into the read's pass) and a carrier that is not
// configured costs the mask or list check that skips it. Adding a carrier adds a case to each function below.
import { Config } from "../config/config";
import { CARRIER_BAGGAGE, CARRIER_JAEGER, CARRIER_OTTRACE, CARRIER_TRACESTATE, CARRIER_COUNT, carrierSlot } from "../config/carrier-table";
import { lower } from "../bytes/text";
import { Request } from "../lane/request";
import { firstName, nameLen, valueLen, valueOf, nextName } from "../abi/pairs";
import { removeHeader } from "../abi/host";
import { noteUberctx, claimsUberctx, readUberctx, writeUberctx, stripUberctx, removeUberctx } from "./uberctx";
import { noteOttrace, claimsOttrace, readOttrace, writeOttrace, stripOttrace, removeOttrace } from "./ottrace";
import { noteTracestate, readTracestate, writeTracestateLane, stripTracestateLane, removeTracestate } from "./tracestate";

/** Forgets the last request's carriers: before a read whose mask names any. */
export function resetCarriers(): void {
  for (let i = 0; i < CARRIER_COUNT; i++) Request.carrier(i).reset();
  Request.clientNames = 0;
  Request.carrierInvalid = 0;
}

/** One header pair of the read's pass, name[0..kl) and v[0..vl): noted when a carrier in `mask` reads it (key: the baggage key). */
export function noteHeader(config: Config, mask: i32, name: usize, kl: i32, v: usize, vl: i32): void {
  if (kl < 10) return;
  const c = lower(load<u8>(name));
  const key = changetype<usize>(config.baggageKeyBytes);
  const keyLen = config.baggageKeyBytes.byteLength;
  if (noteUberctx(mask, c, name, kl, v, vl, key, keyLen)) return;
  if (noteOttrace(mask, c, name, kl, v, vl, key, keyLen)) return;
  noteTracestate(mask, c, name, kl, v, vl);
}

/** Untrusted: whether the client sent any header stripCarriers must look at (most requests have none). */
// @ts-ignore: decorator
@inline export function clientCarriers(): bool {
  return (Request.clientNames | Request.carrier(carrierSlot(CARRIER_JAEGER)).extra |
    Request.carrier(carrierSlot(CARRIER_TRACESTATE)).count) != 0;
}

/**
 * Untrusted: removes the client's lane from every carrier beside baggage, configured or not (an app may read
 * one the filter does not). What cannot be rewritten is removed whole. True when a lane was removed. The
 * read counted the headers to look at: most requests have none, and skip this.
 */
export function stripCarriers(config: Config): bool {
  let stripped = stripClientNames(config);
  if (stripUberctx(config)) stripped = true;
  if (stripOttrace()) stripped = true;
  if (stripTracestateLane(config)) stripped = true;
  return stripped;
}

/**
 * Untrusted: the header-name carriers' headers that the read noted a client sent (Request.clientNames),
 * removed in one pass over the pairs: every name some reader takes for the key. True when there were some.
 */
function stripClientNames(config: Config): bool {
  if (Request.clientNames == 0) return false;
  const key = changetype<usize>(config.baggageKeyBytes);
  const keyLen = config.baggageKeyBytes.byteLength;
  const buf = Request.buf;
  const n = Request.n;
  let p = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = <i32>nameLen(buf, i);
    const vl = <i32>valueLen(buf, i);
    if (claimsUberctx(p, kl, key, keyLen) || claimsOttrace(p, kl, key, keyLen)) removeHeader(p, kl);
    p = nextName(valueOf(p, kl), vl);
  }
  return true;
}

/** Reads the lane of carrier `id` as the apps' propagators read it (baggage's is read already: readBaggageLane). */
export function readLane(config: Config, id: i32): void {
  if (id == CARRIER_BAGGAGE) return;
  let len = 0;
  if (id == CARRIER_JAEGER) len = readUberctx();
  else if (id == CARRIER_OTTRACE) len = readOttrace();
  else len = readTracestate(config);
  const st = Request.carrier(carrierSlot(id));
  if (len > 0 && !config.allows(st.lane, len)) len = -1;
  if (len < 0) Request.carrierInvalid++;
  st.laneLen = len;
}

/** The lane carrier `id` holds once read (laneLen > 0; 0 none, -1 not an allowed lane). */
export function lanePtr(id: i32): usize {
  return id == CARRIER_BAGGAGE ? Request.scan.lane : Request.carrier(carrierSlot(id)).lane;
}
export function laneLen(id: i32): i32 {
  if (id == CARRIER_BAGGAGE) return Request.scan.found ? Request.scan.laneLen : 0;
  return Request.carrier(carrierSlot(id)).laneLen;
}

/**
 * Writes lane lp[0..ll) to carrier `id` (not baggage: writeBaggageLane) unless it holds it already; where the
 * apps' SDK would not take it (ot baggage without an ot trace context, tracestate without a traceparent)
 * nothing is written.
 */
export function writeLane(config: Config, id: i32, lp: usize, ll: i32): void {
  const st = Request.carrier(carrierSlot(id));
  if (st.laneLen == ll && memory.compare(st.lane, lp, ll) == 0) return;
  if (id == CARRIER_JAEGER) writeUberctx(config, lp, ll);
  else if (id == CARRIER_OTTRACE) writeOttrace(config, lp, ll);
  else writeTracestateLane(config, lp, ll);
}

/** Fail closed: the headers of every carrier beside baggage of a request that cannot be read, by their names. */
export function removeCarriers(config: Config): void {
  removeUberctx(config);
  removeOttrace(config);
  removeTracestate();
}
