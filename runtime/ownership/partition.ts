// The DOS (MBR) partition table of the OEM reset's key-backup thumb drive, written by bootward
// itself because the firmware carries no sfdisk or fdisk. The layout is Heads' (its
// prepare_thumb_drive runs fdisk): partition 1 holds LUKS with the private keys and takes the
// share of the drive the user picked, partition 2 is the public filesystem with pubkey.asc.
//
// Facts this relies on, checked against util-linux sfdisk 2.38 writing to image files:
// - 512-byte logical sectors; partitions start on 1 MiB (2048-sector) boundaries, the first at
//   2048, and the last one runs to the last addressable sector, not to a MiB boundary.
// - CHS fields use the 255 heads × 63 sectors geometry tools assume when the device reports
//   none; an address past cylinder 1023 is written as 1023/254/63, the bytes FE FF FF.
// - The disk identifier is the little-endian u32 at 0x1B8 (Linux shows it as PTUUID, and
//   PARTUUID is "<id>-<nn>"), followed by two zero bytes, four 16-byte entries at 0x1BE and
//   55 AA at 0x1FE.

export class PartitionError extends Error {
  override readonly name = "PartitionError";
}

export interface PartitionSpan {
  /** 1–4: the entry's place in the table, so partition N is /dev/sdXN. */
  index: number;
  type: number;
  startSector: number;
  sectors: number;
}

export interface BackupDriveLayout {
  /** The drive's first sector. */
  mbr: Uint8Array;
  private: PartitionSpan;
  public: PartitionSpan;
  /** Bytes past the 2^32 − 1 sectors a DOS table can address; 0 on drives up to ~2 TiB. */
  unreachableBytes: number;
}

export const SECTOR_BYTES = 512;
/** The shares of the drive partition 1 may take, as Heads offers them. */
export const PRIVATE_PERCENTS = [10, 25, 50, 75] as const;
export type PrivatePercent = (typeof PRIVATE_PERCENTS)[number];
export const TYPE_LINUX = 0x83;
export const TYPE_FAT32_LBA = 0x0c;

const MIB = 1024 * 1024;
const SECTORS_PER_MIB = MIB / SECTOR_BYTES;
// The LUKS2 header alone is 16 MiB; 32 MiB leaves room for the keys and a filesystem on each side.
const MIN_PARTITION_MIB = 32;
// fdisk's limit for DOS labels (2199023255040 bytes): start + size stays within a u32, so a
// reader that adds the two in 32-bit arithmetic cannot wrap around.
const MAX_SECTORS = 0xffffffff;
const HEADS = 255;
const SECTORS_PER_TRACK = 63;
const TABLE_OFFSET = 0x1be;
const DISK_ID_OFFSET = 0x1b8;
const ENTRY_BYTES = 16;
const TYPE_GPT_PROTECTIVE = 0xee;

/**
 * The table for a backup drive of diskBytes bytes with privatePercent % (10, 25, 50 or 75)
 * given to the LUKS partition, as Heads sizes it: that share of the drive, rounded down to
 * whole MiB. Drives over ~2 TiB get a table covering the first 2^32 − 1 sectors: the backup
 * holds a few kilobytes, and refusing a big drive would leave the user with no way to make one
 * in the firmware. The caller zeroes the first MiB before writing mbr, so no stale GPT header
 * (LBA 1) or boot code survives.
 */
export function backupDriveLayout(diskBytes: number, privatePercent: number, diskId: number): BackupDriveLayout {
  if (!Number.isSafeInteger(diskBytes) || diskBytes < 0) {
    throw new PartitionError(`The drive size ${diskBytes} is not a byte count; read the size from the block device again.`);
  }
  if (!(PRIVATE_PERCENTS as readonly number[]).includes(privatePercent)) {
    throw new PartitionError(`A private share of ${privatePercent} % is not offered; choose ${PRIVATE_PERCENTS.join(", ")} %.`);
  }
  if (!Number.isInteger(diskId) || diskId < 1 || diskId > 0xffffffff) {
    throw new PartitionError(`The disk identifier ${diskId} is not a non-zero 32-bit number; draw a fresh random one.`);
  }

  const totalSectors = Math.floor(diskBytes / SECTOR_BYTES);
  const addressable = Math.min(totalSectors, MAX_SECTORS);
  const diskMiB = Math.floor(addressable / SECTORS_PER_MIB);
  if (!fits(diskMiB, privatePercent)) throw tooSmall(diskBytes, diskMiB, privatePercent);

  const privateSpan: PartitionSpan = {
    index: 1,
    type: TYPE_LINUX,
    startSector: SECTORS_PER_MIB,
    sectors: privateMiB(diskMiB, privatePercent) * SECTORS_PER_MIB,
  };
  const publicStart = privateSpan.startSector + privateSpan.sectors;
  const publicSpan: PartitionSpan = { index: 2, type: TYPE_FAT32_LBA, startSector: publicStart, sectors: addressable - publicStart };

  const mbr = new Uint8Array(SECTOR_BYTES);
  const view = new DataView(mbr.buffer);
  view.setUint32(DISK_ID_OFFSET, diskId, true);
  writeEntry(mbr, privateSpan);
  writeEntry(mbr, publicSpan);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return { mbr, private: privateSpan, public: publicSpan, unreachableBytes: (totalSectors - addressable) * SECTOR_BYTES };
}

/**
 * The used primary entries of a DOS table, in table order. mbr is the drive's first sector (a
 * longer read is fine; only the first 512 bytes count). An entry counts as used when its
 * sector count is non-zero, as the Linux kernel decides which /dev/sdXN nodes to create.
 * Logical partitions inside an extended one are not followed: a backup drive has none.
 * diskBytes, when given, also refuses partitions that end past the drive.
 */
export function readDosTable(mbr: Uint8Array, diskBytes?: number): PartitionSpan[] {
  if (mbr.length < SECTOR_BYTES) {
    throw new PartitionError(`Reading a partition table needs the drive's first ${SECTOR_BYTES} bytes, but only ${mbr.length} were read; read the whole first sector.`);
  }
  if (mbr[510] !== 0x55 || mbr[511] !== 0xaa) {
    throw new PartitionError("The drive's first sector does not end in the 55 AA signature, so it holds no DOS partition table; check that the right drive is plugged in, or format it as a backup drive again.");
  }
  const view = new DataView(mbr.buffer, mbr.byteOffset, SECTOR_BYTES);
  const spans: PartitionSpan[] = [];
  for (let i = 0; i < 4; i++) {
    const at = TABLE_OFFSET + i * ENTRY_BYTES;
    const index = i + 1;
    const status = mbr[at]!;
    // The kernel applies the same test: a FAT boot sector also ends in 55 AA, but its code
    // bytes rarely leave 0x00 or 0x80 in all four status fields.
    if (status !== 0x00 && status !== 0x80) {
      throw new PartitionError(`Entry ${index} of the drive's first sector has status byte 0x${status.toString(16).padStart(2, "0")} (a table holds only 0x00 or 0x80), so it is not a DOS partition table; check that the right drive is plugged in.`);
    }
    const type = mbr[at + 4]!;
    const startSector = view.getUint32(at + 8, true);
    const sectors = view.getUint32(at + 12, true);
    if (sectors === 0) continue;
    if (type === TYPE_GPT_PROTECTIVE) {
      throw new PartitionError("The drive has a GPT partition table, not the DOS table of a backup drive; check that the right drive is plugged in, or format it as a backup drive again.");
    }
    if (startSector === 0) {
      throw new PartitionError(`Partition ${index} starts at sector 0, on top of the partition table itself, so the table is damaged; format the drive as a backup drive again.`);
    }
    if (diskBytes !== undefined && startSector + sectors > Math.floor(diskBytes / SECTOR_BYTES)) {
      throw new PartitionError(`Partition ${index} ends at sector ${startSector + sectors - 1}, past the end of the ${Math.floor(diskBytes / SECTOR_BYTES)}-sector drive, so the table is damaged or belongs to a larger drive; format the drive as a backup drive again.`);
    }
    spans.push({ index, type, startSector, sectors });
  }
  const byStart = [...spans].sort((a, b) => a.startSector - b.startSector);
  for (let i = 1; i < byStart.length; i++) {
    const before = byStart[i - 1]!;
    const after = byStart[i]!;
    if (before.startSector + before.sectors > after.startSector) {
      throw new PartitionError(`Partitions ${before.index} and ${after.index} overlap (sectors ${after.startSector}–${before.startSector + before.sectors - 1}), so the table is damaged; format the drive as a backup drive again.`);
    }
  }
  return spans;
}

function privateMiB(diskMiB: number, percent: number): number {
  return Math.floor((diskMiB * percent) / 100);
}

// Whole MiB: the first MiB is the gap before partition 1; the public partition gets the rest.
// Both sides grow (or stay) as the drive grows by a MiB, so the smallest fitting size is a
// threshold: every larger drive fits too.
function fits(diskMiB: number, percent: number): boolean {
  const priv = privateMiB(diskMiB, percent);
  return priv >= MIN_PARTITION_MIB && diskMiB - 1 - priv >= MIN_PARTITION_MIB;
}

/** The smallest drive, in MiB, that holds both partitions with this private share. */
export function minimumDriveMiB(percent: number): number {
  let mib = 2 * MIN_PARTITION_MIB + 1;
  while (!fits(mib, percent)) mib++;
  return mib;
}

function tooSmall(diskBytes: number, diskMiB: number, percent: number): PartitionError {
  const found = `${Math.floor(diskBytes / MIB)} MiB`;
  const need = minimumDriveMiB(percent);
  const others = PRIVATE_PERCENTS.filter((p) => fits(diskMiB, p));
  const instead = others.length > 0 ? `choose a private share of ${others.join(" or ")} % instead, or ` : "";
  return new PartitionError(
    `The drive holds ${found}, but a backup drive with a ${percent} % private share needs at least ${need} MiB (${MIN_PARTITION_MIB} MiB for each partition); ${instead}use a bigger drive.`,
  );
}

function writeEntry(mbr: Uint8Array, span: PartitionSpan): void {
  const at = TABLE_OFFSET + (span.index - 1) * ENTRY_BYTES;
  mbr[at] = 0x00; // not bootable: nothing on a backup drive boots
  mbr.set(chs(span.startSector), at + 1);
  mbr[at + 4] = span.type;
  mbr.set(chs(span.startSector + span.sectors - 1), at + 5);
  const view = new DataView(mbr.buffer, mbr.byteOffset);
  view.setUint32(at + 8, span.startSector, true);
  view.setUint32(at + 12, span.sectors, true);
}

/** Head, sector (bits 0–5) with cylinder bits 8–9 (bits 6–7), cylinder bits 0–7. */
function chs(lba: number): Uint8Array {
  const cylinder = Math.floor(lba / (HEADS * SECTORS_PER_TRACK));
  if (cylinder > 1023) return Uint8Array.of(0xfe, 0xff, 0xff);
  const head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  const sector = (lba % SECTORS_PER_TRACK) + 1;
  return Uint8Array.of(head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff);
}
