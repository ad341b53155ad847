// The signing key's backup on a USB thumb drive, laid out as Heads' OEM reset makes it:
// partition 1 is LUKS2 (aes-xts-plain64, 512-bit key, sha256; the passphrase is the signing
// key's) holding an ext filesystem with the passphrase-protected secret key; partition 2 is a
// public FAT filesystem with pubkey.asc. The secret key only ever reaches the drive inside
// LUKS, and there still protected by its own passphrase.
import { SysError, type Sys } from "../host/sys.ts";
import { runTool } from "../platform/tool.ts";
import { describeError } from "../errors.ts";
import { backupDriveLayout, PartitionError, readDosTable, type PartitionSpan, type PrivatePercent } from "./partition.ts";

export class BackupDriveError extends Error {
  override readonly name = "BackupDriveError";
}

export interface UsbDrive {
  /** "/dev/sda" */
  device: string;
  bytes: number;
  /** Vendor and model as the drive reports them, for the user to recognise it. */
  description: string;
}

/** Heads' file names on the two partitions. */
export const PRIVATE_KEY_FILE = "privkey.sec";
export const PUBLIC_KEY_FILE = "pubkey.asc";

const MAPPER_NAME = "bootward-backup";
const PRIVATE_MOUNT = "/tmp/backup-private";
const PUBLIC_MOUNT = "/tmp/backup-public";
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** Whole USB disks with a medium in them: the kernel's sd* devices whose sysfs path runs through usb. */
export function usbDrives(sys: Sys): UsbDrive[] {
  const dir = "/sys/block";
  if (!sys.stat(dir)) return [];
  const drives: UsbDrive[] = [];
  for (const name of sys.readdir(dir).sort()) {
    try {
      const drive = usbDrive(sys, dir, name);
      if (drive) drives.push(drive);
    } catch (error) {
      // Pulled out while it was read: it is no longer there to list.
      if (!(error instanceof SysError)) throw error;
    }
  }
  return drives;
}

function usbDrive(sys: Sys, dir: string, name: string): UsbDrive | null {
  // /sys/block entries are links into the device tree; a USB disk's runs through its USB port.
  if (!/^sd[a-z]+$/.test(name) || sys.stat(`${dir}/${name}`)?.kind !== "symlink" || !sys.readlink(`${dir}/${name}`).includes("/usb")) return null;
  const bytes = Number(sys.readText(`${dir}/${name}/size`).trim()) * 512;
  if (!(bytes > 0)) return null;
  const words = ["vendor", "model"].map((f) => (sys.stat(`${dir}/${name}/device/${f}`) ? sys.readText(`${dir}/${name}/device/${f}`).trim() : ""));
  return { device: `/dev/${name}`, bytes, description: words.filter(Boolean).join(" ") || "USB drive" };
}

export function driveLabel(drive: UsbDrive): string {
  return `${drive.device}: ${drive.description}, ${(drive.bytes / 1e9).toFixed(1)} GB`;
}

async function run(sys: Sys, argv: string[], what: string, input?: Uint8Array): Promise<void> {
  await runTool(sys, argv, what, (message) => new BackupDriveError(message), input);
}

function partitionDevice(drive: string, span: PartitionSpan): string {
  return `${drive}${span.index}`;
}

/** The kernel makes the partitions' device nodes a moment after it re-reads the table. */
async function waitForNodes(sys: Sys, paths: string[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (paths.every((p) => sys.stat(p))) return;
    await sys.sleep(100);
  }
  throw new BackupDriveError(`the new partitions (${paths.join(", ")}) did not appear; unplug the drive, plug it in again and retry`);
}

async function withMounted<T>(sys: Sys, device: string, target: string, fstype: string, options: string, use: (dir: string) => Promise<T> | T): Promise<T> {
  if (!sys.stat(target)) sys.mkdir(target, 0o700);
  await sys.mount(device, target, fstype, options);
  try {
    return await use(target);
  } finally {
    await run(sys, ["umount", sys.hostPath(target)], `unmounting ${device}`);
  }
}

/** Opens the LUKS partition as /dev/mapper/bootward-backup for `use`, and always closes it. */
async function withOpenLuks<T>(sys: Sys, partition: string, passphrase: Uint8Array, readOnly: boolean, use: (mapper: string) => Promise<T>): Promise<T> {
  const result = await sys.exec(["cryptsetup", "open", ...(readOnly ? ["--readonly"] : []), "--key-file", "-", partition, MAPPER_NAME], { input: passphrase });
  // cryptsetup exits 2 when no key slot takes the passphrase.
  if (result.status === 2) throw new BackupDriveError(`the passphrase does not open the backup drive's encrypted partition (${partition}); type the signing key passphrase chosen at the OEM factory reset`);
  if (result.status !== 0) throw new BackupDriveError(`the backup drive's encrypted partition (${partition}) could not be opened: ${decode(result.stderr).trim() || `exit status ${result.status}`}`);
  try {
    return await use(`/dev/mapper/${MAPPER_NAME}`);
  } finally {
    await run(sys, ["cryptsetup", "close", MAPPER_NAME], "closing the encrypted partition");
  }
}

function writeFiles(sys: Sys, dir: string, files: ReadonlyArray<{ name: string; data: Uint8Array | string }>): void {
  for (const f of files) sys.writeFile(`${dir}/${f.name}`, f.data, 0o600);
}

export interface BackupContents {
  /** The secret key, armoured and protected by the passphrase. */
  secretKey: string;
  publicKey: string;
}

/**
 * Erases `drive` and writes the backup. Every step runs real tools (cryptsetup, mke2fs,
 * mkdosfs); the caller has the user's consent to erase the drive.
 */
export async function formatBackupDrive(sys: Sys, drive: UsbDrive, share: PrivatePercent, passphrase: Uint8Array, contents: BackupContents): Promise<void> {
  const diskId = new DataView(sys.randomBytes(4).buffer).getUint32(0);
  const layout = backupDriveLayout(drive.bytes, share, diskId);
  // The whole first MiB goes, so no stale GPT header (LBA 1) outlives the new DOS table.
  const head = new Uint8Array(layout.private.startSector * 512);
  head.set(layout.mbr);
  const device = sys.openDevice(drive.device, "rw");
  try {
    device.write(head);
  } catch (error) {
    throw new BackupDriveError(`the partition table could not be written to ${drive.device}: ${describeError(error)}`);
  } finally {
    device.close();
  }
  await run(sys, ["blockdev", "--rereadpt", drive.device], `re-reading the partition table of ${drive.device}`);
  const privatePart = partitionDevice(drive.device, layout.private);
  const publicPart = partitionDevice(drive.device, layout.public);
  await waitForNodes(sys, [privatePart, publicPart]);

  await run(
    sys,
    ["cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--cipher", "aes-xts-plain64", "--key-size", "512", "--hash", "sha256", "--key-file", "-", privatePart],
    `making the encrypted partition ${privatePart}`,
    passphrase,
  );
  await withOpenLuks(sys, privatePart, passphrase, false, async (mapper) => {
    await run(sys, ["mke2fs", "-L", "private", mapper], "making the private filesystem");
    await withMounted(sys, mapper, PRIVATE_MOUNT, "ext4", "rw", (dir) => writeFiles(sys, dir, [{ name: PRIVATE_KEY_FILE, data: contents.secretKey }, { name: PUBLIC_KEY_FILE, data: contents.publicKey }]));
  });
  await run(sys, ["mkdosfs", "-n", "PUBLIC", publicPart], "making the public filesystem");
  await withMounted(sys, publicPart, PUBLIC_MOUNT, "vfat", "rw", (dir) => writeFiles(sys, dir, [{ name: PUBLIC_KEY_FILE, data: contents.publicKey }]));
  await run(sys, ["sync"], "writing the drive's caches");
}

/** The device of the drive's partition 1, or null when the drive has no DOS partition table. */
function privatePartition(sys: Sys, drive: UsbDrive): string | null {
  const device = sys.openDevice(drive.device, "r");
  let spans: PartitionSpan[];
  try {
    spans = readDosTable(device.read(512));
  } catch (error) {
    if (error instanceof PartitionError) return null;
    throw error;
  } finally {
    device.close();
  }
  const first = spans.find((s) => s.index === 1);
  return first ? partitionDevice(drive.device, first) : null;
}

/**
 * Whether the drive's first partition is LUKS, as a backup drive's is. Throws (SysError,
 * BackupDriveError) when that cannot be told yet: a drive just plugged in has its disk's
 * device node before the kernel has made its partitions'.
 */
export async function looksLikeBackupDrive(sys: Sys, drive: UsbDrive): Promise<boolean> {
  const partition = privatePartition(sys, drive);
  if (partition === null) return false;
  if (!sys.stat(partition)) throw new BackupDriveError(`${partition} has no device node yet`);
  return (await sys.exec(["cryptsetup", "isLuks", partition])).status === 0;
}

/** The passphrase-protected secret key from the backup drive's encrypted partition. */
export async function readBackupKey(sys: Sys, drive: UsbDrive, passphrase: Uint8Array): Promise<Uint8Array> {
  const partition = privatePartition(sys, drive);
  if (!partition) throw new BackupDriveError(`${drive.device} has no partition table; it is not the backup drive of an OEM factory reset`);
  return withOpenLuks(sys, partition, passphrase, true, (mapper) =>
    withMounted(sys, mapper, PRIVATE_MOUNT, "ext4", "ro", (dir) => {
      const path = `${dir}/${PRIVATE_KEY_FILE}`;
      if (!sys.stat(path)) throw new BackupDriveError(`the backup drive's encrypted partition holds no ${PRIVATE_KEY_FILE}; is this the backup drive of the OEM factory reset?`);
      return sys.readFile(path);
    }),
  );
}
