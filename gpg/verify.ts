// Detached OpenPGP signature verification over bytes, against a keyring.
// Fail closed: every signature packet must verify and come from a key of the keyring.
import * as openpgp from "openpgp";
import { isKeybox, keyboxKeyblocks, KeyboxError } from "./keybox.ts";

export type SignatureFailure =
  | "malformed-keyring"
  | "empty-keyring"
  | "malformed-signature"
  | "no-signature"
  | "unknown-key"
  | "expired-key"
  | "revoked-key"
  | "clock"
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
  /** Set when the signature is dated after this machine's clock, within the tolerance: the clock is behind. */
  clockWarning: string | null;
}

/**
 * How far a signature may be dated after this machine's clock and still verify (with a
 * warning). An RTC loses minutes to days; GnuPG, which Heads runs, accepts any future date
 * as long as the key itself is older than the clock. A bound keeps a clock reset to 2000 (a
 * flat CMOS battery) from passing silently: that one is refused, with the way to fix it.
 */
export const CLOCK_TOLERANCE_SECONDS = 7 * 24 * 3600;

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
      throw new KeyboxError(`OpenPGP keyblock ${n + 1} of the keybox holds ${read.length === 1 ? `key ${fingerprint}` : `${read.length} keys`}, not the key ${block.fingerprints[0]} its blob lists`);
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
    if (!isParseFailure(error)) throw error;
    throw new SignatureError("malformed-keyring", `cannot read the keyring: ${describe(error)}`);
  }
  if (keys.length === 0) throw new SignatureError("empty-keyring", "the keyring holds no public key");
  return keys;
}

/**
 * What hostile bytes may legitimately cause: openpgp's and the keybox reader's own errors.
 * A TypeError or RangeError is a bug in a parser, and it must reach the fuzz tests as one
 * rather than pass for a malformed keyring.
 */
function isParseFailure(error: unknown): boolean {
  return error instanceof Error && !(error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError);
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
  /** This machine's clock; now by default. */
  date?: Date;
  /** Seconds a signature may be dated after `date` (CLOCK_TOLERANCE_SECONDS by default). */
  clockToleranceSeconds?: number;
}

const iso = (d: Date) => d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

function span(seconds: number): string {
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} minutes`;
  if (seconds < 2 * 86400) return `${Math.round(seconds / 3600)} hours`;
  return `${Math.round(seconds / 86400)} days`;
}

/**
 * The time to judge the signature and the key at: the clock, or the signature's own date when
 * that is later by no more than the tolerance (the clock is behind: warn, as GnuPG notes it).
 */
function judgementTime(clock: Date, created: Date[], tolerance: number): { at: Date; clockWarning: string | null } {
  const latest = created.reduce((a, b) => (b > a ? b : a), clock);
  const ahead = (latest.getTime() - clock.getTime()) / 1000;
  if (ahead <= 0) return { at: clock, clockWarning: null };
  const dated = `the signature is dated ${iso(latest)}, ${span(ahead)} after this machine's clock (${iso(clock)})`;
  if (ahead > tolerance) throw new SignatureError("clock", `${dated}: the clock is wrong; set it (Options → Change system time) and verify again`);
  return { at: latest, clockWarning: `${dated}: the clock is behind; set it (Options → Change system time)` };
}

/**
 * Refuses a signer whose key (or signing subkey) is revoked, or was expired when it signed
 * (`signed`, the signature's own date, as openpgp and GnuPG judge expiry), naming which.
 */
async function checkKeyUsable(key: openpgp.PublicKey, keyId: openpgp.KeyID, at: Date, signed: Date): Promise<void> {
  const fpr = key.getFingerprint().toUpperCase();
  if (await key.isRevoked(undefined, undefined, at)) throw new SignatureError("revoked-key", `the signing key ${fpr} is revoked; only a signature by a valid key is accepted`);
  const subkey = key.getSubkeys(keyId)[0];
  if (subkey && (await subkey.isRevoked(null as unknown as openpgp.SignaturePacket, key.keyPacket, at))) {
    throw new SignatureError("revoked-key", `the signing subkey ${keyId.toHex().toUpperCase()} of key ${fpr} is revoked; only a signature by a valid key is accepted`);
  }
  const expired = async (expiry: Promise<Date | number | null>) => {
    const when = await expiry.catch(() => null);
    return when instanceof Date && when <= signed ? when : null;
  };
  const keyExpiry = await expired(key.getExpirationTime());
  if (keyExpiry) throw new SignatureError("expired-key", `the signing key ${fpr} expired on ${iso(keyExpiry)}, before it made this signature (${iso(signed)}); extend it or sign with a valid key`);
  const subExpiry = subkey ? await expired(subkey.getExpirationTime(signed)) : null;
  if (subExpiry) throw new SignatureError("expired-key", `the signing subkey ${keyId.toHex().toUpperCase()} of key ${fpr} expired on ${iso(subExpiry)}, before it made this signature (${iso(signed)}); extend it or sign with a valid key`);
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

  const { at, clockWarning } = judgementTime(opts.date ?? new Date(), signers.flatMap((s) => (s.created ? [s.created] : [])), opts.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS);
  for (const [i, s] of signers.entries()) await checkKeyUsable(s.key, packets[i]!.issuerKeyID, at, s.created ?? at);

  let result: openpgp.VerifyMessageResult<Uint8Array>;
  try {
    const message = await openpgp.createMessage({ binary: opts.data });
    result = await openpgp.verify({
      message,
      signature,
      verificationKeys: signers.map((s) => s.key),
      format: "binary",
      date: at,
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
    clockWarning,
  };
}
