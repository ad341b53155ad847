// NIST P-256 scalar multiplication and ECDH, enough to salt a session with an ECC
// storage key (Part 1, 11.4.10.3 and C.6.1). Jacobian coordinates avoid one inversion
// per step, which matters on QuickJS's BigInt.
import { TpmFormatError } from "../errors.ts";
import { bigIntToBytes, bytesToBigInt } from "./rsa.ts";

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
export const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

type Jac = [bigint, bigint, bigint];

const mod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};

function inv(a: bigint): bigint {
  let [r0, r1] = [mod(a), P];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0);
}

function double([x, y, z]: Jac): Jac {
  if (y === 0n || z === 0n) return [0n, 1n, 0n];
  const yy = mod(y * y);
  const s = mod(4n * x * yy);
  const zz = mod(z * z);
  const m = mod(3n * (x - zz) * (x + zz)); // a = -3
  const x3 = mod(m * m - 2n * s);
  const y3 = mod(m * (s - x3) - 8n * yy * yy);
  const z3 = mod(2n * y * z);
  return [x3, y3, z3];
}

function add(p: Jac, q: Jac): Jac {
  if (p[2] === 0n) return q;
  if (q[2] === 0n) return p;
  const z1z1 = mod(p[2] * p[2]);
  const z2z2 = mod(q[2] * q[2]);
  const u1 = mod(p[0] * z2z2);
  const u2 = mod(q[0] * z1z1);
  const s1 = mod(p[1] * q[2] * z2z2);
  const s2 = mod(q[1] * p[2] * z1z1);
  if (u1 === u2) return s1 === s2 ? double(p) : [0n, 1n, 0n];
  const h = mod(u2 - u1);
  const r = mod(s2 - s1);
  const hh = mod(h * h);
  const hhh = mod(h * hh);
  const v = mod(u1 * hh);
  const x3 = mod(r * r - hhh - 2n * v);
  const y3 = mod(r * (v - x3) - s1 * hhh);
  const z3 = mod(p[2] * q[2] * h);
  return [x3, y3, z3];
}

function multiply(k: bigint, x: bigint, y: bigint): [bigint, bigint] {
  let r: Jac = [0n, 1n, 0n];
  let a: Jac = [x, y, 1n];
  while (k > 0n) {
    if (k & 1n) r = add(r, a);
    a = double(a);
    k >>= 1n;
  }
  if (r[2] === 0n) throw new TpmFormatError("P-256 multiplication reached the point at infinity");
  const zi = inv(r[2]);
  const zi2 = mod(zi * zi);
  return [mod(r[0] * zi2), mod(r[1] * zi2 * zi)];
}

export function onCurve(x: bigint, y: bigint): boolean {
  if (x < 0n || x >= P || y < 0n || y >= P) return false;
  return mod(y * y) === mod(x * x * x - 3n * x + B);
}

export interface EcdhResult {
  /** Our ephemeral public point, 32-byte coordinates. */
  x: Uint8Array;
  y: Uint8Array;
  /** The shared secret Z: x coordinate of d·Q. */
  z: Uint8Array;
}

/** ECDH with an ephemeral key built from 32+ random bytes against the peer's public point. */
export function ecdhEphemeral(peerX: Uint8Array, peerY: Uint8Array, random: Uint8Array): EcdhResult {
  const qx = bytesToBigInt(peerX);
  const qy = bytesToBigInt(peerY);
  if (!onCurve(qx, qy)) throw new TpmFormatError("the storage key's ECC point is not on P-256");
  const d = (bytesToBigInt(random) % (N - 1n)) + 1n;
  const [ex, ey] = multiply(d, GX, GY);
  const [zx] = multiply(d, qx, qy);
  return { x: bigIntToBytes(ex, 32), y: bigIntToBytes(ey, 32), z: bigIntToBytes(zx, 32) };
}

/** d·G, for tests. */
export function publicFromPrivate(d: bigint): [Uint8Array, Uint8Array] {
  const [x, y] = multiply(d, GX, GY);
  return [bigIntToBytes(x, 32), bigIntToBytes(y, 32)];
}
