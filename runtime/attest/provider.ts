// The TOTP/HOTP side of the status header and the main menu, over the TPM. Every status()
// unseals afresh and zeroes the secret before returning: nothing stays in memory for a
// recovery shell to read, and once PCR 4 moves (recovery shell, forced boot) the next
// status() fails as it must.
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import type { Integrity, TotpStatus } from "../../ui/prompt.ts";
import { totpCode } from "./otp.ts";
import { verifyWithDongle } from "./hotp.ts";
import type { Dongle } from "./hotp/dongle.ts";
import { unsealTotp, type TotpFailure } from "./unseal.ts";

export type UnsealFailure = TotpFailure["failure"];

/** The words the header and the main menu show for a missing secret (as Heads' "not configured"). */
export const NO_SECRET = "not configured";

type Outcome = { kind: "ok"; source: "main" | "pending" } | UnsealFailure;

export interface TpmAttestationOptions {
  /** The HOTP dongle, when the board has one configured. */
  dongle?: Dongle;
  /** Runs a change to /boot (the HOTP counter file) with /boot mounted and writable. */
  writableBoot?: <T>(change: () => Promise<T>) => Promise<T>;
}

/** A short reason for the header: which PCR moved, or that the TPM refused. */
export function failureWords(f: UnsealFailure): string {
  if (f.kind === "absent") return NO_SECRET;
  if (f.kind === "pcr" && f.pcrs.length > 0) return `unseal failed: PCR ${f.pcrs.join(", ")} changed`;
  return "unseal failed";
}

export class TpmAttestation {
  private outcome: Outcome | null = null;

  constructor(
    private readonly tpm: Tpm,
    private readonly sys: Sys,
    private readonly options: TpmAttestationOptions = {},
  ) {}

  async status(): Promise<TotpStatus> {
    const r = await unsealTotp(this.tpm, this.sys);
    if ("failure" in r) {
      this.outcome = r.failure;
      return { error: failureWords(r.failure) };
    }
    try {
      const c = totpCode(r.secret, this.sys.now());
      this.outcome = { kind: "ok", source: r.source };
      return { code: c.code, expiresAt: c.expiresAt };
    } finally {
      r.secret.fill(0);
    }
  }

  /** Sends the next HOTP code to the dongle (the counter file moves on by one); null without a dongle. */
  async hotp(): Promise<string | null> {
    const dongle = this.options.dongle;
    if (!dongle) return null;
    const r = await unsealTotp(this.tpm, this.sys);
    if ("failure" in r) return r.failure.kind === "absent" ? NO_SECRET : "no code: the secret did not unseal";
    try {
      const check = () => verifyWithDongle(r.secret, dongle, this.sys);
      return (await (this.options.writableBoot ? this.options.writableBoot(check) : check())).result;
    } finally {
      r.secret.fill(0);
    }
  }

  integrity(): { integrity: Integrity; reason: string } {
    const o = this.outcome;
    if (!o) return { integrity: "unknown", reason: "TOTP not checked yet" };
    if (o.kind === "ok") return { integrity: "ok", reason: o.source === "pending" ? "TOTP unsealed; finish the interrupted reseal" : "TOTP unsealed" };
    if (o.kind === "absent") return { integrity: "unknown", reason: "no TOTP secret" };
    return { integrity: "tampered", reason: failureWords(o) };
  }

  failure(): UnsealFailure | null {
    const o = this.outcome;
    return o && o.kind !== "ok" && o.kind !== "absent" ? o : null;
  }
}
