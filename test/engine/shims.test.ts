// The pure shims (no std/os needed) checked against Node's own implementations as oracles.
import assert from "node:assert/strict";
import { test } from "node:test";
import { atobShim, btoaShim } from "../../runtime/host/quickjs/base64.ts";
import { SegmenterShim } from "../../runtime/host/quickjs/segmenter.ts";
import { TextDecoderShim, TextEncoderShim } from "../../runtime/host/quickjs/text-codec.ts";

const samples = ["", "ascii", "héllo wörld", "日本語テキスト", "emoji 👩‍👩‍👧 🇫🇷 ✔️", "\u0000\u007f\u0080\u07ff\u0800\uffff", "𝄞 music"];

test("TextEncoder matches Node's, lone surrogates become U+FFFD", () => {
  const ours = new TextEncoderShim();
  const node = new TextEncoder();
  for (const s of [...samples, "lone \ud800 high", "lone \udc00 low"]) {
    assert.deepEqual(ours.encode(s), node.encode(s), JSON.stringify(s));
  }
  const dest = new Uint8Array(4);
  assert.deepEqual(ours.encodeInto("aé€", dest), { read: 2, written: 3 });
});

test("TextDecoder matches Node's on valid and invalid UTF-8", () => {
  const ours = new TextDecoderShim();
  const node = new TextDecoder();
  const invalid = [
    [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff, 0x41], [0xef, 0xbb, 0xbf, 0x41], [0x41, 0xf0, 0x9f, 0x98],
  ];
  for (const s of samples) assert.equal(ours.decode(new TextEncoder().encode(s)), s);
  for (const bytes of invalid) {
    const b = Uint8Array.from(bytes);
    assert.equal(ours.decode(b), node.decode(b), bytes.join(","));
  }
});

test("TextDecoder streams a character split across chunks, and fatal mode throws", () => {
  const bytes = new TextEncoder().encode("a€b😀c");
  const ours = new TextDecoderShim();
  let out = "";
  for (const byte of bytes) out += ours.decode(Uint8Array.of(byte), { stream: true });
  out += ours.decode();
  assert.equal(out, "a€b😀c");
  assert.throws(() => new TextDecoderShim("utf-8", { fatal: true }).decode(Uint8Array.of(0xc3, 0x28)), TypeError);
  assert.throws(() => new TextDecoderShim("latin1"), RangeError);
});

test("Intl.Segmenter shim splits graphemes as Node's ICU does for terminal text", () => {
  const ours = new SegmenterShim();
  const node = new Intl.Segmenter();
  for (const s of [...samples, "e\u0301a", "👍🏽ok", "\r\nx", "🇫🇷🇩🇪", "각"]) {
    assert.deepEqual(
      Array.from(ours.segment(s), (x) => [x.segment, x.index]),
      Array.from(node.segment(s), (x) => [x.segment, x.index]),
      JSON.stringify(s),
    );
  }
  assert.throws(() => new SegmenterShim("en", { granularity: "word" }), RangeError);
});

test("atob/btoa match Node's and reject what Node rejects", () => {
  for (const s of ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u0000\u00ff\u0080"]) {
    assert.equal(btoaShim(s), btoa(s));
    assert.equal(atobShim(btoa(s)), s);
  }
  assert.equal(atobShim(" Zm9v\nYmFy "), "foobar");
  assert.throws(() => btoaShim("€"));
  assert.throws(() => atobShim("Zm9vY"));
  assert.throws(() => atobShim("Zm9v!"));
});
