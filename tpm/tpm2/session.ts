// Authorization sessions (Part 1, 19): a password, or an HMAC/policy session whose key
// and nonces live here. Salting, parameter encryption and HMACs are computed by exec.ts
// from what these objects hold.
import { concat } from "../../lib/bytes.ts";

export interface PasswordAuth {
  kind: "password";
  password: Uint8Array;
}

export class Session {
  open = true;
  /** Set once TPM2_PolicyAuthValue ran: the object's authValue is then part of the HMAC key. */
  authValueNeeded = false;
  /** Set once TPM2_PolicyPassword ran: the authValue is sent in clear in the HMAC field. */
  passwordNeeded = false;
  /** The authValue of the entity this session authorizes in the next command. */
  authValue: Uint8Array = new Uint8Array(0);

  constructor(
    readonly handle: number,
    readonly kind: "hmac" | "policy" | "trial",
    readonly sessionKey: Uint8Array,
    public nonceCaller: Uint8Array,
    public nonceTpm: Uint8Array,
    /** TPMA_SESSION bits to send (continueSession, decrypt, encrypt). */
    public attributes: number,
  ) {}

  /** Key for this session's HMACs and parameter encryption (sessionKey ‖ authValue where the spec includes it). */
  hmacKey(): Uint8Array {
    const includeAuth = this.kind === "hmac" || this.authValueNeeded;
    return includeAuth ? concat(this.sessionKey, this.authValue) : this.sessionKey;
  }

  wipe(): void {
    this.sessionKey.fill(0);
    this.authValue.fill(0);
  }
}

export type Auth = PasswordAuth | Session;

export function password(p: Uint8Array = new Uint8Array(0)): PasswordAuth {
  return { kind: "password", password: p };
}
