// LVM volume groups through the lvm tool, for the disk unlock key: Heads keeps LUKS volumes
// that live on logical volumes by naming their volume group in kexec_key_lvm.txt and
// activating it (vgchange -a y) before the headers are read, both when sealing and at boot.
import { SysError, type Sys } from "../host/sys.ts";
import { runTool } from "./tool.ts";

export class LvmError extends Error {
  override readonly name = "LvmError";
}

const fail = (message: string) => new LvmError(message);

/** The same characters lvm accepts in a volume group name; anything else is refused before it reaches argv. */
export const VOLUME_GROUP_NAME = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/;

/** Runs lvm; a firmware built without it says so instead of failing with "not found in PATH". */
async function lvm(sys: Sys, args: string[], what: string): Promise<string> {
  try {
    return await runTool(sys, ["lvm", ...args], what, fail);
  } catch (error) {
    if (!(error instanceof SysError)) throw error;
    throw new LvmError(`${what} failed: this firmware has no lvm tool (${error.message}), so LUKS volumes on LVM logical volumes (kexec_key_lvm.txt) cannot be reached`);
  }
}

/** Volume groups lvm sees on the block devices present (Heads' vgscan suggestion). */
export async function volumeGroups(sys: Sys): Promise<string[]> {
  const out = await lvm(sys, ["vgs", "--noheadings", "-o", "vg_name"], "listing LVM volume groups");
  return out.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

/** Makes the group's logical volumes appear as block devices, so LUKS headers on them can be read. */
export async function activateVolumeGroup(sys: Sys, group: string): Promise<void> {
  if (!VOLUME_GROUP_NAME.test(group)) throw new LvmError(`"${group}" is not an LVM volume group name`);
  await lvm(sys, ["vgchange", "-a", "y", group], `activating the LVM volume group ${group}`);
}
