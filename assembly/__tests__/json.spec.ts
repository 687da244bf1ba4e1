import { JsonReader, Kind, quote, jsonString, joined, MAX_VALUES } from "../config/json";

function num(text: string): f64 {
  const v = new JsonReader(text).parse();
  return v !== null && v.kind == Kind.Number ? v.n : -12345;
}

describe("JSON reader", () => {
  it("reads numbers exactly for integers, and fractions and exponents", () => {
    expect(num("0")).toBe(0);
    expect(num("-17")).toBe(-17);
    expect(num("9007199254740992")).toBe(9007199254740992);
    expect(num("1.5")).toBe(1.5);
    expect(num("25e2")).toBe(2500);
    expect(num("25E+2")).toBe(2500);
    expect(num("250e-1")).toBe(25);
  });
  it("refuses malformed numbers", () => {
    const bad: string[] = ["01", "-", "1.", ".5", "1e", "+1", "0x10"];
    for (let i = 0; i < bad.length; i++) expect(new JsonReader(bad[i]).parse()).toBeNull(bad[i]);
  });
  it("decodes string escapes, including surrogate pairs", () => {
    const v = new JsonReader("\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"").parse()!;
    expect(v.s).toBe("a\"b\\c/d\n\u00e9\ud83d\ude00");
  });
  it("quotes strings back", () => {
    expect(quote("a\"b\\c\n\u0001")).toBe("\"a\\\"b\\\\c\\u000a\\u0001\"");
    expect(jsonString("\u001f\u0010")).toBe("\"\\u001f\\u0010\"");
  });
  it("quotes at most 100 characters of a value in a message, then its size; the effective configuration whole", () => {
    const long = "a".repeat(70000);
    expect(quote(long)).toBe("\"" + "a".repeat(100) + "\"...(70000 bytes)");
    expect(quote("a".repeat(100))).toBe("\"" + "a".repeat(100) + "\"");
    expect(jsonString(long).length).toBe(70002);
    // An escape is never cut, nor a surrogate pair; the size is the value's in UTF-8.
    expect(quote("a".repeat(99) + "\n" + "b")).toBe("\"" + "a".repeat(99) + "\"...(101 bytes)");
    expect(quote("x" + "\ud83d\ude00".repeat(60))).toBe("\"x" + "\ud83d\ude00".repeat(49) + "\"...(241 bytes)");
  });
  it("joins strings with a separator", () => {
    expect(joined([], ",")).toBe("");
    expect(joined(["a"], ",")).toBe("a");
    expect(joined(["ab", "", "c\u00e9"], ", ")).toBe("ab, , c\u00e9");
    expect(joined(["x", "y"], "")).toBe("xy");
  });
  it("decodes many escapes in one string", () => {
    let text = "\"";
    for (let i = 0; i < 5000; i++) text += "\\u0041\\\\x";
    const v = new JsonReader(text + "\"").parse()!;
    expect(v.s.length).toBe(15000);
    expect(v.s.substring(0, 6)).toBe("A\\xA\\x");
    expect(new JsonReader("[\"a\\nb\",\"c\",\"\\u00e9\"]").parse()!.items[2].s).toBe("\u00e9");
  });
  it("finds a duplicate key among many", () => {
    let text = "{";
    for (let i = 0; i < 3000; i++) text += "\"k" + i.toString() + "\":" + i.toString() + ",";
    const r = new JsonReader(text + "\"k2999\":0,\"k17\":1}");
    expect(r.parse()).not.toBeNull();
    expect(r.duplicateKey).toBe("k2999");
    const u = new JsonReader(text + "\"z\":0}");
    expect(u.parse()!.keys.length).toBe(3001);
    expect(u.duplicateKey).toBe("");
  });
  it("refuses a document of more than MAX_VALUES values as too many", () => {
    const ok = new JsonReader("[" + "0,".repeat(MAX_VALUES - 2) + "0]");
    expect(ok.parse()).not.toBeNull();
    const r = new JsonReader("[" + "0,".repeat(MAX_VALUES - 1) + "0]");
    expect(r.parse()).toBeNull();
    expect(r.tooMany).toBe(true);
    expect(r.error).toBe("more than 16384 values at offset " + (2 * MAX_VALUES - 1).toString());
  });
  it("reads nested structures and keeps key order", () => {
    const v = new JsonReader(" {\"b\": [1, {\"c\": null}], \"a\": true} ").parse()!;
    expect(v.keys.join(",")).toBe("b,a");
    expect(v.items[0].items.length).toBe(2);
    expect(v.items[1].b).toBe(true);
  });
});
