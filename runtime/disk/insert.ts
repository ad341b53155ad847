// Booting with the disk unlock key, in Heads' kexec-insert-key order: measure the LUKS
// headers into PCR 6 and compare them with the signed copy (a mismatch stops here, before
// any unseal), unseal with the passphrase, then build the OS initrd that carries the key.
// PCR 4 moves for the OS only after that (kexec.ts), which is what keeps the key from it.
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import { measureLuksHeaders } from "./headers.ts";
import { buildKeyInitrd } from "./key-initrd.ts";
import type { DiskKeyConfig } from "./config.ts";

export class DiskHeadersChangedError extends Error {
  override readonly name = "DiskHeadersChangedError";
  constructor() {
    super("The LUKS headers of the disk changed since the disk unlock key was sealed (a key slot added or removed, or a header rewritten). If you did not change them, the disk may have been tampered with; the key is not released.");
  }
}

/** Extends PCR 6 with the headers; throws DiskHeadersChangedError when they differ from the signed copy. False when /boot holds no copy to compare with. */
export async function measureKeyDevices(sys: Sys, tpm: Tpm, config: DiskKeyConfig, workDir: string): Promise<boolean> {
  const text = await measureLuksHeaders(sys, tpm, config.devices.map((d) => d.device), workDir);
  if (config.headers === null) return false;
  if (text !== config.headers) throw new DiskHeadersChangedError();
  return true;
}

/** The verified OS initrd with the key appended, written under secretDir (wiped after kexec loads it). */
export async function keyedInitrd(sys: Sys, verifiedInitrd: string, secretDir: string, key: Uint8Array, config: DiskKeyConfig): Promise<string> {
  const target = `${secretDir}/initrd-with-key`;
  await buildKeyInitrd(sys, verifiedInitrd, target, key, config.overrides);
  return target;
}
