// Heads' passphrase rules and defaults for the OEM factory reset (heads-behaviour.md §6),
// with the key's passphrase in the Admin PIN's place: bootward keeps keys in memory, not
// on a card.
import type { KeyAlgorithm } from "../../gpg/keygen.ts";

export const DEFAULT_TPM_OWNER = "12345678";
export const DEFAULT_KEY_PASSPHRASE = "12345678";
export const DEFAULT_NAME = "OEM Key";
export const DEFAULT_COMMENT = "OEM-generated key";

export interface PassphraseRule {
  what: string;
  min: number;
  max: number;
}

/** One passphrase for everything: 8–25 characters (25 is the dongles' HOTP limit Heads keeps). */
export const SINGLE: PassphraseRule = { what: "passphrase", min: 8, max: 25 };
/** The TPM owner passphrase: at least 8; the TPM takes up to 32. */
export const TPM_OWNER: PassphraseRule = { what: "TPM owner passphrase", min: 8, max: 32 };
/** The signing key's passphrase, in the Admin PIN's place: 6–25. */
export const KEY_PASSPHRASE: PassphraseRule = { what: "signing key passphrase", min: 6, max: 25 };
/** Name, e-mail and comment of the key's user ID. */
export const IDENTITY_FIELD = { min: 1, max: 60 };

/** The rule's sentence when `value` breaks it, else null. */
export function checkPassphrase(rule: PassphraseRule, value: string): string | null {
  const length = [...value].length;
  if (length < rule.min || length > rule.max) return `The ${rule.what} must be ${rule.min} to ${rule.max} characters long (this one has ${length}).`;
  if (/[\x00-\x1f\x7f]/.test(value)) return `The ${rule.what} cannot contain control characters.`;
  return null;
}

export function checkIdentityField(label: string, value: string): string | null {
  const length = [...value].length;
  if (length < IDENTITY_FIELD.min || length > IDENTITY_FIELD.max) return `The ${label} must be ${IDENTITY_FIELD.min} to ${IDENTITY_FIELD.max} characters long.`;
  if (/[\x00-\x1f\x7f<>()]/.test(value)) return `The ${label} cannot contain control characters, <, >, ( or ).`;
  return null;
}

/** Heads' default e-mail: oem-<YYYYmmddHHMMSS>@example.com, in UTC. */
export function defaultEmail(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `oem-${stamp}@example.com`;
}

export class KeyAlgorithmError extends Error {
  override readonly name = "KeyAlgorithmError";
}

/** CONFIG_GPG_ALGO: Heads' "RSA" (3072) or bootward's "ed25519", the default. */
export function keyAlgorithm(setting: string | undefined): KeyAlgorithm {
  if (setting === undefined || setting === "" || setting.toLowerCase() === "ed25519") return "ed25519";
  if (setting === "RSA" || setting.toLowerCase() === "rsa3072") return "rsa3072";
  throw new KeyAlgorithmError(`CONFIG_GPG_ALGO="${setting}" is not a key type bootward can generate; use ed25519 or RSA`);
}
