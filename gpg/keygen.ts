// A new signing key made in memory (the OEM reset's "keys in memory"): a v4 key that GnuPG 2.2
// reads, its secret part only ever held armoured and passphrase-protected.
import * as openpgp from "openpgp";
import { inMemorySigner, SignerError, type Signer } from "./sign.ts";

/**
 * Ed25519 (legacy EdDSA, v4) is the default: openpgp generates it on QuickJS in about a
 * second, where RSA key generation needs WebCrypto the firmware engine lacks
 * (engine-facts.md). RSA 3072 is what Heads makes; it works where WebCrypto does (Node).
 */
export type KeyAlgorithm = "ed25519" | "rsa3072";

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["ed25519", "rsa3072"];

export interface Identity {
  name: string;
  email: string;
  comment: string;
}

export interface NewKey {
  fingerprint: string;
  armoredPublic: string;
  /** The public key as GnuPG's binary keyring (pubring.gpg) holds it. */
  binaryPublic: Uint8Array;
  /** Encrypted with the passphrase it was made with. */
  armoredSecret: string;
  signer: Signer;
}

export async function generateSigningKey(identity: Identity, passphrase: string, algorithm: KeyAlgorithm = "ed25519", date?: Date): Promise<NewKey> {
  if (passphrase === "") throw new SignerError("a new key needs a passphrase; the secret key is never kept unprotected");
  const type = algorithm === "ed25519" ? { type: "ecc" as const, curve: "ed25519Legacy" as const } : { type: "rsa" as const, rsaBits: 3072 };
  let pair: { privateKey: string; publicKey: string };
  try {
    pair = await openpgp.generateKey({
      ...type,
      userIDs: [identity],
      passphrase,
      format: "armored",
      ...(date ? { date } : {}),
      config: { v6Keys: false },
    });
  } catch (error) {
    const why = (error as Error).message;
    const hint = algorithm === "rsa3072" ? "; choose ed25519 (CONFIG_GPG_ALGO) on this engine" : "";
    throw new SignerError(`the ${algorithm} key could not be generated: ${why}${hint}`);
  }
  const signer = await inMemorySigner(pair.privateKey, passphrase);
  const binaryPublic = (await openpgp.readKey({ armoredKey: pair.publicKey })).write();
  return { fingerprint: signer.fingerprint, armoredPublic: pair.publicKey, binaryPublic, armoredSecret: pair.privateKey, signer };
}
