import { JsonReader, Kind, quote } from "../json";

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
  });
  it("reads nested structures and keeps key order", () => {
    const v = new JsonReader(" {\"b\": [1, {\"c\": null}], \"a\": true} ").parse()!;
    expect(v.keys.join(",")).toBe("b,a");
    expect(v.items[0].items.length).toBe(2);
    expect(v.items[1].b).toBe(true);
  });
});
