// The QR encoder checked by a real decoder: Debian's zbarimg (package zbar-tools) reads a
// PGM made from the module matrix, and one made back from the half-block text on screen.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { dataCodewords } from "../../../ui/qr/codewords.ts";
import { encodeQr, QrCapacityError, type QrCode } from "../../../ui/qr/encode.ts";
import { qrToHalfBlocks } from "../../../ui/qr/half-blocks.ts";
import { errorCorrection } from "../../../ui/qr/reed-solomon.ts";

const dir = mkdtempSync(join(tmpdir(), "bootward-qr-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** dark[row][col] → a binary PGM, 4 pixels per module, black = dark. */
function pgm(dark: boolean[][], name: string): string {
  const scale = 4;
  const h = dark.length * scale;
  const w = dark[0]!.length * scale;
  const px = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = dark[Math.floor(y / scale)]![Math.floor(x / scale)] ? 0 : 255;
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), px]));
  return path;
}

function zbar(path: string): string {
  return execFileSync("zbarimg", ["--quiet", "--raw", path], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).replace(/\n$/, "");
}

/** The module matrix read back from the half-block characters: a glyph's lit halves are light modules. */
function fromHalfBlocks(lines: string[]): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of lines) {
    const chars = Array.from(line);
    rows.push(chars.map((c) => !(c === "█" || c === "▀")));
    rows.push(chars.map((c) => !(c === "█" || c === "▄")));
  }
  return rows;
}

function withQuietZone(code: QrCode): boolean[][] {
  const span = code.size + 8;
  return Array.from({ length: span }, (_, r) => Array.from({ length: span }, (_, c) => code.modules[r - 4]?.[c - 4] ?? false));
}

const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"; // 32 base32 characters = 160 bits, as Heads makes
const PAYLOADS = [
  "hello",
  `otpauth://totp/qemu-tpm2%20TOTP?secret=${SECRET}&issuer=qemu-tpm2%20TOTP`,
  `otpauth://hotp/Heads%20HOTP:librem?secret=${SECRET}&issuer=Heads&counter=1&digits=6&algorithm=SHA1`,
  "https://example.org/ünïcödé/€",
  "x".repeat(200), // version 10 at level M: 16-bit length, five blocks of two sizes
];

test("Reed–Solomon matches the worked example of ISO 18004 (HELLO WORLD, 1-M)", () => {
  const data = Uint8Array.from([32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17]);
  assert.deepEqual(Array.from(errorCorrection(data, 10)), [196, 35, 39, 119, 235, 215, 231, 226, 93, 23]);
});

test("codes decode back to their text with zbarimg, at levels L and M", () => {
  for (const [i, text] of PAYLOADS.entries()) {
    for (const level of ["L", "M"] as const) {
      const code = encodeQr(text, { level });
      assert.equal(code.size, 17 + 4 * code.version);
      assert.equal(zbar(pgm(withQuietZone(code), `m${i}${level}.pgm`)), text, `payload ${i} at ${level}`);
    }
  }
});

test("the half-block text on screen is the same code: decoded back from its characters", () => {
  for (const [i, text] of PAYLOADS.entries()) {
    const code = encodeQr(text);
    const lines = qrToHalfBlocks(code);
    assert.equal(lines.length, Math.ceil((code.size + 8) / 2));
    for (const line of lines) {
      assert.equal(Array.from(line).length, code.size + 8);
      assert.match(line, /^[█▀▄ ]+$/);
    }
    // the first line is all quiet zone: fully light
    assert.equal(lines[0], "█".repeat(code.size + 8));
    assert.equal(zbar(pgm(fromHalfBlocks(lines), `t${i}.pgm`)), text);
  }
});

test("an otpauth URL with a 32-character secret fits a small version; too much text is refused", () => {
  const code = encodeQr(PAYLOADS[1]!);
  assert.ok(code.version <= 6, `version ${code.version}`);
  assert.ok(code.mask >= 0 && code.mask < 8);
  assert.throws(() => encodeQr("y".repeat(dataCodewords(10, "M") + 1)), QrCapacityError);
  assert.throws(() => encodeQr("y".repeat(272), { level: "L" }), QrCapacityError);
});

test("a damaged code does not decode to the text (the decoder is really checking)", () => {
  const code = encodeQr("hello");
  const broken = withQuietZone(code).map((row) => row.slice());
  // wipe the top-left finder: no scanner can locate the symbol
  for (let r = 4; r < 11; r++) for (let c = 4; c < 11; c++) broken[r]![c] = false;
  assert.throws(() => zbar(pgm(broken, "broken.pgm")));
});
