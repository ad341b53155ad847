// The disk unlock key at boot (Heads' kexec-insert-key + kexec-unseal-key): when the signed
// /boot configures one, the headers are measured and checked first, then the passphrase is
// asked (3 tries) while the header keeps showing the TOTP code, and the key goes into the OS
// initrd. When the TPM will not release it, the screen says why and offers to boot anyway
// with the disk recovery passphrase, which the OS then asks for.
import type { VerifiedBoot } from "../boot/index.ts";
import { TpmError, type Tpm } from "../../tpm/index.ts";
import { diskKeyConfig, DiskKeyConfigError } from "../disk/config.ts";
import { DiskHeadersChangedError, keyedInitrd, measureKeyDevices } from "../disk/insert.ts";
import { DiskKeyUnsealError, unsealDiskKey } from "../disk/key.ts";
import { LuksError } from "../platform/luks.ts";
import { activateVolumeGroup, LvmError } from "../platform/lvm.ts";
import { describeError } from "../errors.ts";
import type { FlowContext } from "./context.ts";
import { SECRET_DIR } from "../platform/secrets.ts";

export const DISK_KEY_TITLE = "Disk unlock key";
const TRIES = 3;

/** What the boot does about the disk key: nothing configured, boot with it, boot without it (the OS asks), or stop. */
export type DiskKeyDecision = { kind: "none" } | { kind: "key"; insertKey: (verifiedInitrd: string) => Promise<string>; forget: () => void } | { kind: "recovery" } | { kind: "stop" };

export async function diskKeyForBoot(ctx: FlowContext, v: VerifiedBoot): Promise<DiskKeyDecision> {
  const prompt = ctx.ui.prompt;
  let config;
  try {
    config = diskKeyConfig(v);
  } catch (error) {
    if (!(error instanceof DiskKeyConfigError)) throw error;
    await prompt.message({ title: DISK_KEY_TITLE, text: `${error.message}\n\nNothing was booted.`, tone: "error" });
    return { kind: "stop" };
  }
  if (!config) return { kind: "none" };
  if (!ctx.tpm) return offerRecovery(ctx, `There is no TPM to release the disk unlock key (${ctx.tpmError ?? "none was opened"}).`);
  try {
    // As Heads' kexec-insert-key: the devices are logical volumes of this group, so it is activated before their headers are read; the OS initrd unlocks and activates on its own.
    if (config.volumeGroup !== null) await activateVolumeGroup(ctx.sys, config.volumeGroup);
    const checked = await measureKeyDevices(ctx.sys, ctx.tpm, config, SECRET_DIR);
    if (!checked) await prompt.message({ title: DISK_KEY_TITLE, text: "/boot holds no signed copy of the LUKS headers, so whether they changed cannot be checked. Set the disk unlock key up again (choose a new default boot entry) to enable the check.", tone: "warning" });
  } catch (error) {
    // The key stays sealed; booting without it is as safe as any boot that asks the OS for the recovery passphrase.
    if (error instanceof DiskHeadersChangedError) return offerRecovery(ctx, error.message);
    // Without the group (no lvm tool, or it failed) the headers cannot be checked, so the key stays sealed; the OS initrd activates LVM itself and asks.
    if (error instanceof LvmError) return offerRecovery(ctx, `${describeError(error)}. The disk unlock key stays sealed.`);
    if (!(error instanceof LuksError)) throw error;
    await prompt.message({ title: DISK_KEY_TITLE, text: `${describeError(error)}\n\nNothing was booted.`, tone: "error" });
    return { kind: "stop" };
  }
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    const passphrase = await prompt.password({ title: DISK_KEY_TITLE, label: `Disk unlock key passphrase (try ${attempt} of ${TRIES}; Escape boots with the recovery passphrase instead)` });
    if (passphrase === null) return offerRecovery(ctx, "No disk unlock key passphrase was given.");
    try {
      const key = await unsealDiskKey(ctx.tpm, ctx.sys, passphrase);
      return { kind: "key", insertKey: (initrd) => keyedInitrd(ctx.sys, initrd, SECRET_DIR, key, config), forget: () => void key.fill(0) };
    } catch (error) {
      if (!(error instanceof DiskKeyUnsealError)) throw error;
      if (error.failure.kind !== "passphrase") return offerRecovery(ctx, error.message);
      await prompt.message({ title: DISK_KEY_TITLE, text: `Wrong passphrase.${attempt < TRIES ? " Try again." : ""} ${await lockoutCount(ctx.tpm)}`, tone: "warning" });
    } finally {
      passphrase.fill(0);
    }
  }
  return offerRecovery(ctx, `The disk unlock key passphrase was wrong ${TRIES} times.`);
}

/** What the wrong passphrase cost: the TPM's own count when it can say (TPM 2.0), else the rule. */
async function lockoutCount(tpm: Tpm): Promise<string> {
  const state = tpm.lockoutState ? await tpm.lockoutState().catch((e: unknown) => {
    if (e instanceof TpmError) return null;
    throw e;
  }) : null;
  if (state === null || state.maxTries === 0) return "Each wrong passphrase counts toward the TPM's dictionary-attack lockout.";
  return `The TPM has now counted ${state.failures} failed authorizations; it locks out at ${state.maxTries}.`;
}

async function offerRecovery(ctx: FlowContext, why: string): Promise<DiskKeyDecision> {
  const yes = await ctx.ui.prompt.confirm({ title: DISK_KEY_TITLE, text: `${why}\n\nBoot anyway and type the disk recovery passphrase when the OS asks for it?` });
  return yes ? { kind: "recovery" } : { kind: "stop" };
}
