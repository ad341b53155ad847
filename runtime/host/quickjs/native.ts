// The primitives compiled into the binary (native.c), as Uint8Array in and out.
import * as native from "bootward:native";
import type { CryptoPrimitives } from "./subtle.ts";

export const nativeCrypto: CryptoPrimitives = {
  sha256: (data) => new Uint8Array(native.sha256(data)),
  sha512: (data) => new Uint8Array(native.sha512(data)),
  ed25519Verify: (publicKey, message, signature) => native.ed25519Verify(publicKey, message, signature),
  rsaPublic(n, e, s) {
    const m = native.rsaPublic(n, e, s);
    return m === null ? null : new Uint8Array(m);
  },
};

/** A file's SHA-256, or a negative errno. */
export function sha256File(path: string): Uint8Array | number {
  const digest = native.sha256File(path);
  return typeof digest === "number" ? digest : new Uint8Array(digest);
}
