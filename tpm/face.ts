// The version-neutral face of a TPM, as Heads' tpmr offers it. Nothing here is specific
// to TPM 2.0: handles are "slots" (an NV index on 1.2, a persistent handle on 2.0),
// counters are numbers, secrets and passphrases are bytes.

export type Secret = string | Uint8Array;

export interface TpmInfo {
  version: "1.2" | "2.0";
  manufacturer: string;
  firmware: string;
  vendorString?: string;
}

export interface SealOptions {
  /** Where the secret lives: Heads' index (0x4d47 → 0x81004d47 on 2.0), or a full persistent handle. */
  handle: number;
  pcrs: number[];
  /** Values to bind to instead of the current ones (Heads' calcfuturepcr), by PCR index. */
  pcrValues?: Map<number, Uint8Array>;
  /** Needed on top of the PCRs to unseal. */
  passphrase?: Secret;
  /** Owner authorization, to make the object persistent. */
  ownerPassphrase?: Secret;
}

export interface UnsealOptions {
  handle: number;
  pcrs: number[];
  passphrase?: Secret;
  /**
   * The values the secret is believed to be sealed to (a PCR record, an event-log replay).
   * Only used to name the PCRs that moved when the TPM refuses; TPM 1.2 first checks them
   * against the digest in the sealed blob.
   */
  pcrValues?: Map<number, Uint8Array>;
}

/** What the TPM shows of a sealed secret without unsealing it. */
export interface SealedObject {
  /**
   * Whether its PCR binding is exactly these values: the TPM's own digest, which nobody can
   * forge values for, so a record of the values sealed to is believed only when this holds.
   */
  boundTo(pcrs: readonly number[], values: ReadonlyMap<number, Uint8Array>): boolean;
}

export interface CounterOptions {
  ownerPassphrase?: Secret;
}

export interface NvDefineOptions {
  ownerPassphrase?: Secret;
  /** The index's own authorization (empty by default). */
  auth?: Secret;
}

export interface ResetOptions {
  /** New owner (and endorsement) passphrase; it also becomes the lockout authorization. */
  ownerPassphrase: Secret;
  /**
   * The lockout authorization an earlier reset set (its owner passphrase). Only needed where
   * the firmware locked the platform hierarchy (SeaBIOS) and a reset already happened.
   */
  currentOwnerPassphrase?: Secret;
  /** Storage primary key type; Heads' default is rsa, its QEMU board uses ecc. */
  primaryKeyType?: "rsa" | "ecc";
}

/** The TPM's dictionary-attack protection, as TPM2_GetCapability reports it. */
export interface LockoutState {
  /** True while the TPM refuses authorizations of DA-protected objects. */
  inLockout: boolean;
  /** Authorization failures the TPM remembers now. */
  failures: number;
  /** Failures allowed before lockout. */
  maxTries: number;
  /** Seconds of powered-on time after which one failure is forgotten; 0: never by time. */
  recoveryTime: number;
  /** Seconds after a failed lockout authorization before the next try; 0: after the next boot. */
  lockoutRecovery: number;
}

export interface Tpm {
  readonly version: "1.2" | "2.0";
  /** 20 (SHA-1 on 1.2) or 32 (SHA-256 on 2.0). */
  readonly pcrSize: number;
  info(): Promise<TpmInfo>;
  pcrRead(indices: number[]): Promise<Map<number, Uint8Array>>;
  /** Extend H(data) (Heads' -ic / -if); returns the new PCR value. */
  extend(index: number, data: string | Uint8Array): Promise<Uint8Array>;
  /** Extend a digest computed elsewhere (a native sha256sum of a large file). */
  extendDigest(index: number, digest: Uint8Array): Promise<Uint8Array>;
  /** Seal `secret` to PCRs (+ passphrase) and store it at the handle, replacing what was there. */
  seal(secret: Uint8Array, options: SealOptions): Promise<void>;
  unseal(options: UnsealOptions): Promise<Uint8Array>;
  /** What is sealed at the handle; null when nothing is (never sealed, destroyed, wiped). */
  sealedObject(handle: number): Promise<SealedObject | null>;
  /** Remove a sealed secret. */
  destroy(handle: number, ownerPassphrase?: Secret): Promise<void>;
  counterCreate(options?: CounterOptions): Promise<number>;
  /**
   * A counter's value; it moves by one per increment. On 1.2 it is the whole TPM_COUNTER_VALUE
   * (tag, label, count) read as one 80-bit number, the 20 hex digits tpmtotp prints.
   */
  counterRead(id: number): Promise<bigint>;
  counterIncrement(id: number): Promise<bigint>;
  /**
   * The monotonic counters defined in the owner's NV range (Heads' rollback counters among
   * them). Defining or removing one takes owner authorization, so the list tells what the TPM's
   * owner did, whatever a disk says.
   */
  counters(): Promise<number[]>;
  /** Whether something is stored at the slot (a sealed secret, say), without touching it. */
  slotInUse(handle: number): Promise<boolean>;
  nvDefine(index: number, size: number, options?: NvDefineOptions): Promise<void>;
  nvRead(index: number, size?: number, auth?: Secret): Promise<Uint8Array>;
  nvWrite(index: number, data: Uint8Array, auth?: Secret): Promise<void>;
  nvUndefine(index: number, ownerPassphrase?: Secret): Promise<void>;
  /** Bytes defined at an NV index; null when nothing is defined there. */
  nvSize(index: number): Promise<number | null>;
  /** Clear the TPM and take ownership as Heads does (SRK at 0x81000000, DA parameters, random lockout auth). */
  reset(options: ResetOptions): Promise<void>;
  /** Before kexec: flush what we loaded and lock the platform hierarchy so the OS cannot clear the TPM. */
  finalize(): Promise<void>;
  /** Dictionary-attack state; absent where the TPM does not report it in a standard way (1.2). */
  lockoutState?(): Promise<LockoutState>;
  /** Orderly shutdown (power off / reboot), so the TPM does not count a dictionary-attack event. */
  shutdown(): Promise<void>;
  close(): void;
}

/** Heads' defaults. */
export const TOTP_HANDLE = 0x4d47;
export const TOTP_PCRS = [0, 1, 2, 3, 4, 7];
export const DISK_KEY_HANDLE = 0x3;
export const DISK_KEY_PCRS = [0, 1, 2, 3, 4, 5, 6, 7];
export const SRK_HANDLE = 0x81000000;
