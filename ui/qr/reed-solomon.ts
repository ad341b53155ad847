// Reed–Solomon error correction as QR codes use it: GF(256) with the polynomial
// x^8 + x^4 + x^3 + x^2 + 1 (0x11d), generator roots α^0 … α^(n-1).

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  // A doubled table lets multiply skip the modulo.
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

export function gfMultiply(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

/** Coefficients of ∏(x − α^i), i < degree, highest power first, leading 1 omitted. */
export function generatorPolynomial(degree: number): Uint8Array {
  let poly = [1];
  for (let i = 0; i < degree; i++) {
    const next = new Array<number>(poly.length + 1).fill(0);
    for (let j = 0; j < poly.length; j++) {
      next[j] ^= poly[j]!;
      next[j + 1] ^= gfMultiply(poly[j]!, EXP[i]!);
    }
    poly = next;
  }
  return Uint8Array.from(poly.slice(1));
}

/** The `degree` error correction codewords for `data` (the remainder of data·x^degree ÷ generator). */
export function errorCorrection(data: Uint8Array, degree: number): Uint8Array {
  const gen = generatorPolynomial(degree);
  const rem = new Uint8Array(degree);
  for (let i = 0; i < data.length; i++) {
    const factor = data[i]! ^ rem[0]!;
    rem.copyWithin(0, 1);
    rem[degree - 1] = 0;
    for (let j = 0; j < degree; j++) rem[j] ^= gfMultiply(gen[j]!, factor);
  }
  return rem;
}
