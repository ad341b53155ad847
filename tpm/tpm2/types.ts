// TPM 2.0 structures (Part 2) that bootward uses, each with its marshal/unmarshal pair.
import { concat, u16be } from "../../lib/bytes.ts";
import { TpmFormatError } from "../errors.ts";
import { sha256 } from "../crypto/hash.ts";
import { ALG, OBJECT, TPM_ECC_NIST_P256 } from "./constants.ts";
import { Reader, Writer, marshal } from "../wire.ts";

export interface PcrSelection {
  hash: number;
  pcrs: number[];
}

export const PCR_COUNT = 24;

export function writePcrSelections(w: Writer, selections: PcrSelection[]): void {
  w.u32(selections.length);
  for (const s of selections) {
    w.u16(s.hash).u8(3);
    const bits = new Uint8Array(3);
    for (const p of s.pcrs) {
      if (!Number.isInteger(p) || p < 0 || p >= PCR_COUNT) throw new RangeError(`PCR ${p} is out of range 0-23`);
      bits[p >> 3] = bits[p >> 3]! | (1 << (p & 7));
    }
    w.bytes(bits);
  }
}

export function readPcrSelections(r: Reader): PcrSelection[] {
  const n = r.count(r.u32(), 3, 16);
  const out: PcrSelection[] = [];
  for (let i = 0; i < n; i++) {
    const hash = r.u16();
    const bits = r.bytes(r.u8());
    const pcrs: number[] = [];
    bits.forEach((b, byte) => {
      for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) pcrs.push(byte * 8 + bit);
    });
    out.push({ hash, pcrs });
  }
  return out;
}

export interface SymDef {
  algorithm: number;
  keyBits: number;
  mode: number;
}

export const AES128_CFB: SymDef = { algorithm: ALG.AES, keyBits: 128, mode: ALG.CFB };
export const SYM_NULL: SymDef = { algorithm: ALG.NULL, keyBits: 0, mode: 0 };

function writeSym(w: Writer, s: SymDef): void {
  w.u16(s.algorithm);
  if (s.algorithm !== ALG.NULL) w.u16(s.keyBits).u16(s.mode);
}

function readSym(r: Reader): SymDef {
  const algorithm = r.u16();
  if (algorithm === ALG.NULL) return SYM_NULL;
  if (algorithm === ALG.XOR) return { algorithm, keyBits: r.u16(), mode: 0 };
  return { algorithm, keyBits: r.u16(), mode: r.u16() };
}

/** Scheme (or KDF): an algorithm and, unless NULL, a hash algorithm. */
export interface Scheme {
  scheme: number;
  hash?: number;
  kdf?: number;
}

function writeScheme(w: Writer, s: Scheme): void {
  w.u16(s.scheme);
  if (s.scheme === ALG.NULL) return;
  w.u16(s.hash ?? ALG.SHA256);
  if (s.scheme === ALG.XOR) w.u16(s.kdf ?? ALG.NULL);
}

function readScheme(r: Reader): Scheme {
  const scheme = r.u16();
  if (scheme === ALG.NULL) return { scheme };
  const hash = r.u16();
  if (scheme === ALG.XOR) return { scheme, hash, kdf: r.u16() };
  return { scheme, hash };
}

export type PublicArea =
  | { type: typeof ALG.KEYEDHASH; nameAlg: number; attributes: number; authPolicy: Uint8Array; scheme: Scheme; unique: Uint8Array }
  | { type: typeof ALG.RSA; nameAlg: number; attributes: number; authPolicy: Uint8Array; symmetric: SymDef; scheme: Scheme; keyBits: number; exponent: number; unique: Uint8Array }
  | { type: typeof ALG.ECC; nameAlg: number; attributes: number; authPolicy: Uint8Array; symmetric: SymDef; scheme: Scheme; curve: number; kdf: Scheme; x: Uint8Array; y: Uint8Array }
  | { type: typeof ALG.SYMCIPHER; nameAlg: number; attributes: number; authPolicy: Uint8Array; symmetric: SymDef; unique: Uint8Array };

export function marshalPublic(p: PublicArea): Uint8Array {
  const w = new Writer();
  w.u16(p.type).u16(p.nameAlg).u32(p.attributes).sized(p.authPolicy);
  switch (p.type) {
    case ALG.KEYEDHASH:
      writeScheme(w, p.scheme);
      w.sized(p.unique);
      break;
    case ALG.RSA:
      writeSym(w, p.symmetric);
      writeScheme(w, p.scheme);
      w.u16(p.keyBits).u32(p.exponent).sized(p.unique);
      break;
    case ALG.ECC:
      writeSym(w, p.symmetric);
      writeScheme(w, p.scheme);
      w.u16(p.curve);
      writeScheme(w, p.kdf);
      w.sized(p.x).sized(p.y);
      break;
    case ALG.SYMCIPHER:
      writeSym(w, p.symmetric);
      w.sized(p.unique);
      break;
  }
  return w.finish();
}

export function readPublic(r: Reader): PublicArea {
  const type = r.u16();
  const nameAlg = r.u16();
  const attributes = r.u32();
  const authPolicy = r.sized(64);
  switch (type) {
    case ALG.KEYEDHASH:
      return { type, nameAlg, attributes, authPolicy, scheme: readScheme(r), unique: r.sized(64) };
    case ALG.RSA: {
      const symmetric = readSym(r);
      const scheme = readScheme(r);
      return { type, nameAlg, attributes, authPolicy, symmetric, scheme, keyBits: r.u16(), exponent: r.u32(), unique: r.sized(512) };
    }
    case ALG.ECC: {
      const symmetric = readSym(r);
      const scheme = readScheme(r);
      const curve = r.u16();
      const kdf = readScheme(r);
      return { type, nameAlg, attributes, authPolicy, symmetric, scheme, curve, kdf, x: r.sized(128), y: r.sized(128) };
    }
    case ALG.SYMCIPHER:
      return { type, nameAlg, attributes, authPolicy, symmetric: readSym(r), unique: r.sized(64) };
    default:
      throw new TpmFormatError(`public area of unknown type 0x${type.toString(16)}`);
  }
}

/** TPM2B_PUBLIC → public area, checking the inner size matches. */
export function readSizedPublic(r: Reader): { area: PublicArea; bytes: Uint8Array } {
  const bytes = r.sized();
  const inner = new Reader(bytes, "TPMT_PUBLIC");
  const area = readPublic(inner);
  inner.end();
  return { area, bytes };
}

/** An object's Name: nameAlg ‖ H(TPMT_PUBLIC). Only SHA-256 names are computed here. */
export function objectName(publicBytes: Uint8Array): Uint8Array {
  return concat(u16be(ALG.SHA256), sha256(publicBytes));
}

export const SRK_ATTRIBUTES =
  OBJECT.fixedTPM | OBJECT.fixedParent | OBJECT.sensitiveDataOrigin | OBJECT.userWithAuth | OBJECT.restricted | OBJECT.decrypt;

/** The storage primary tpm2-tools' `createprimary -C o -g sha256 -G rsa|ecc` makes (Heads' SRK). */
export function srkTemplate(kind: "rsa" | "ecc"): PublicArea {
  if (kind === "rsa")
    return { type: ALG.RSA, nameAlg: ALG.SHA256, attributes: SRK_ATTRIBUTES, authPolicy: new Uint8Array(0), symmetric: AES128_CFB, scheme: { scheme: ALG.NULL }, keyBits: 2048, exponent: 0, unique: new Uint8Array(0) };
  return { type: ALG.ECC, nameAlg: ALG.SHA256, attributes: SRK_ATTRIBUTES, authPolicy: new Uint8Array(0), symmetric: AES128_CFB, scheme: { scheme: ALG.NULL }, curve: TPM_ECC_NIST_P256, kdf: { scheme: ALG.NULL }, x: new Uint8Array(0), y: new Uint8Array(0) };
}

/** Sealed data object as Heads makes it: the policy is the only way to use it. */
export const SEALED_ATTRIBUTES = OBJECT.fixedTPM | OBJECT.fixedParent | OBJECT.adminWithPolicy;

export function sealedTemplate(policy: Uint8Array): PublicArea {
  return { type: ALG.KEYEDHASH, nameAlg: ALG.SHA256, attributes: SEALED_ATTRIBUTES, authPolicy: policy, scheme: { scheme: ALG.NULL }, unique: new Uint8Array(0) };
}

export function marshalSensitiveCreate(userAuth: Uint8Array, data: Uint8Array): Uint8Array {
  return marshal((w) => w.sized(marshal((i) => i.sized(userAuth).sized(data))));
}

export interface NvPublic {
  index: number;
  nameAlg: number;
  attributes: number;
  authPolicy: Uint8Array;
  dataSize: number;
}

export function marshalNvPublic(p: NvPublic): Uint8Array {
  return marshal((w) => w.u32(p.index).u16(p.nameAlg).u32(p.attributes).sized(p.authPolicy).u16(p.dataSize));
}

export function readNvPublic(r: Reader): { area: NvPublic; bytes: Uint8Array } {
  const bytes = r.sized();
  const i = new Reader(bytes, "TPMS_NV_PUBLIC");
  const area = { index: i.u32(), nameAlg: i.u16(), attributes: i.u32(), authPolicy: i.sized(64), dataSize: i.u16() };
  i.end();
  return { area, bytes };
}
