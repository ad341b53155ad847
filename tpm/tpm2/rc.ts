// Response codes: every code a TPM 2.0 can answer, decoded to its spec name and a sentence
// a recovery-shell operator can act on (Part 2, 6.6).
import { TpmResponseError } from "../errors.ts";
import { TPM12_RC } from "../tpm12/rc.ts";

const FMT0: Record<number, [string, string]> = {
  0x000: ["TPM_RC_INITIALIZE", "the TPM has not been started (TPM2_Startup missing)"],
  0x001: ["TPM_RC_FAILURE", "the TPM is in failure mode"],
  0x003: ["TPM_RC_SEQUENCE", "improper use of a sequence handle"],
  0x00b: ["TPM_RC_PRIVATE", "not currently used"],
  0x019: ["TPM_RC_HMAC", "not currently used"],
  0x020: ["TPM_RC_DISABLED", "the command is disabled"],
  0x021: ["TPM_RC_EXCLUSIVE", "the command failed because an audit sequence required exclusivity"],
  0x024: ["TPM_RC_AUTH_TYPE", "the authorization handle is not correct for the command"],
  0x025: ["TPM_RC_AUTH_MISSING", "the command requires an authorization session for a handle and it is not present"],
  0x026: ["TPM_RC_POLICY", "the policy failure in math operation or an invalid authPolicy value"],
  0x027: ["TPM_RC_PCR", "PCR check fail"],
  0x028: ["TPM_RC_PCR_CHANGED", "the PCR have changed since checked"],
  0x02d: ["TPM_RC_UPGRADE", "the TPM is in field upgrade mode"],
  0x02e: ["TPM_RC_TOO_MANY_CONTEXTS", "context ID counter is at maximum"],
  0x02f: ["TPM_RC_AUTH_UNAVAILABLE", "authValue or authPolicy is not available for the selected entity"],
  0x030: ["TPM_RC_REBOOT", "a _TPM_Init and Startup(CLEAR) is required before the TPM can resume operation"],
  0x031: ["TPM_RC_UNBALANCED", "the protection algorithms (hash and symmetric) are not reasonably balanced"],
  0x042: ["TPM_RC_COMMAND_SIZE", "command commandSize value is inconsistent with contents of the command buffer"],
  0x043: ["TPM_RC_COMMAND_CODE", "the command code is not supported"],
  0x044: ["TPM_RC_AUTHSIZE", "the value of authorizationSize is out of range or the number of octets in the authorization area is greater than required"],
  0x045: ["TPM_RC_AUTH_CONTEXT", "use of an authorization session with a context command or another command that cannot have an authorization session"],
  0x046: ["TPM_RC_NV_RANGE", "NV offset+size is out of range"],
  0x047: ["TPM_RC_NV_SIZE", "requested allocation size is larger than allowed"],
  0x048: ["TPM_RC_NV_LOCKED", "NV access locked"],
  0x049: ["TPM_RC_NV_AUTHORIZATION", "NV access authorization fails in command actions"],
  0x04a: ["TPM_RC_NV_UNINITIALIZED", "an NV index is used before being initialized (a counter not yet incremented)"],
  0x04b: ["TPM_RC_NV_SPACE", "insufficient space for NV allocation"],
  0x04c: ["TPM_RC_NV_DEFINED", "the NV index or persistent object already exists"],
  0x050: ["TPM_RC_BAD_CONTEXT", "context in TPM2_ContextLoad() is not valid"],
  0x051: ["TPM_RC_CPHASH", "cpHash value already set or not correct for use"],
  0x052: ["TPM_RC_PARENT", "handle for parent is not a valid parent"],
  0x053: ["TPM_RC_NEEDS_TEST", "some function needs testing"],
  0x054: ["TPM_RC_NO_RESULT", "an internal function cannot process a request due to an unspecified problem"],
  0x055: ["TPM_RC_SENSITIVE", "the sensitive area did not unmarshal correctly after decryption"],
};

const FMT1: Record<number, [string, string]> = {
  0x001: ["TPM_RC_ASYMMETRIC", "asymmetric algorithm not supported or not correct"],
  0x002: ["TPM_RC_ATTRIBUTES", "inconsistent attributes"],
  0x003: ["TPM_RC_HASH", "hash algorithm not supported or not appropriate"],
  0x004: ["TPM_RC_VALUE", "value is out of range or is not correct for the context"],
  0x005: ["TPM_RC_HIERARCHY", "hierarchy is not enabled or is not correct for the use"],
  0x007: ["TPM_RC_KEY_SIZE", "key size is not supported"],
  0x008: ["TPM_RC_MGF", "mask generation function not supported"],
  0x009: ["TPM_RC_MODE", "mode of operation not supported"],
  0x00a: ["TPM_RC_TYPE", "the type of the value is not appropriate for the use"],
  0x00b: ["TPM_RC_HANDLE", "the handle is not correct for the use (nothing is stored there)"],
  0x00c: ["TPM_RC_KDF", "unsupported key derivation function or function not appropriate for use"],
  0x00d: ["TPM_RC_RANGE", "value was out of allowed range"],
  0x00e: ["TPM_RC_AUTH_FAIL", "the authorization HMAC check failed (wrong password) and the DA counter was incremented"],
  0x00f: ["TPM_RC_NONCE", "invalid nonce size or nonce value mismatch"],
  0x010: ["TPM_RC_PP", "authorization requires assertion of physical presence"],
  0x012: ["TPM_RC_SCHEME", "unsupported or incompatible scheme"],
  0x015: ["TPM_RC_SIZE", "structure is the wrong size"],
  0x016: ["TPM_RC_SYMMETRIC", "unsupported symmetric algorithm or key size, or not appropriate for instance"],
  0x017: ["TPM_RC_TAG", "incorrect structure tag"],
  0x018: ["TPM_RC_SELECTOR", "union selector is incorrect"],
  0x01a: ["TPM_RC_INSUFFICIENT", "the TPM was unable to unmarshal a value because there were not enough octets in the input buffer"],
  0x01b: ["TPM_RC_SIGNATURE", "the signature is not valid"],
  0x01c: ["TPM_RC_KEY", "key fields are not compatible with the selected use"],
  0x01d: ["TPM_RC_POLICY_FAIL", "a policy check failed (the PCR values or the passphrase are not those the secret was sealed to)"],
  0x01f: ["TPM_RC_INTEGRITY", "integrity check failed"],
  0x020: ["TPM_RC_TICKET", "invalid ticket"],
  0x021: ["TPM_RC_RESERVED_BITS", "reserved bits not set to zero as required"],
  0x022: ["TPM_RC_BAD_AUTH", "authorization failure without DA implications (wrong password on a noDA object)"],
  0x023: ["TPM_RC_EXPIRED", "the policy has expired"],
  0x024: ["TPM_RC_POLICY_CC", "the commandCode in the policy is not the commandCode of the command or the command code in a policy command references a command that is not implemented"],
  0x025: ["TPM_RC_BINDING", "public and sensitive portions of an object are not cryptographically bound"],
  0x026: ["TPM_RC_CURVE", "curve not supported"],
  0x027: ["TPM_RC_ECC_POINT", "point is not on the required curve"],
};

const WARN: Record<number, [string, string]> = {
  0x001: ["TPM_RC_CONTEXT_GAP", "gap for context ID is too large"],
  0x002: ["TPM_RC_OBJECT_MEMORY", "out of memory for object contexts (transient objects were not flushed)"],
  0x003: ["TPM_RC_SESSION_MEMORY", "out of memory for session contexts"],
  0x004: ["TPM_RC_MEMORY", "out of shared object/session memory or need space for internal operations"],
  0x005: ["TPM_RC_SESSION_HANDLES", "out of session handles; a session must be flushed before a new session may be created"],
  0x006: ["TPM_RC_OBJECT_HANDLES", "out of object handles; a reboot is required"],
  0x007: ["TPM_RC_LOCALITY", "bad locality"],
  0x008: ["TPM_RC_YIELDED", "the TPM has suspended operation on the command; the command must be resent"],
  0x009: ["TPM_RC_CANCELED", "the command was canceled"],
  0x00a: ["TPM_RC_TESTING", "the TPM is performing self-tests"],
  0x020: ["TPM_RC_NV_RATE", "the TPM is rate-limiting accesses to prevent wearout of NV"],
  0x021: ["TPM_RC_LOCKOUT", "authorizations for objects subject to DA protection are not allowed at this time because the TPM is in DA lockout mode"],
  0x022: ["TPM_RC_RETRY", "the TPM was not able to start the command; it must be resent"],
  0x023: ["TPM_RC_NV_UNAVAILABLE", "the command may require writing of NV and NV is not current accessible"],
};


export interface DecodedRc {
  name: string;
  sentence: string;
  /** The base code with handle/parameter/session numbers stripped, for comparisons. */
  base: number;
}

export function decodeRc(rc: number): DecodedRc {
  if (rc === 0) return { name: "TPM_RC_SUCCESS", sentence: "success", base: 0 };
  if (rc & 0x80) {
    const e = rc & 0x3f;
    const [name, sentence] = FMT1[e] ?? [`TPM_RC_FMT1_0x${e.toString(16)}`, "unknown format-one error"];
    const n = (rc >> 8) & 0xf;
    let where = "";
    if (rc & 0x40) where = ` (parameter ${n})`;
    else if (n & 0x8) where = ` (session ${n & 7})`;
    else if (n) where = ` (handle ${n})`;
    return { name, sentence: sentence + where, base: 0x80 | e };
  }
  if (rc & 0x100) {
    const code = rc & 0x7f;
    if (rc & 0x400) return { name: `TPM_RC_VENDOR_0x${rc.toString(16)}`, sentence: "a vendor-specific error", base: rc };
    const table = rc & 0x800 ? WARN : FMT0;
    const [name, sentence] = table[code] ?? [`TPM_RC_0x${rc.toString(16)}`, "unknown response code"];
    return { name, sentence, base: (rc & 0x900) | code };
  }
  const [name, sentence] = TPM12_RC[rc & 0xfff] ?? [`TPM_RC_0x${rc.toString(16)}`, "unknown TPM 1.2 response code"];
  return { name, sentence, base: rc };
}

export const RC = {
  INITIALIZE: 0x100,
  REBOOT: 0x130,
  NV_UNINITIALIZED: 0x14a,
  NV_DEFINED: 0x14c,
  HIERARCHY: 0x85,
  HANDLE: 0x8b,
  AUTH_FAIL: 0x8e,
  BAD_AUTH: 0xa2,
  POLICY_FAIL: 0x9d,
  PCR_CHANGED: 0x128,
  OBJECT_MEMORY: 0x902,
  SESSION_MEMORY: 0x903,
  YIELDED: 0x908,
  TESTING: 0x90a,
  LOCKOUT: 0x921,
  RETRY: 0x922,
  NV_RATE: 0x920,
} as const;

export function responseError(command: string, rc: number): TpmResponseError {
  const d = decodeRc(rc);
  return new TpmResponseError(command, rc, d.name, d.sentence);
}

export function rcBase(rc: number): number {
  return decodeRc(rc).base;
}
