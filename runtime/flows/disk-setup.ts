// The disk unlock key setup screens (Heads' kexec-save-default "Do you wish to add a disk
// encryption key to the TPM?" and kexec-seal-key's questions): choose the LUKS volumes, the
// recovery passphrase (3 tries), the key's passphrase (12 to 32 bytes, typed twice), a
// yes/no for each occupied slot Heads asks about. The transaction is disk/setup.ts; the lists
// it returns are signed into /boot by the caller, in the same switch as the rest of /boot.
import type { MenuItem } from "../../ui/prompt.ts";
import { TpmError } from "../../tpm/index.ts";
import { luksDevices, LuksError } from "../platform/luks.ts";
import { activateVolumeGroup, LvmError, volumeGroups } from "../platform/lvm.ts";
import { DISK_KEY_PASSPHRASE_MIN } from "../disk/key.ts";
import { KEY_DEVICES_FILE } from "../disk/config.ts";
import { initrdCrypttabOverrides, KeyInitrdError, type CrypttabOverride } from "../disk/key-initrd.ts";
import { OsInitrdError } from "../disk/os-initrd.ts";
import { DiskSetupError, OccupiedSlotsError, planSetup, setUpDiskKey, type DiskSetup, type DiskSetupResult } from "../disk/setup.ts";
import { SECRET_DIR, wipeSecretDir } from "../platform/secrets.ts";
import { describeError } from "../errors.ts";
import { SysError } from "../host/sys.ts";
import type { FlowContext } from "./context.ts";
import { askNewPassphrase } from "./new-passphrase.ts";

export const DISK_SETUP_TITLE = "Disk unlock key setup";
const TRIES = 3;

const nothing = "Nothing was changed on the disks or in the TPM.";

/**
 * From "Update checksums and sign": with a new default entry, Heads' question; when /boot
 * already has a disk key set up, the offer to reseal it (a kernel or firmware update moved
 * PCRs, a header changed). The existing list only chooses the question (an unsigned file may
 * change a message, never a default). undefined: nothing to add; null: stopped.
 */
export async function offerDiskKey(ctx: FlowContext, bootDir: string, newDefault: boolean, osInitrd: string | null): Promise<DiskSetupResult | undefined | null> {
  const configured = ctx.sys.stat(`${bootDir}/${KEY_DEVICES_FILE}`)?.kind === "file";
  if (!configured && !newDefault) return undefined;
  const text = configured
    ? "/boot has a disk unlock key set up. Reseal it now, for this firmware, these kernel modules and the disks' current LUKS headers? (A new key replaces the old one; the recovery passphrase is needed.)"
    : "Do you wish to add a disk encryption key to the TPM? It opens the LUKS volumes at Default boot after its passphrase is typed.";
  if (!(await ctx.ui.prompt.confirm({ title: DISK_SETUP_TITLE, text }))) return undefined;
  return diskKeySetupFlow(ctx, osInitrd);
}

/**
 * The lists to sign, or null when the owner stopped or the setup failed (the screen said why).
 * `osInitrd`: the default entry's initrd, whose crypttab the overrides follow.
 */
export async function diskKeySetupFlow(ctx: FlowContext, osInitrd: string | null): Promise<DiskSetupResult | null> {
  const prompt = ctx.ui.prompt;
  const stop = async (text: string) => {
    await prompt.message({ title: DISK_SETUP_TITLE, text, tone: "error" });
    return null;
  };
  if (!ctx.tpm) return stop(`There is no TPM to seal the disk unlock key in (${ctx.tpmError ?? "none was opened"}). ${nothing}`);
  const tpm = ctx.tpm;
  // The group first, as Heads asks it: LUKS volumes on logical volumes exist only once it is active.
  const volumeGroup = await chooseVolumeGroup(ctx);
  if (volumeGroup === null) return null;
  if (volumeGroup !== "") {
    try {
      await activateVolumeGroup(ctx.sys, volumeGroup);
    } catch (error) {
      if (!(error instanceof LvmError)) throw error;
      return stop(`${error.message}. ${nothing}`);
    }
  }
  const devices = await chooseDevices(ctx);
  if (devices === null) return null;
  if (devices.length === 0) return stop(`No LUKS volume was found${volumeGroup === "" ? "" : ` (volume group ${volumeGroup} is active)`}. Connect the disk and try again. ${nothing}`);
  const overrides = await readOverrides(ctx, osInitrd);
  if (overrides === null) return null;
  const setup: DiskSetup = { devices, recovery: new Uint8Array(0), passphrase: new Uint8Array(0), secretDir: SECRET_DIR, overrides, ...(volumeGroup === "" ? {} : { volumeGroup }) };
  let owner: Uint8Array | null = null;
  try {
    for (let attempt = 1; ; attempt++) {
      const recovery = await prompt.password({ title: DISK_SETUP_TITLE, label: `Disk recovery passphrase of ${devices.join(", ")} (try ${attempt} of ${TRIES})` });
      if (recovery === null) return null;
      setup.recovery = recovery;
      try {
        await planSetup(ctx.sys, { ...setup, passphrase: new Uint8Array(DISK_KEY_PASSPHRASE_MIN), wipe: [] });
        break;
      } catch (error) {
        if (!(error instanceof DiskSetupError || error instanceof LuksError || error instanceof LvmError)) throw error;
        recovery.fill(0);
        if (!/recovery passphrase opens no key slot/.test(error.message) || attempt === TRIES) return stop(`${describeError(error)}${attempt === TRIES ? ` The recovery passphrase was refused ${TRIES} times.` : ""}`);
        await prompt.message({ title: DISK_SETUP_TITLE, text: `${error.message} Try again.`, tone: "warning" });
      }
    }
    // At most 32 bytes: a TPM 2.0 object's authValue is no longer than its SHA-256 name hash.
    const passphrase = await askNewPassphrase(prompt, {
      title: DISK_SETUP_TITLE,
      what: "disk unlock key passphrase",
      min: DISK_KEY_PASSPHRASE_MIN,
      max: 32,
      validate: (v) => (v.length >= DISK_KEY_PASSPHRASE_MIN && v.length <= 32 ? null : `The disk unlock key passphrase has ${DISK_KEY_PASSPHRASE_MIN} to 32 bytes.`),
    });
    if (passphrase === null) return null;
    setup.passphrase = passphrase;
    owner = await prompt.password({ title: DISK_SETUP_TITLE, label: "TPM owner passphrase (set at Reset the TPM; empty if it has none)" });
    if (owner === null) return null;
    const ownerPassphrase = owner;
    for (;;) {
      const progress = prompt.progress("Adding the key to the disks and sealing it");
      try {
        return await setUpDiskKey(ctx.sys, tpm, setup, ownerPassphrase.length > 0 ? { ownerPassphrase } : {});
      } catch (error) {
        if (error instanceof OccupiedSlotsError) {
          progress.done();
          setup.wipe = [];
          for (const s of error.slots) {
            const wipe = await prompt.confirm({ title: DISK_SETUP_TITLE, text: `Key slot ${s.slot} of ${s.device} holds a key that is neither the recovery passphrase nor a disk unlock key. Empty it? Whoever uses it will no longer open the disk. Answering no keeps it.` });
            if (wipe) setup.wipe.push(s);
          }
          continue;
        }
        if (!(error instanceof DiskSetupError || error instanceof LuksError || error instanceof LvmError || error instanceof TpmError)) throw error;
        return stop(`${describeError(error)}\n\nThe disks' recovery passphrase still opens them. Fix the cause and set the key up again.`);
      } finally {
        progress.done();
      }
    }
  } finally {
    setup.recovery.fill(0);
    setup.passphrase.fill(0);
    owner?.fill(0);
    wipeSecretDir(ctx.sys);
  }
}

/**
 * The crypttab overrides from the default entry's initrd, before anything changes; when it
 * cannot be read the owner decides whether Heads' generic lines will do (they name each volume
 * luks-<UUID>, which an OS whose root= names its own mapping will not find). null: stopped.
 */
async function readOverrides(ctx: FlowContext, osInitrd: string | null): Promise<CrypttabOverride[] | null> {
  if (osInitrd === null) return [];
  const progress = ctx.ui.prompt.progress("Reading the crypttab of the default entry's initrd");
  let problem: string;
  try {
    return await initrdCrypttabOverrides(ctx.sys, osInitrd);
  } catch (error) {
    if (!(error instanceof OsInitrdError || error instanceof KeyInitrdError || error instanceof SysError)) throw error;
    problem = describeError(error);
  } finally {
    progress.done();
  }
  const go = await ctx.ui.prompt.confirm({
    title: DISK_SETUP_TITLE,
    text: `${problem}\n\nContinue with generic crypttab lines (each volume opened as luks-<UUID>)? The OS may then not find its root volume under the name it expects, and ask for the recovery passphrase.`,
  });
  return go ? [] : null;
}

async function chooseDevices(ctx: FlowContext): Promise<string[] | null> {
  let found: string[];
  try {
    found = await luksDevices(ctx.sys);
  } catch (error) {
    if (!(error instanceof LuksError || error instanceof SysError)) throw error;
    await ctx.ui.prompt.message({ title: DISK_SETUP_TITLE, text: `${error.message}. ${nothing}`, tone: "error" });
    return null;
  }
  if (found.length <= 1) return found;
  const items: MenuItem<string[]>[] = [{ key: "a", label: `All: ${found.join(" ")}`, value: found }];
  found.slice(0, 9).forEach((d, i) => items.push({ key: String(i + 1), label: d, value: [d] }));
  const chosen = await ctx.ui.prompt.menu({ title: DISK_SETUP_TITLE, text: "Which LUKS volumes should the disk unlock key open?", items, allowBack: true });
  return chosen === "back" ? null : chosen;
}

/** "" for none: the volume group whose logical volumes hold the LUKS volumes, as Heads' vgscan suggestion. */
async function chooseVolumeGroup(ctx: FlowContext): Promise<string | null> {
  let groups: string[];
  try {
    groups = await volumeGroups(ctx.sys);
  } catch (error) {
    // No lvm tool, or it failed: the volumes are not on LVM as far as this firmware can tell.
    if (!(error instanceof LvmError || error instanceof SysError)) throw error;
    return "";
  }
  if (groups.length === 0) return "";
  const items: MenuItem<string>[] = [{ key: "n", label: "None: the LUKS volumes are partitions", value: "" }];
  groups.slice(0, 9).forEach((g, i) => items.push({ key: String(i + 1), label: `Volume group ${g}`, value: g }));
  const chosen = await ctx.ui.prompt.menu({ title: DISK_SETUP_TITLE, text: "Are the LUKS volumes logical volumes of an LVM volume group?", items, allowBack: true });
  return chosen === "back" ? null : chosen;
}
