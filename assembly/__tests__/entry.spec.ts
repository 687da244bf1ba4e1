import { cookieValue, queryValue } from "../lane/entry";
import { buf, ptr, str } from "./util";

function cookie(header: string, name: string): string {
  const h = buf(header);
  const n = buf(name);
  const r = cookieValue(ptr(h), h.byteLength, ptr(n), n.byteLength);
  return r < 0 ? "<none>" : str(ptr(h) + <usize>(r >> 32), <i32>(r & 0xffffffff));
}

const CAP: i32 = 16;
const DST = heap.alloc(CAP);

function query(path: string, name: string): string {
  const p = buf(path);
  const n = buf(name);
  const r = queryValue(ptr(p), p.byteLength, ptr(n), n.byteLength, DST, CAP);
  return r == -1 ? "<none>" : r == -2 ? "<bad>" : str(DST, r);
}

// [Cookie header value, cookie name, value found]
const COOKIES: string[][] = [
  ["lane=s2", "lane", "s2"],
  ["a=1; lane=s2; b=2", "lane", "s2"],
  ["a=1;lane=s2", "lane", "s2"],
  ["  lane = s2  ; b=2", "lane", "s2"],
  ["\tlane=s2", "lane", "s2"],
  ["lane=\"s2\"", "lane", "s2"],
  ["lane=\"", "lane", "\""],
  ["lane=", "lane", ""],
  ["lane=s2; lane=s3", "lane", "s2"],           // the first one
  ["xlane=s2; lanex=s3; Lane=s4", "lane", "<none>"],
  ["lane", "lane", "<none>"],
  ["a=1;;; lane=s2", "lane", "s2"],
  ["", "lane", "<none>"],
  [";", "lane", "<none>"],
  ["lane=a=b", "lane", "a=b"],
  ["=s2; lane=s3", "lane", "s3"],
];

// [:path, parameter name, value found]
const QUERIES: string[][] = [
  ["/socket.io/?EIO=4&transport=websocket&lane=s2", "lane", "s2"],
  ["/?lane=s2", "lane", "s2"],
  ["/?lane=s%32", "lane", "s2"],
  ["/?%6Cane=s2", "lane", "s2"],                // an encoded name
  ["/?la+ne=s2&lane=s3", "lane", "s3"],         // "+" is a space: another name
  ["/?lane=s2&lane=s3", "lane", "s2"],          // repeated: the first
  ["/?lane=s2#lane=s3", "lane", "s2"],
  ["/#?lane=s2", "lane", "<none>"],             // in the fragment, not the query
  ["/?a=1#x&lane=s2", "lane", "<none>"],
  ["/lane=s2", "lane", "<none>"],               // no query at all
  ["/?lane", "lane", ""],
  ["/?lane=", "lane", ""],
  ["/?lane=%zz", "lane", "<bad>"],
  ["/?lane=s%2", "lane", "<bad>"],
  ["/?lane=%", "lane", "<bad>"],
  ["/?lane=" + "x".repeat(17), "lane", "<bad>"], // longer than the buffer
  ["/?lane=" + "x".repeat(16), "lane", "x".repeat(16)],
  ["/?lan%zz=s2&lane=s3", "lane", "s3"],        // a malformed name is another name
  ["/?lane=a+b", "lane", "a b"],
  ["/?x=1&&lane=s2&", "lane", "s2"],
  ["/?=s2&lane=s4", "lane", "s4"],
  ["", "lane", "<none>"],
  ["?", "lane", "<none>"],
];

describe("lane_from: cookies", () => {
  it("finds the first cookie of the name, unquoted, whatever the spacing", () => {
    for (let i = 0; i < COOKIES.length; i++) expect(cookie(COOKIES[i][0], COOKIES[i][1])).toBe(COOKIES[i][2], COOKIES[i][0]);
  });
});

describe("lane_from: query parameters", () => {
  it("finds the first parameter of the name, percent-decoded, and flags bad escapes", () => {
    for (let i = 0; i < QUERIES.length; i++) expect(query(QUERIES[i][0], QUERIES[i][1])).toBe(QUERIES[i][2], QUERIES[i][0]);
  });
});
