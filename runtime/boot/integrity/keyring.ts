// The public keys /boot must be signed by: the keyring Heads keeps in the ROM, which
// cbfs-init extracts to /.gnupg/ before anything else runs.
import type { PublicKey } from "openpgp";
import type { Sys } from "../../host/sys.ts";

export const ROM_KEYRINGS = ["/.gnupg/pubring.kbx", "/.gnupg/pubring.gpg", "/.gnupg/pubring.asc"] as const;

export class KeyringMissingError extends Error {
  override readonly name = "KeyringMissingError";
  constructor(readonly looked: readonly string[]) {
    super(`no OpenPGP keyring was found (looked for ${looked.join(", ")}), so /boot cannot be verified; add your public key to the firmware (OEM factory reset or GPG options)`);
  }
}

/** The first keyring present, read; `override` replaces the ROM locations. */
export async function readRomKeyring(sys: Sys, override?: string): Promise<PublicKey[]> {
  const candidates = override ? [override] : [...ROM_KEYRINGS];
  for (const path of candidates) {
    if (sys.stat(path)) {
      // openpgp loads only when a keyring is really read.
      const { readKeyring } = await import("../../../gpg/verify.ts");
      return readKeyring(sys.readFile(path));
    }
  }
  throw new KeyringMissingError(candidates);
}
