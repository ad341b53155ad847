// The TOTP/HOTP secret at boot: sealing/'s unseal of Heads' 0x4d47, in the words the header
// and the failure menu use.
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import { TOTP_SECRET } from "./constants.ts";
import { unsealSecret, type Unsealed, type UnsealFailure, type UnsealSecretOptions } from "../sealing/unseal.ts";

export type TotpFailure = UnsealFailure;

export async function unsealTotp(tpm: Tpm, sys: Sys, options: UnsealSecretOptions = {}): Promise<Unsealed | UnsealFailure> {
  const r = await unsealSecret(tpm, sys, TOTP_SECRET, options);
  if ("failure" in r && r.failure.kind === "absent") r.failure.explanation = ["No TOTP/HOTP secret is sealed in this TPM: generate one (TPM/TOTP/HOTP options)."];
  return r;
}
