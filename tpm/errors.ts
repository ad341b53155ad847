// Every failure the TPM library can produce is a TpmError subclass, so callers (and the
// fuzz tests) can tell "the TPM or its answer said no" from a bug.

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

/** The TPM refuses authorizations for a while after too many wrong ones (TPM 1.2 TPM_DEFEND_LOCK_RUNNING). */
export class TpmLockoutError extends TpmError {
  constructor(
    message: string,
    readonly cause_: TpmResponseError,
  ) {
    super(message);
    this.name = "TpmLockoutError";
  }
}
