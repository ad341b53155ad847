// Setting the disk unlock key up, in Heads' kexec-seal-key.sh order, as one transaction the
// screens and `bootward disk seal` share: activate the volume group holding the devices, find
// each device's recovery slot with the recovery passphrase, empty the slots the new key needs
// (asking first for any slot Heads asks about), add a fresh 128-byte key to the last slot,
// then seal it through sealing/ (so a power cut never leaves the TPM without a key) to the PCR
// values of the next boot, PCR 6 predicted from the headers as they now are. The slots must
// change before the seal, since PCR 6 is predicted from the final headers: a cut between the
// two leaves a sealed key the disks no longer take, and the recovery passphrase as the way in.
//
// Slots: the key's own slot (31 on LUKS2, 7 on LUKS1) and Heads' legacy key slot 1 are
// emptied without asking, as Heads does; any other occupied slot is a question to the owner
// (Heads: "Wipe key slot N on DEV? [y/N]"), raised as OccupiedSlotsError before anything is
// changed, and answered by passing those slots back in `wipe`. A slot not confirmed is kept.
import type { Sys } from "../host/sys.ts";
import { describeError } from "../errors.ts";
import type { Tpm } from "../../tpm/index.ts";
import { measurement, predictPcr } from "../../tpm/index.ts";
import { addKey, killSlot, luksInfo, LuksError, testPassphrase, type LuksInfo } from "../platform/luks.ts";
import { activateVolumeGroup } from "../platform/lvm.ts";
import { reseal, type ResealOptions, type ResealResult } from "../sealing/seal.ts";
import { firmwarePcr, pcrHashOf, readEventLog } from "../sealing/eventlog.ts";
import { luksHeaderText } from "./headers.ts";
import { LUKS_HEADER_PCR } from "../measure/pcr-roles.ts";
import { CRYPTTAB_OVERRIDES_FILE, formatKeyDevices, HEADER_HASH_FILE, KEY_DEVICES_FILE, KEY_LVM_FILE } from "./config.ts";
import { formatOverrides, type CrypttabOverride, type KeyDevice } from "./key-initrd.ts";
import { DISK_KEY_BYTES, DISK_KEY_PASSPHRASE_MIN, DISK_KEY_SLOT, diskKeySecret, LEGACY_DISK_KEY_SLOT } from "./key.ts";

/**
 * Seals (or replaces) the key to this boot's PCRs, PCR 4 as the firmware leaves it and PCR 6
 * as it will be once `headers` (the luksDump.txt text) are measured into it: from the value the
 * firmware leaves there (its event log's, as for PCR 4; zero on coreboot, a separator on
 * SeaBIOS), not from the PCR now, which a header measurement this boot may already have moved.
 */
export async function sealDiskKey(tpm: Tpm, sys: Sys, key: Uint8Array, passphrase: Uint8Array, headers: string, options: ResealOptions = {}): Promise<ResealResult> {
  const hash = pcrHashOf(tpm.pcrSize);
  const log = options.log !== undefined ? options.log : readEventLog(sys).log;
  const pcr6 = predictPcr(hash, [measurement(hash, new TextEncoder().encode(headers))], firmwarePcr(log, hash, LUKS_HEADER_PCR));
  return reseal(tpm, sys, diskKeySecret(passphrase), key, { ...options, log, nextBoot: new Map([[LUKS_HEADER_PCR, pcr6]]) });
}

export class DiskSetupError extends Error {
  override readonly name = "DiskSetupError";
}

/** A slot the new key does not need but Heads asks about: the setup stopped before changing anything. */
export interface OccupiedSlot {
  device: string;
  slot: number;
}

export class OccupiedSlotsError extends Error {
  override readonly name = "OccupiedSlotsError";
  constructor(readonly slots: OccupiedSlot[]) {
    super(`${slots.map((s) => `key slot ${s.slot} of ${s.device}`).join(", ")} ${slots.length === 1 ? "holds" : "hold"} a key that is neither the recovery passphrase nor a disk unlock key; nothing was changed. Confirm that ${slots.length === 1 ? "it" : "they"} may be emptied, or keep ${slots.length === 1 ? "it" : "them"} and set up again.`);
  }
}

export interface DiskSetup {
  devices: string[];
  /** The volume group whose logical volumes are `devices` (kexec_key_lvm.txt), activated first. */
  volumeGroup?: string;
  /** The disk recovery passphrase: opens a slot of every device. */
  recovery: Uint8Array;
  /** The disk unlock key passphrase (at least 12 characters). */
  passphrase: Uint8Array;
  /** Occupied slots the owner agreed to empty (from an OccupiedSlotsError); others are kept. */
  wipe?: OccupiedSlot[];
  /** /tmp/secret: the key file and header backups live there and are removed after. */
  secretDir: string;
  /** The default entry's OS initrd crypttab lines pointed at the key (initrdCrypttabOverrides); none: Heads' generic lines at boot. */
  overrides?: CrypttabOverride[];
}

export interface DiskSetupResult {
  devices: KeyDevice[];
  /** The /boot lists to sign: kexec_key_devices.txt, kexec_lukshdr_hash.txt, kexec_key_lvm.txt, kexec_initrd_crypttab_overrides.txt; null: a stale one to remove. */
  lists: Map<string, Uint8Array | null>;
  sealed: ResealResult;
}

interface Plan {
  device: string;
  info: LuksInfo;
  recoverySlot: number;
  keySlot: number;
  empty: number[];
}

/** The recovery slot of each device and the slots to empty; throws before any change when a device refuses the passphrase or a question is open. */
export async function planSetup(sys: Sys, setup: DiskSetup): Promise<Plan[]> {
  if (setup.passphrase.length < DISK_KEY_PASSPHRASE_MIN) throw new DiskSetupError(`The disk unlock key passphrase needs at least ${DISK_KEY_PASSPHRASE_MIN} characters.`);
  if (setup.devices.length === 0) throw new DiskSetupError("No LUKS device was chosen for the disk unlock key.");
  if (setup.volumeGroup !== undefined) await activateVolumeGroup(sys, setup.volumeGroup);
  const plans: Plan[] = [];
  const open: OccupiedSlot[] = [];
  for (const device of setup.devices) {
    const info = await luksInfo(sys, device);
    const keySlot = DISK_KEY_SLOT[info.version];
    let recoverySlot: number | undefined;
    for (const s of info.slots) if (recoverySlot === undefined && (await testPassphrase(sys, device, setup.recovery, s))) recoverySlot = s;
    if (recoverySlot === undefined) throw new DiskSetupError(`The disk recovery passphrase opens no key slot of ${device}. Nothing was changed; check the passphrase and try again.`);
    if (recoverySlot === keySlot) throw new DiskSetupError(`The recovery passphrase of ${device} is in slot ${keySlot}, which the disk unlock key takes. Nothing was changed; move the recovery passphrase to another slot first.`);
    const empty: number[] = [];
    for (const s of info.slots) {
      if (s === recoverySlot) continue;
      if (s === keySlot || s === LEGACY_DISK_KEY_SLOT || setup.wipe?.some((w) => w.device === device && w.slot === s)) empty.push(s);
      else open.push({ device, slot: s });
    }
    plans.push({ device, info, recoverySlot, keySlot, empty });
  }
  if (open.length > 0 && setup.wipe === undefined) throw new OccupiedSlotsError(open);
  return plans;
}

/**
 * The whole setup; the caller signs `lists` into /boot (the key is useless at boot until it
 * does). The key lives in memory and, for cryptsetup, in a file under secretDir wiped after.
 */
export async function setUpDiskKey(sys: Sys, tpm: Tpm, setup: DiskSetup, options: ResealOptions = {}): Promise<DiskSetupResult> {
  const plans = await planSetup(sys, setup);
  const key = sys.randomBytes(DISK_KEY_BYTES);
  const keyFile = `${setup.secretDir}/secret.key`;
  sys.writeFile(keyFile, key, 0o400);
  const changed: string[] = [];
  try {
    for (const p of plans) {
      changed.push(p.device);
      for (const s of p.empty) await killSlot(sys, p.device, setup.recovery, s);
      await addKey(sys, p.device, setup.recovery, keyFile, p.keySlot);
      if (!(await testPassphrase(sys, p.device, key, p.keySlot))) throw new LuksError(`the new key does not open slot ${p.keySlot} of ${p.device}`);
    }
    const headers = await luksHeaderText(sys, setup.devices, setup.secretDir);
    const sealed = await sealDiskKey(tpm, sys, key, setup.passphrase, headers, options);
    const devices = plans.map((p) => ({ device: p.device, uuid: p.info.uuid }));
    const enc = (t: string) => new TextEncoder().encode(t);
    const overrides = setup.overrides ?? [];
    const lists = new Map<string, Uint8Array | null>([
      [KEY_DEVICES_FILE, enc(formatKeyDevices(devices))],
      [HEADER_HASH_FILE, enc(headers)],
      [KEY_LVM_FILE, setup.volumeGroup === undefined ? null : enc(`${setup.volumeGroup}\n`)],
      [CRYPTTAB_OVERRIDES_FILE, overrides.length === 0 ? null : enc(formatOverrides(overrides))],
    ]);
    return { devices, lists, sealed };
  } catch (error) {
    if (changed.length === 0) throw error;
    // The slots were already changed, so a key sealed before no longer opens these devices; the recovery slot was never touched.
    throw new DiskSetupError(`${describeError(error)} The key slots of ${changed.join(", ")} were already changed: the disk recovery passphrase still opens ${changed.length === 1 ? "it" : "them"}, but a disk unlock key sealed before no longer does. Set the disk unlock key up again.`, { cause: error });
  } finally {
    key.fill(0);
    sys.wipeFile(keyFile);
  }
}
