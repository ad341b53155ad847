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
