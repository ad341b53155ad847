// The signed set: every top-level kexec*.txt of /boot and kexec.sig. The signed stream is
// `(cd /boot; sha256sum kexec*.txt)`: bash glob order (C locale ⇒ byte order), bare names.
// These files are small, so they are read once and hashed in JS: the bytes that were
// verified are the very bytes parsed afterwards (no window to swap a file in between).
import type { Sys } from "../../host/sys.ts";
import { sha256 } from "../../../tpm/crypto/hash.ts";
import { toHex } from "../../../lib/bytes.ts";
import { byteOrder, checkName } from "./names.ts";

export const SIGNATURE_FILE = "kexec.sig";
// Big enough for kexec_tree.txt of a large /boot; a larger list is not one bootward wrote.
const MAX_LIST_BYTES = 16 * 1024 * 1024;

export class SignedSetError extends Error {
  override readonly name = "SignedSetError";
}

export function isSignedListName(name: string): boolean {
  return name.startsWith("kexec") && name.endsWith(".txt") && name.length >= 9;
}

/** The lists by bare name, in byte order. */
export function readSignedLists(sys: Sys, dir: string): Map<string, Uint8Array> {
  const names = sys.readdir(dir).filter(isSignedListName).sort(byteOrder);
  const lists = new Map<string, Uint8Array>();
  for (const name of names) {
    checkName(`./${name}`, name);
    const st = sys.stat(`${dir}/${name}`);
    if (!st || st.kind !== "file") throw new SignedSetError(`${dir}/${name} is not a regular file; a signed list must be one`);
    if (st.size > MAX_LIST_BYTES) throw new SignedSetError(`${dir}/${name} is larger than any list bootward writes`);
    lists.set(name, sys.readFile(`${dir}/${name}`));
  }
  return lists;
}

export function signedStream(lists: Map<string, Uint8Array>): Uint8Array {
  const names = [...lists.keys()].sort(byteOrder);
  const text = names.map((n) => `${toHex(sha256(lists.get(n)!))}  ${n}\n`).join("");
  return new TextEncoder().encode(text);
}
