// The TOTP/HOTP provider the flows use (runtime/attest/provider.ts with the board's dongle),
// and the note a flow leaves when it changed what the provider will find.
import type { Tpm } from "../../tpm/index.ts";
import type { Sys } from "../host/sys.ts";
import type { Config } from "../config/parse.ts";
import { TpmAttestation } from "../attest/provider.ts";
import { HotpVerificationDongle, type Dongle } from "../attest/hotp/dongle.ts";
import type { FlowContext } from "./context.ts";
import { mountBoot, withWritableBoot } from "../platform/boot-device.ts";

/** The board's HOTP dongle: Heads' CONFIG_HOTPKEY=y boards run hotp_verification. */
export function boardDongle(sys: Sys, config: Config): Dongle | undefined {
  return config.CONFIG_HOTPKEY === "y" ? new HotpVerificationDongle(sys) : undefined;
}

/** Runs `change` with /boot mounted (on the firmware, read-only until now) and writable. */
export async function onWritableBoot<T>(sys: Sys, config: Config, firmware: boolean, change: () => Promise<T>): Promise<T> {
  await mountBoot(sys, config, firmware);
  return withWritableBoot(sys, firmware, change);
}

export function createAttestation(tpm: Tpm, sys: Sys, config: Config, firmware: boolean): TpmAttestation {
  return new TpmAttestation(tpm, sys, { dongle: boardDongle(sys, config), writableBoot: (change) => onWritableBoot(sys, config, firmware, change) });
}

const changed = new WeakSet<FlowContext>();

/** A flow sealed a new secret or reset the TPM: the main menu reads the attestation again. */
export function markAttestationChanged(ctx: FlowContext): void {
  changed.add(ctx);
}

/** True once after a change, so the main menu refreshes exactly once. */
export function takeAttestationChange(ctx: FlowContext): boolean {
  return changed.delete(ctx);
}
