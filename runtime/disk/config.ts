// What /boot's signed lists say about the disk unlock key (heads-behaviour.md §4): the
// devices (kexec_key_devices.txt, `<device> <LUKS UUID>` per line), the headers' luksDump.txt
// as sealed (kexec_lukshdr_hash.txt) and the crypttab overrides for the OS initrd. Read only
// from a VerifiedBoot: an unsigned file cannot add a device or change where the key goes.
import type { VerifiedBoot } from "../boot/integrity/verified.ts";
import { overridesFor, type CrypttabOverride, type KeyDevice } from "./key-initrd.ts";

export const KEY_DEVICES_FILE = "kexec_key_devices.txt";
export const KEY_LVM_FILE = "kexec_key_lvm.txt";
export const HEADER_HASH_FILE = "kexec_lukshdr_hash.txt";
export const CRYPTTAB_OVERRIDES_FILE = "kexec_initrd_crypttab_overrides.txt";

export class DiskKeyConfigError extends Error {
  override readonly name = "DiskKeyConfigError";
}

export interface DiskKeyConfig {
  devices: KeyDevice[];
  /** The volume group to activate first, when the devices hold LVM. */
  volumeGroup: string | null;
  /** The luksDump.txt text the key was sealed with; null when /boot does not carry it (set up before Heads wrote it). */
  headers: string | null;
  overrides: CrypttabOverride[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseKeyDevices(text: string): KeyDevice[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      const [device, uuid, ...rest] = l.trim().split(/\s+/);
      if (!device?.startsWith("/") || !uuid || !UUID.test(uuid.toLowerCase()) || rest.length > 0) {
        throw new DiskKeyConfigError(`${KEY_DEVICES_FILE} line ${i + 1} is not "<device> <LUKS UUID>"; set the disk unlock key up again`);
      }
      return { device, uuid: uuid.toLowerCase() };
    });
}

export function formatKeyDevices(devices: KeyDevice[]): string {
  return devices.map((d) => `${d.device} ${d.uuid}\n`).join("");
}

/** The disk key setup the signed /boot describes, or null when none is configured. */
export function diskKeyConfig(v: VerifiedBoot): DiskKeyConfig | null {
  const devicesText = v.signedList(KEY_DEVICES_FILE);
  if (devicesText === undefined || devicesText.trim() === "") return null;
  const devices = parseKeyDevices(devicesText);
  const vg = v.signedList(KEY_LVM_FILE)?.trim() ?? "";
  if (vg !== "" && !/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/.test(vg)) throw new DiskKeyConfigError(`${KEY_LVM_FILE} does not name a volume group`);
  return {
    devices,
    volumeGroup: vg === "" ? null : vg,
    headers: v.signedList(HEADER_HASH_FILE) ?? null,
    overrides: overridesFor(v.signedList(CRYPTTAB_OVERRIDES_FILE), devices),
  };
}
