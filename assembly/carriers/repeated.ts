// Repeated headers of a carrier: their values joined, and a list carrier's key members stripped across them.
// Request path: the module's own arena and header writes.
import { bytesEqual } from "../bytes/lane";
import { equalsIgnoreCase, stripLooseMembers } from "../bytes/text";
import { CarrierState } from "../lane/request";
import { firstName, nameLen, valueLen, valueOf, nextName } from "../abi/pairs";
import { scratch, replaceHeader, removeHeader } from "../abi/host";

/**
 * Joins the values of every header named name[0..nl) with "," into the arena (Envoy lists repeated headers
 * in order; `total` counts one separator per header after the first, even around empty values); 0 when there
 * is no room. `ignoreCase` for carriers whose header names readers match ignoring case.
 */
export function joinHeader(buf: usize, n: u32, name: usize, nl: i32, total: i32, ignoreCase: bool): usize {
  const dst = scratch(total);
  if (dst == 0) return 0;
  let out = 0;
  let first = true;
  let at = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = <i32>nameLen(buf, i);
    const vl = <i32>valueLen(buf, i);
    const v = valueOf(at, kl);
    if (ignoreCase ? equalsIgnoreCase(at, kl, name, nl) : kl == nl && bytesEqual(at, kl, name, nl)) {
      if (!first) store<u8>(dst + out++, 0x2c);
      first = false;
      memory.copy(dst + out, v, vl);
      out += vl;
    }
    at = nextName(v, vl);
  }
  return dst;
}

/**
 * The key's members out of every header named name[0..nl) of a comma-list carrier, the values joined with
 * ","; removed whole when there is no memory to check them. `st`, when given, holds the carrier's value
 * (the single header's, or none yet) and gets what is left. True when something was removed. The list
 * carriers strip alike (grammar/uberctx.ts stripJaegerBaggage and grammar/tracestate.ts stripTracestate
 * are stripLooseMembers), so the grammar is called here directly, not through a function reference, which
 * would keep it out of line.
 */
export function stripMembers(buf: usize, n: u32, name: usize, nl: i32, key: usize, keyLen: i32, st: CarrierState | null): bool {
  let total = 0;
  let count = 0;
  let p = firstName(buf, n);
  for (let i: u32 = 0; i < n; i++) {
    const kl = <i32>nameLen(buf, i);
    const vl = <i32>valueLen(buf, i);
    if (equalsIgnoreCase(p, kl, name, nl)) { total += (count++ > 0 ? 1 : 0) + vl; }
    p = nextName(valueOf(p, kl), vl);
  }
  const src = count == 1 && st !== null ? st.value : joinHeader(buf, n, name, nl, total, true);
  const dst = src != 0 ? scratch(total) : 0;
  if (dst == 0) { // fail closed
    removeHeader(name, nl);
    if (st !== null) { st.count = 0; st.len = 0; }
    return true;
  }
  const out = stripLooseMembers(src, total, key, keyLen, dst);
  if (st !== null) { st.value = out < total ? dst : src; st.len = out; st.count = 1; }
  if (out == total) return false;
  if (out == 0 || !replaceHeader(name, nl, dst, out)) {
    removeHeader(name, nl);
    if (st !== null) { st.count = 0; st.len = 0; }
  }
  return true;
}
