// Finding and mounting /boot on the firmware, as gui-init's detect_boot_device: /boot
// already mounted, else CONFIG_BOOT_DEV, else the first block device that mounts read-only
// and holds grub*. /boot stays read-only except while it is being signed.
import type { Sys } from "../host/sys.ts";
import type { Config } from "../config/parse.ts";
import { describeError } from "../errors.ts";

export const BOOT_MOUNT = "/boot";

export class BootDeviceError extends Error {
  override readonly name = "BootDeviceError";
}

function mounted(sys: Sys, target: string): boolean {
  if (!sys.stat("/proc/mounts")) return false;
  return sys.readText("/proc/mounts").split("\n").some((line) => line.split(" ")[1] === target);
}

function holdsGrub(sys: Sys, dir: string): boolean {
  return sys.readdir(dir).some((name) => name.startsWith("grub"));
}

/** Whole disks and partitions the kernel knows, skipping RAM, loop and optical devices. */
function blockDevices(sys: Sys): string[] {
  if (!sys.stat("/sys/class/block")) return [];
  return sys.readdir("/sys/class/block")
    .filter((name) => !/^(ram|loop|sr|zram|dm-)/.test(name))
    .sort()
    .map((name) => `/dev/${name}`);
}

async function umount(sys: Sys, target: string): Promise<void> {
  const result = await sys.exec(["umount", sys.hostPath(target)]);
  if (result.status !== 0) throw new BootDeviceError(`${target} could not be unmounted (${new TextDecoder().decode(result.stderr).trim()}); reboot before trying again`);
}

/**
 * Mounts /boot read-only if it is not yet, and returns its path. Off the firmware (a host
 * shell, a test) /boot is used as it is.
 */
export async function mountBoot(sys: Sys, config: Config, firmware: boolean): Promise<string> {
  if (!firmware || mounted(sys, BOOT_MOUNT)) return BOOT_MOUNT;
  const configured = config.CONFIG_BOOT_DEV;
  const candidates = configured ? [configured] : blockDevices(sys);
  const tried: string[] = [];
  for (const device of candidates) {
    try {
      await sys.mount(device, BOOT_MOUNT, "auto", "ro");
    } catch (error) {
      tried.push(`${device}: ${describeError(error)}`);
      continue;
    }
    if (configured || holdsGrub(sys, BOOT_MOUNT)) return BOOT_MOUNT;
    await umount(sys, BOOT_MOUNT);
    tried.push(`${device}: no grub directory`);
  }
  const where = configured ? `CONFIG_BOOT_DEV=${configured}` : "any disk";
  throw new BootDeviceError(`no /boot could be mounted from ${where}${tried.length ? ` (${tried.join("; ")})` : ""}; check that the disk is connected, or set the /boot device in the configuration`);
}

/** Runs `change` with /boot writable, then makes it read-only again (firmware only). */
export async function withWritableBoot<T>(sys: Sys, firmware: boolean, change: () => Promise<T>): Promise<T> {
  if (!firmware) return change();
  await remount(sys, "rw");
  let result: T;
  try {
    result = await change();
  } catch (error) {
    // The change's own failure is what the user must see; a failed remount after it would hide it.
    await remount(sys, "ro").catch(() => undefined);
    throw error;
  }
  await remount(sys, "ro");
  return result;
}

async function remount(sys: Sys, mode: "rw" | "ro"): Promise<void> {
  const result = await sys.exec(["mount", "-o", `remount,${mode}`, sys.hostPath(BOOT_MOUNT)]);
  if (result.status !== 0) {
    throw new BootDeviceError(`/boot could not be made ${mode === "rw" ? "writable" : "read-only"} (${new TextDecoder().decode(result.stderr).trim()}); check the disk and try again`);
  }
}
