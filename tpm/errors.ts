// Every failure the TPM library can produce is a TpmError subclass, so callers (and the
// fuzz tests) can tell "the TPM or its answer said no" from a bug.
import type { LockoutState } from "./face.ts";

export class TpmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TpmError";
  }
}

/** A response (or event log) that does not parse: truncated, oversized, inconsistent. */
export class TpmFormatError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "TpmFormatError";
  }
}

/** The transport failed: device missing, connection closed, no answer. */
export class TpmTransportError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "TpmTransportError";
  }
}

/** The TPM answered with a non-success response code. */
export class TpmResponseError extends TpmError {
  constructor(
    readonly command: string,
    readonly rc: number,
    /** Spec name of the code, e.g. TPM_RC_POLICY_FAIL. */
    readonly rcName: string,
    readonly sentence: string,
  ) {
    super(`${command} failed: ${rcName} (0x${rc.toString(16)}): ${sentence}`);
    this.name = "TpmResponseError";
  }
}

/** The TPM refused to release a sealed secret because its PCR or passphrase policy did not hold. */
export class TpmPolicyError extends TpmError {
  constructor(
    message: string,
    readonly cause_: TpmResponseError,
    readonly reason: "pcr" | "passphrase" | "policy",
    /** The PCRs known to differ from the sealed values (empty when the TPM cannot say which). */
    readonly pcrs: number[] = [],
  ) {
    super(message);
    this.name = "TpmPolicyError";
  }
}

/** A response HMAC did not verify: the answer was altered or came from another TPM. */
export class TpmIntegrityError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "TpmIntegrityError";
  }
}

export class TpmNotSupportedError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "TpmNotSupportedError";
  }
}

/** A caller asked for something impossible (PCR 99, a 5000-byte secret). */
export class TpmArgumentError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "TpmArgumentError";
  }
}

/** Clearing needs the lockout authorization (the current owner passphrase): the platform hierarchy is locked. */
export class TpmClearAuthError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "TpmClearAuthError";
  }
}

/** The TPM owner passphrase was not accepted (TPM 1.2 TPM_AUTHFAIL on an owner-authorized command). */
export class TpmOwnerAuthError extends TpmError {
  constructor(
    message: string,
    readonly cause_: TpmResponseError,
  ) {
    super(message);
    this.name = "TpmOwnerAuthError";
  }
}

/** The TPM is switched off in a way the firmware or physical presence must undo (TPM 1.2 disabled or deactivated). */
export class TpmDisabledError extends TpmError {
  constructor(
    message: string,
    readonly state: "disabled" | "deactivated",
  ) {
    super(message);
    this.name = "TpmDisabledError";
  }
}

/** The TPM has no room left for another NV area (TPM 1.2 TPM_NOSPACE). */
export class TpmNvSpaceError extends TpmError {
  constructor(
    message: string,
    readonly cause_: TpmResponseError,
  ) {
    super(message);
    this.name = "TpmNvSpaceError";
  }
}

/** The storage root key does not take the well-known authorization Heads seals with (TPM 1.2). */
export class TpmSrkAuthError extends TpmError {
  constructor(
    message: string,
    readonly cause_: TpmResponseError,
  ) {
    super(message);
    this.name = "TpmSrkAuthError";
  }
}

/**
 * The TPM is in dictionary-attack lockout: it refuses authorizations of DA-protected objects
 * (a passphrase-protected secret, an NV index without noDA) until enough failures are
 * forgotten. The message says how long that takes at most; the state is null when the TPM
 * could not be asked.
 */
export class TpmLockoutError extends TpmError {
  constructor(
    readonly state: LockoutState | null,
    readonly cause_: TpmResponseError,
  ) {
    super(lockoutSentence(state));
    this.name = "TpmLockoutError";
  }

  /** Seconds of powered-on time until the TPM accepts authorizations again, at most; null: not by waiting, or unknown. */
  get secondsLeft(): number | null {
    return lockoutSecondsLeft(this.state);
  }
}

function lockoutSecondsLeft(s: LockoutState | null): number | null {
  if (!s || s.recoveryTime === 0) return null;
  // One failure is forgotten per recoveryTime; below maxTries the TPM accepts again. The
  // interval already running when we ask is not reported, hence "at most".
  return Math.max(1, s.failures - s.maxTries + 1) * s.recoveryTime;
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} hours`;
}

function lockoutSentence(s: LockoutState | null): string {
  if (!s) return "the TPM is in dictionary-attack lockout (too many failed passphrases) and did not say for how long: leave the machine on and try again later, or reset the TPM";
  const head = `the TPM is in dictionary-attack lockout after ${s.failures} failed authorizations (${s.maxTries} allowed)`;
  const left = lockoutSecondsLeft(s);
  if (left === null) return `${head}: it forgets no failure by itself; only a reset of the lockout or a TPM clear ends it`;
  return `${head}: it accepts passphrases again in at most ${formatDuration(left)} of powered-on time (one failure is forgotten every ${formatDuration(s.recoveryTime)})`;
}
