// The USB drives a menu offers, kept live while it is on screen: the kernel makes a stick's
// disk a few seconds after it is plugged in, often after the question is drawn, and the
// user expects a stick plugged in while it shows to appear without a key press.
import { SysError, type Sys } from "../host/sys.ts";
import { BackupDriveError, looksLikeBackupDrive, usbDrives, type UsbDrive } from "./drive.ts";

/** How often a shown list is re-read: a stick shows up within a second of its disk. */
export const DRIVE_POLL_MS = 1000;

/** A list of drives read now, and watched while a menu shows it. */
export interface DriveList {
  read(): Promise<UsbDrive[]>;
  /**
   * Re-reads the list every DRIVE_POLL_MS and calls `changed` with it each time it differs
   * from the list before (`shown` at first), until the returned function is called.
   */
  watch(shown: UsbDrive[], changed: (drives: UsbDrive[]) => void): () => void;
}

/** The same drive: a stick swapped for another under the same name between two reads is not. */
const identity = (d: UsbDrive) => `${d.device} ${d.bytes} ${d.description}`;

function sameDrives(a: UsbDrive[], b: UsbDrive[]): boolean {
  return a.length === b.length && a.every((d, i) => identity(d) === identity(b[i]!));
}

function polled(sys: Sys, read: () => Promise<UsbDrive[]>): DriveList {
  return {
    read,
    watch(shown, changed) {
      let last = shown;
      let stopped = false;
      let cancel: (() => void) | null = null;
      // One read at a time: the next is scheduled when this one is done, however slow its tools.
      const tick = async () => {
        cancel = null;
        try {
          const now = await read();
          if (!stopped && !sameDrives(now, last)) {
            last = now;
            changed(now);
          }
        } catch (error) {
          // A drive pulled out while it was read; the next read sees it gone.
          if (!(error instanceof SysError)) throw error;
        }
        if (!stopped) cancel = sys.setTimer(DRIVE_POLL_MS, () => void tick());
      };
      cancel = sys.setTimer(DRIVE_POLL_MS, () => void tick());
      return () => {
        stopped = true;
        cancel?.();
      };
    },
  };
}

/** Every USB disk with a medium in it. */
export function usbDriveList(sys: Sys): DriveList {
  return polled(sys, async () => usbDrives(sys));
}

/**
 * The USB disks that look like the OEM reset's backup drive. Telling runs cryptsetup, so each
 * drive is probed once while it stays plugged in; one that cannot be read yet (its partitions'
 * device nodes are still being made) is left out and probed again at the next read.
 */
export function backupDriveList(sys: Sys): DriveList {
  const probed = new Map<string, boolean>();
  return polled(sys, async () => {
    const drives = usbDrives(sys);
    const present = new Set(drives.map(identity));
    // A drive pulled out may come back reformatted.
    for (const id of probed.keys()) if (!present.has(id)) probed.delete(id);
    const backups: UsbDrive[] = [];
    for (const drive of drives) {
      const id = identity(drive);
      if (!probed.has(id)) {
        try {
          probed.set(id, await looksLikeBackupDrive(sys, drive));
        } catch (error) {
          if (!(error instanceof SysError || error instanceof BackupDriveError)) throw error;
          continue;
        }
      }
      if (probed.get(id)) backups.push(drive);
    }
    return backups;
  });
}
