// Detached OpenPGP signature verification over bytes, against a keyring.
// Fail closed: every signature packet must verify and come from a key of the keyring.
import * as openpgp from "openpgp";
import { isKeybox, keyboxKeyblocks } from "./keybox.ts";

export type SignatureFailure =
  | "malformed-keyring"
  | "empty-keyring"
  | "malformed-signature"
  | "no-signature"
  | "unknown-key"
  | "bad-signature";

export class SignatureError extends Error {
  constructor(
    readonly reason: SignatureFailure,
    message: string,
  ) {
    super(message);
    this.name = "SignatureError";
  }
}

export interface VerifiedSignature {
  valid: true;
  /** Fingerprint of the primary key, uppercase hex as GnuPG prints it. */
  fingerprint: string;
  /** Fingerprint of the key or subkey that made the signature. */
  signingKeyFingerprint: string;
  /** The 16-hex-digit key ID found in the signature. */
  keyId: string;
  created: Date | null;
}

const ARMOR_KEY_START = "-----BEGIN PGP PUBLIC KEY BLOCK-----";

function isArmored(data: Uint8Array): boolean {
  const head = new TextDecoder().decode(data.subarray(0, 64)).trimStart();
  return head.startsWith("-----BEGIN ");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Each keybox blob names its primary key's fingerprint; a keyblock that parses to another
// key means the blob's parts do not belong together.
async function keyboxKeys(bytes: Uint8Array): Promise<openpgp.PublicKey[]> {
  const keys: openpgp.PublicKey[] = [];
  for (const [n, block] of keyboxKeyblocks(bytes).entries()) {
    const read = await openpgp.readKeys({ binaryKeys: block.keyblock });
    const fingerprint = read[0]?.getFingerprint().toUpperCase();
    if (read.length !== 1 || fingerprint !== block.fingerprints[0]) {
      throw new Error(`OpenPGP keyblock ${n + 1} of the keybox holds ${read.length === 1 ? `key ${fingerprint}` : `${read.length} keys`}, not the key ${block.fingerprints[0]} its blob lists`);
    }
    keys.push(read[0]!.toPublic());
  }
  return keys;
}

/** Public keys from a GnuPG keybox, ASCII-armoured blocks (several may be concatenated) or binary transferable keys. */
export async function readKeyring(data: Uint8Array | string): Promise<openpgp.PublicKey[]> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const keys: openpgp.PublicKey[] = [];
  try {
    if (isKeybox(bytes)) keys.push(...(await keyboxKeys(bytes)));
    else if (isArmored(bytes)) {
      const text = new TextDecoder().decode(bytes);
      // openpgp reads one armour block per call; a keyring file may hold several.
      const blocks = text.split(ARMOR_KEY_START).slice(1).map((rest) => ARMOR_KEY_START + rest);
      if (blocks.length === 0) throw new Error("no public key block found");
      for (const armoredKeys of blocks) {
        for (const key of await openpgp.readKeys({ armoredKeys })) keys.push(key.toPublic());
      }
    } else {
      for (const key of await openpgp.readKeys({ binaryKeys: bytes })) keys.push(key.toPublic());
    }
  } catch (error) {
    throw new SignatureError("malformed-keyring", `cannot read the keyring: ${describe(error)}`);
  }
  if (keys.length === 0) throw new SignatureError("empty-keyring", "the keyring holds no public key");
  return keys;
}

async function readDetachedSignature(signature: Uint8Array | string): Promise<openpgp.Signature> {
  try {
    if (typeof signature === "string") return await openpgp.readSignature({ armoredSignature: signature });
    if (isArmored(signature)) return await openpgp.readSignature({ armoredSignature: new TextDecoder().decode(signature) });
    return await openpgp.readSignature({ binarySignature: signature });
  } catch (error) {
    throw new SignatureError("malformed-signature", `cannot read the signature: ${describe(error)}`);
  }
}

export interface VerifyOptions {
  data: Uint8Array;
  /** Binary or ASCII-armoured detached signature. */
  signature: Uint8Array | string;
  keys: openpgp.PublicKey[];
  /** The time to check key validity at; firmware with an unset clock may pass the signature's own time. */
  date?: Date;
}

/** Resolves with the signer when the signature is good; rejects with a SignatureError otherwise. */
export async function verifyDetached(opts: VerifyOptions): Promise<VerifiedSignature> {
  if (opts.keys.length === 0) throw new SignatureError("empty-keyring", "the keyring holds no public key");
  const signature = await readDetachedSignature(opts.signature);
  const packets = signature.packets;
  if (packets.length === 0) throw new SignatureError("no-signature", "the signature file holds no signature");

  // Find each issuer ourselves so an unknown signer is reported as such, not as a bad signature.
  const signers: { key: openpgp.PublicKey; keyId: string; created: Date | null }[] = [];
  for (const packet of packets) {
    const keyId = packet.issuerKeyID;
    const key = opts.keys.find((k) => k.getKeys(keyId).length > 0);
    if (!key) throw new SignatureError("unknown-key", `the signature was made by key ${keyId.toHex().toUpperCase()}, which is not in the keyring`);
    signers.push({ key, keyId: keyId.toHex().toUpperCase(), created: packet.created ?? null });
  }

  let result: openpgp.VerifyMessageResult<Uint8Array>;
  try {
    const message = await openpgp.createMessage({ binary: opts.data });
    result = await openpgp.verify({
      message,
      signature,
      verificationKeys: signers.map((s) => s.key),
      format: "binary",
      ...(opts.date ? { date: opts.date } : {}),
    });
  } catch (error) {
    throw new SignatureError("bad-signature", `the signature does not verify: ${describe(error)}`);
  }
  if (result.signatures.length !== packets.length) {
    throw new SignatureError("bad-signature", "not every signature in the file was checked");
  }
  for (const checked of result.signatures) {
    try {
      await checked.verified;
    } catch (error) {
      throw new SignatureError("bad-signature", `the signature does not verify: ${describe(error)}`);
    }
  }
  const first = signers[0]!;
  const firstId = packets[0]!.issuerKeyID;
  const signingKey = first.key.getKeys(firstId)[0]!;
  return {
    valid: true,
    fingerprint: first.key.getFingerprint().toUpperCase(),
    signingKeyFingerprint: signingKey.getFingerprint().toUpperCase(),
    keyId: first.keyId,
    created: first.created,
  };
}
