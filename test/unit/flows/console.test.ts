// Colour by TERM, and the PPM → PNG converter the end-to-end test uses for tty1 screenshots.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { colourFor } from "../../../runtime/flows/console-ui.ts";
import { colourCount, encodePng, parsePpm, PpmError } from "../../e2e/ui-png.ts";

test("colour on the Linux console and xterm-likes; monochrome on vt100, dumb, unknown or unset TERM", () => {
  for (const term of ["linux", "xterm", "xterm-256color", "screen", "tmux-256color", "vt220"]) assert.equal(colourFor(term), true, term);
  for (const term of ["vt100", "vt102", "dumb", "unknown", "", undefined]) assert.equal(colourFor(term), false, String(term));
});

test("PPM → PNG keeps every pixel (inflated back and compared), and counts colours", () => {
  const ppm = Buffer.concat([Buffer.from("P6\n# qemu\n3 2\n255\n"), Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 0, 0])]);
  const image = parsePpm(ppm);
  assert.deepEqual([image.width, image.height], [3, 2]);
  assert.equal(colourCount(image), 4);
  const png = encodePng(image);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.readUInt32BE(16), 3);
  assert.equal(png.readUInt32BE(20), 2);
  const idatLength = png.readUInt32BE(33);
  assert.equal(png.subarray(37, 41).toString("latin1"), "IDAT");
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  assert.deepEqual([...raw], [0, ...image.rgb.subarray(0, 9), 0, ...image.rgb.subarray(9, 18)]);
  assert.equal(colourCount(parsePpm(Buffer.concat([Buffer.from("P6 1 2 255\n"), Buffer.alloc(6)]))), 1);
});

test("a truncated or non-P6 screendump is refused with a reason", () => {
  assert.throws(() => parsePpm(Buffer.from("P6\n3 2\n255\n\u0000\u0000")), PpmError);
  assert.throws(() => parsePpm(Buffer.from("P3\n1 1\n255\n0 0 0")), /not an 8-bit binary PPM/);
  assert.throws(() => parsePpm(Buffer.from("P6\n3")), /ends inside its PPM header/);
});
