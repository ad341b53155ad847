// A new signing key made in memory (the OEM reset's "keys in memory"): a v4 key that GnuPG 2.2
// reads, its secret part only ever held armoured and passphrase-protected.
import * as openpgp from "openpgp";
import { SignerError, signerOf, type Signer } from "./sign.ts";

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
  /** The user IDs as the key's packets hold them, for the trust database. */
  userIds: string[];
  armoredPublic: string;
  /** The public key as GnuPG's binary keyring (pubring.gpg) holds it. */
  binaryPublic: Uint8Array;
  /** The secret key armoured and protected by `passphrase`, made only when asked for (a copy to keep). */
  protectedSecret(passphrase: string): Promise<string>;
  signer: Signer;
}

/**
 * The S2K work factor for a protected copy: 1 MiB of SHA-256 (count byte 0xa0) instead of
 * openpgp's 64 MiB, since the firmware hashes in pure JS (64 MiB take minutes there). The
 * passphrase rules (at least 6 characters, 8 for a single one) carry the rest.
 */
const S2K_COUNT_BYTE = 0xa0;

export async function generateSigningKey(identity: Identity, algorithm: KeyAlgorithm = "ed25519", date?: Date): Promise<NewKey> {
  const type = algorithm === "ed25519" ? { type: "ecc" as const, curve: "ed25519Legacy" as const } : { type: "rsa" as const, rsaBits: 3072 };
  let pair: { privateKey: openpgp.PrivateKey; publicKey: openpgp.PublicKey };
  try {
    // Made unprotected and kept in memory: protecting it costs an S2K, paid only for a copy.
    pair = await openpgp.generateKey({ ...type, userIDs: [identity], format: "object", ...(date ? { date } : {}), config: { v6Keys: false } });
  } catch (error) {
    const why = (error as Error).message;
    const hint = algorithm === "rsa3072" ? "; choose ed25519 (CONFIG_GPG_ALGO) on this engine" : "";
    throw new SignerError(`the ${algorithm} key could not be generated: ${why}${hint}`);
  }
  const { privateKey, publicKey } = pair;
  return {
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    userIds: privateKey.getUserIDs(),
    armoredPublic: publicKey.armor(),
    binaryPublic: publicKey.write(),
    async protectedSecret(passphrase) {
      if (passphrase === "") throw new SignerError("a copy of the secret key needs a passphrase; it is never kept unprotected");
      const locked = await openpgp.encryptKey({ privateKey, passphrase, config: { s2kIterationCountByte: S2K_COUNT_BYTE } });
      return locked.armor();
    },
    signer: signerOf(privateKey),
  };
}
