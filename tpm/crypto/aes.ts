// AES-128, encryption direction only: CFB mode (all TPM parameter encryption uses) needs
// the block cipher forwards in both directions. FIPS-197.

const SBOX = new Uint8Array(256);
(() => {
  // Build the S-box from the multiplicative inverse in GF(2^8) and the affine map.
  let p = 1;
  let q = 1;
  do {
    p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const x = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4);
    SBOX[p] = (x ^ 0x63) & 0xff;
  } while (p !== 1);
  SBOX[0] = 0x63;
})();

function rotl8(x: number, s: number): number {
  return ((x << s) | (x >> (8 - s))) & 0xff;
}

function xtime(x: number): number {
  return ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;
}

export function expandKey128(key: Uint8Array): Uint8Array {
  if (key.length !== 16) throw new RangeError("AES-128 needs a 16-byte key");
  const w = new Uint8Array(176);
  w.set(key);
  let rcon = 1;
  for (let i = 16; i < 176; i += 4) {
    let t0 = w[i - 4]!, t1 = w[i - 3]!, t2 = w[i - 2]!, t3 = w[i - 1]!;
    if (i % 16 === 0) {
      const s = t0;
      t0 = SBOX[t1]! ^ rcon;
      t1 = SBOX[t2]!;
      t2 = SBOX[t3]!;
      t3 = SBOX[s]!;
      rcon = xtime(rcon);
    }
    w[i] = w[i - 16]! ^ t0;
    w[i + 1] = w[i - 15]! ^ t1;
    w[i + 2] = w[i - 14]! ^ t2;
    w[i + 3] = w[i - 13]! ^ t3;
  }
  return w;
}

export function encryptBlock(w: Uint8Array, input: Uint8Array): Uint8Array {
  const s = new Uint8Array(16);
  for (let i = 0; i < 16; i++) s[i] = input[i]! ^ w[i]!;
  const t = new Uint8Array(16);
  for (let round = 1; round <= 10; round++) {
    // SubBytes + ShiftRows (state is column-major: byte r + 4c)
    for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) t[r + 4 * c] = SBOX[s[r + 4 * ((c + r) % 4)]!]!;
    if (round < 10) {
      for (let c = 0; c < 4; c++) {
        const a0 = t[4 * c]!, a1 = t[4 * c + 1]!, a2 = t[4 * c + 2]!, a3 = t[4 * c + 3]!;
        const all = a0 ^ a1 ^ a2 ^ a3;
        s[4 * c] = a0 ^ all ^ xtime(a0 ^ a1);
        s[4 * c + 1] = a1 ^ all ^ xtime(a1 ^ a2);
        s[4 * c + 2] = a2 ^ all ^ xtime(a2 ^ a3);
        s[4 * c + 3] = a3 ^ all ^ xtime(a3 ^ a0);
      }
    } else s.set(t);
    for (let i = 0; i < 16; i++) s[i] = s[i]! ^ w[16 * round + i]!;
  }
  return s;
}

/** AES-128-CFB (full-block feedback, as the TPM uses it). */
export function cfb128(key: Uint8Array, iv: Uint8Array, data: Uint8Array, decrypt: boolean): Uint8Array {
  const w = expandKey128(key);
  const out = new Uint8Array(data.length);
  let feedback = iv.slice(0, 16);
  for (let o = 0; o < data.length; o += 16) {
    const ks = encryptBlock(w, feedback);
    const n = Math.min(16, data.length - o);
    const next = new Uint8Array(16);
    for (let i = 0; i < n; i++) {
      out[o + i] = data[o + i]! ^ ks[i]!;
      next[i] = decrypt ? data[o + i]! : out[o + i]!;
    }
    feedback = next;
  }
  w.fill(0);
  return out;
}
