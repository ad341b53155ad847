// RFC 4648 base32, upper case, with "=" padding as coreutils' base32 writes it (Heads
// feeds `base32 < secret` into the URL; 20 bytes need no padding).
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export class Base32Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Base32Error";
  }
}

export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  while (out.length % 8) out += "=";
  return out;
}

/** Accepts lower case, spaces and missing padding, as people type them off a screen. */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase();
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of clean) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Base32Error(`"${ch}" is not a base32 character (A-Z, 2-7)`);
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[o++] = (acc >>> (bits - 8)) & 255;
      bits -= 8;
    }
  }
  if ([1, 3, 6].includes(clean.length % 8)) throw new Base32Error(`${clean.length} base32 characters cannot encode whole bytes`);
  return out;
}
