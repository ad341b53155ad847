import assert from "node:assert/strict";
import { test } from "node:test";
import { createKeyDecoder, decodeKeys } from "../../../ui/keys.ts";

const names = (input: string | Uint8Array) => decodeKeys(input).map((k) => (k.text ? `${k.name}:${k.text}` : k.name));

test("arrows in both the CSI (ESC [) and SS3 (ESC O) forms", () => {
  assert.deepEqual(names("\x1b[A\x1b[B\x1b[C\x1b[D"), ["up", "down", "right", "left"]);
  assert.deepEqual(names("\x1bOA\x1bOB\x1bOC\x1bOD"), ["up", "down", "right", "left"]);
  assert.deepEqual(names("\x1b[1;5A"), ["up"]); // with a modifier, still an arrow
});

test("Enter as CR, LF or CRLF (one key), Backspace as DEL or BS, Tab, printable text", () => {
  assert.deepEqual(names("\r"), ["enter"]);
  assert.deepEqual(names("\n"), ["enter"]);
  assert.deepEqual(names("\r\n"), ["enter"]);
  assert.deepEqual(names("\r\r"), ["enter", "enter"]);
  assert.deepEqual(names("\x7f\x08\t"), ["backspace", "backspace", "tab"]);
  assert.deepEqual(names("dF"), ["char:d", "char:F"]);
  assert.deepEqual(names("\x03\x15"), ["ctrl:c", "ctrl:u"]);
});

test("the editing keypad of TERM=linux and vt220, and Linux console F-keys as unknown", () => {
  assert.deepEqual(names("\x1b[1~\x1b[4~\x1b[3~\x1b[5~\x1b[6~\x1b[2~"), ["home", "end", "delete", "pageup", "pagedown", "insert"]);
  assert.deepEqual(names("\x1b[H\x1b[F"), ["home", "end"]);
  assert.deepEqual(names("\x1b[[A"), ["unknown"]);
  assert.deepEqual(names("\x1b[15~"), ["unknown"]);
});

test("a lone ESC is held until flushed, then is Escape; ESC + letter is Escape then the letter", () => {
  const d = createKeyDecoder();
  assert.deepEqual(d.push("\x1b"), []);
  assert.equal(d.pending(), true);
  assert.deepEqual(d.flush(), [{ name: "escape" }]);
  assert.equal(d.pending(), false);
  assert.deepEqual(names("\x1bd"), ["escape", "char:d"]);
  assert.deepEqual(names("\x1b\x1b[A"), ["escape", "up"]);
});

test("an arrow key split across reads is still one arrow", () => {
  const d = createKeyDecoder();
  assert.deepEqual(d.push(Uint8Array.of(0x1b)), []);
  assert.deepEqual(d.push(Uint8Array.of(0x5b)), []);
  assert.deepEqual(d.push(Uint8Array.of(0x42, 0x0d)), [{ name: "down" }, { name: "enter" }]);
});

test("UTF-8 characters, also split across reads; invalid bytes are dropped", () => {
  assert.deepEqual(names("é€😀"), ["char:é", "char:€", "char:😀"]);
  const d = createKeyDecoder();
  const bytes = Buffer.from("ü", "utf8");
  assert.deepEqual(d.push(bytes.subarray(0, 1)), []);
  assert.deepEqual(d.push(bytes.subarray(1)), [{ name: "char", text: "ü" }]);
  assert.deepEqual(names(Uint8Array.of(0xff, 0x61, 0xc0, 0x80, 0x62)), ["char:a", "char:b"]);
  // a cut-off sequence at the end of input is noise, not a key
  assert.deepEqual(names(Uint8Array.of(0x61, 0xe2, 0x82)), ["char:a"]);
});
