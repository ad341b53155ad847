// The firmware's fast text measuring (runtime/host/quickjs/): the string-width wrapper and
// the Segmenter shim's containing() must answer exactly as the package and Node's ICU do.
import assert from "node:assert/strict";
import { test } from "node:test";
import packageStringWidth from "string-width";
import fastStringWidth from "../../../runtime/host/quickjs/string-width.ts";
import { SegmenterShim } from "../../../runtime/host/quickjs/segmenter.ts";

const SAMPLES = [
  "",
  "  o  Options -->",
  "\u001b[7m\u001b[36m> d  Default boot\u001b[39m\u001b[27m",
  "─".repeat(80),
  "████ ▄▄▄▄▄ █ █ ▄█▄▄▀▀▄█",
  "Password: ******",
  "1234567890#*",
  "TOTP: 492039 (17s) | HOTP: Success",
  "naïve café",
  "e\u0301a",
  "👍🏽ok",
  "日本語",
  "🇫🇷 flag",
  "tab\there",
  "bell\u0007 del\u007f",
  "\u001b]8;;https://x\u0007link\u001b]8;;\u0007",
  "±×÷",
  "⚠ warning ✔",
  "\u009b31mred",
];

test("the fast string-width gives the package's width for every sample and option", () => {
  const all = [...SAMPLES, ...Array.from({ length: 0x60 }, (_, i) => String.fromCharCode(0x2500 + i).repeat(3))];
  for (let c = 0; c < 0x80; c++) all.push(`a${String.fromCharCode(c)}b`);
  for (const text of all) {
    for (const options of [{}, { ambiguousIsNarrow: false }, { countAnsiEscapeCodes: true }]) {
      assert.equal(fastStringWidth(text, options), packageStringWidth(text, options), `${JSON.stringify(text)} ${JSON.stringify(options)}`);
    }
  }
});

test("Segmenter shim: containing() finds the cluster of every code unit, as Node's does", () => {
  const ours = new SegmenterShim();
  const node = new Intl.Segmenter();
  for (const text of SAMPLES) {
    const a = ours.segment(text);
    const b = node.segment(text);
    for (let i = -1; i <= text.length; i++) {
      const x = a.containing(i);
      const y = b.containing(i);
      assert.deepEqual(x && [x.segment, x.index], y && [y.segment, y.index], `${JSON.stringify(text)} at ${i}`);
    }
    assert.deepEqual(Array.from(a, (s) => [s.segment, s.index]), Array.from(b, (s) => [s.segment, s.index]), JSON.stringify(text));
  }
});
