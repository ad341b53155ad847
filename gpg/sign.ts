// Making detached signatures. A Signer hides where the secret key lives: in memory here
// (openpgp.js, the OEM reset's fresh key or a backup drive's subkeys); a smartcard signer
// can implement the same face later.
import * as openpgp from "openpgp";
import { SignerError } from "./errors.ts";
import { unlockSecretKey } from "./unlock.ts";

export interface Signer {
  /** Fingerprint of the signing key, uppercase hex as GnuPG prints it. */
  readonly fingerprint: string;
  /** An ASCII-armoured detached signature over data, SHA-256 message hash. */
  signDetached(data: Uint8Array): Promise<string>;
  /** Zeroes the secret key material (openpgp's clearPrivateParams); the signer cannot sign afterwards. */
  forget(): void;
}

export { SignerError };

/** A signer over an armoured or binary secret key, unlocked with its passphrase (bytes, never a string) when it has one. */
export async function inMemorySigner(secretKey: Uint8Array | string, passphrase?: Uint8Array): Promise<Signer> {
  let key: openpgp.PrivateKey;
  try {
    const text = typeof secretKey === "string" ? secretKey : new TextDecoder().decode(secretKey.subarray(0, 64)).trimStart().startsWith("-----BEGIN ") ? new TextDecoder().decode(secretKey) : null;
    key = text !== null ? await openpgp.readPrivateKey({ armoredKey: text }) : await openpgp.readPrivateKey({ binaryKey: secretKey as Uint8Array });
  } catch (error) {
    throw new SignerError(`cannot read the secret key: ${(error as Error).message}; pass an OpenPGP secret key (gpg --export-secret-keys)`);
  }
  if (!key.isDecrypted()) {
    if (passphrase === undefined || passphrase.length === 0) throw new SignerError("the secret key is protected by a passphrase; give the passphrase");
    key = await unlockSecretKey(key, passphrase);
  }
  return signerOf(key);
}

/** A signer over a secret key that is already unlocked. */
export function signerOf(unlocked: openpgp.PrivateKey): Signer {
  let forgotten = false;
  return {
    fingerprint: unlocked.getFingerprint().toUpperCase(),
    async signDetached(data) {
      if (forgotten) throw new SignerError("the secret key was already cleared from memory; unlock it again to sign");
      try {
        const message = await openpgp.createMessage({ binary: data });
        return (await openpgp.sign({
          message,
          signingKeys: unlocked,
          detached: true,
          format: "armored",
          config: { preferredHashAlgorithm: openpgp.enums.hash.sha256 },
        })) as string;
      } catch (error) {
        throw new SignerError(`signing failed: ${(error as Error).message}`);
      }
    },
    forget() {
      forgotten = true;
      // In openpgp 6 but missing from its type declarations.
      (unlocked as openpgp.PrivateKey & { clearPrivateParams(): void }).clearPrivateParams();
    },
  };
}

