// The backup drive's DOS table against util-linux sfdisk, both directions: sfdisk reads (and
// verifies) the tables bootward writes, bootward reads the tables sfdisk writes, and for the
// same partitions both write the same 512 bytes, CHS fields included.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureTools, toolPath } from "../../../initrd/host-tools.ts";
import {
  PRIVATE_PERCENTS,
  PartitionError,
  backupDriveLayout,
  minimumDriveMiB,
  readDosTable,
  type PartitionSpan,
} from "../../../runtime/ownership/partition.ts";

ensureTools(["sfdisk"]);
const SFDISK = toolPath("sfdisk");
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

const dir = mkdtempSync(join(tmpdir(), "bootward-partition-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let images = 0;
/** A sparse image file of exactly this many bytes. */
function image(bytes: number): string {
  const path = join(dir, `disk${images++}.img`);
  writeFileSync(path, "");
  truncateSync(path, bytes);
  return path;
}

function writeFirstSector(path: string, mbr: Uint8Array): void {
  const fd = openSync(path, "r+");
  try {
    writeSync(fd, mbr, 0, mbr.length, 0);
  } finally {
    closeSync(fd);
  }
}

function readFirstSector(path: string): Uint8Array {
  const buf = new Uint8Array(512);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  return buf;
}

interface SfdiskTable {
  label: string;
  id: string;
  sectorsize: number;
  partitions?: { node: string; start: number; size: number; type: string; bootable?: boolean }[];
}

function sfdiskJson(path: string): SfdiskTable {
  return JSON.parse(execFileSync(SFDISK, ["--json", path], { encoding: "utf8" })).partitiontable;
}

function sfdiskWrite(path: string, script: string): void {
  execFileSync(SFDISK, ["--quiet", "--no-reread", path], { input: script, stdio: ["pipe", "ignore", "pipe"] });
}

/** sfdisk --verify exits 0 even when it finds problems, so its verdict is in the output. */
function sfdiskVerify(path: string): { stdout: string; stderr: string } {
  const r = spawnSync(SFDISK, ["--verify", path], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** sfdisk's primary partitions as spans (logical ones, 5 and up, left out). */
function sfdiskSpans(path: string, table = sfdiskJson(path)): PartitionSpan[] {
  return (table.partitions ?? [])
    .map((p) => ({ index: Number(/(\d+)$/.exec(p.node)![1]), type: parseInt(p.type, 16), startSector: p.start, sectors: p.size }))
    .filter((s) => s.index <= 4);
}

function labelId(id: number): string {
  return `0x${id.toString(16).padStart(8, "0")}`;
}

const cases: { bytes: number; percent: number; id: number }[] = [
  ...PRIVATE_PERCENTS.map((percent, i) => ({ bytes: GiB, percent, id: 0x1000 + i })),
  // A "32 GB" stick is no whole number of MiB, nor of sectors: the tail sector is dropped and
  // partition 2 runs to the last whole sector.
  { bytes: 31 * GiB + 12_345 * 512 + 100, percent: 10, id: 0xdeadbeef },
  { bytes: 31 * GiB + 12_345 * 512 + 100, percent: 75, id: 0x0badcafe },
  { bytes: 100 * MiB, percent: 50, id: 0x80000000 },
  ...PRIVATE_PERCENTS.map((percent) => ({ bytes: minimumDriveMiB(percent) * MiB, percent, id: 0xffffffff })),
  { bytes: 3 * TiB, percent: 25, id: 0x12345678 },
];

for (const { bytes, percent, id } of cases) {
  test(`${bytes} bytes, ${percent} % private: sfdisk reads exactly the two partitions, verifies them and writes the same sector`, () => {
    const layout = backupDriveLayout(bytes, percent, id);
    assert.equal(layout.mbr.length, 512);
    const path = image(bytes);
    writeFirstSector(path, layout.mbr);

    const table = sfdiskJson(path);
    assert.equal(table.label, "dos");
    assert.equal(table.id, labelId(id));
    assert.equal(table.sectorsize, 512);
    assert.deepEqual(table.partitions?.map(({ start, size, type, bootable }) => ({ start, size, type, bootable })), [
      { start: 2048, size: layout.private.sectors, type: "83", bootable: undefined },
      { start: layout.public.startSector, size: layout.public.sectors, type: "c", bootable: undefined },
    ]);
    assert.deepEqual(sfdiskSpans(path, table), [layout.private, layout.public]);

    assert.equal(layout.private.sectors % 2048, 0);
    assert.equal(layout.public.startSector, 2048 + layout.private.sectors);
    assert.ok(layout.private.sectors >= 32 * 2048 && layout.public.sectors >= 32 * 2048);
    const totalSectors = Math.floor(bytes / 512);
    const end = layout.public.startSector + layout.public.sectors;
    assert.equal(end, Math.min(totalSectors, 0xffffffff));
    assert.equal(layout.unreachableBytes, (totalSectors - end) * 512);

    const verdict = sfdiskVerify(path);
    assert.equal(verdict.stderr, "");
    assert.match(verdict.stdout, /No errors detected\./);
    if (layout.unreachableBytes === 0) assert.doesNotMatch(verdict.stdout, /Remaining|greater than/);
    else assert.match(verdict.stdout, new RegExp(`Remaining ${totalSectors - end} unallocated 512-byte sectors`));

    // sfdisk's own table for the same spans, CHS fields included, on a same-sized image.
    const theirs = image(bytes);
    sfdiskWrite(
      theirs,
      `label: dos\nlabel-id: ${labelId(id)}\n` +
        `start=2048, size=${layout.private.sectors}, type=83\n` +
        `start=${layout.public.startSector}, size=${layout.public.sectors}, type=c\n`,
    );
    assert.deepEqual(readFirstSector(theirs), layout.mbr);

    assert.deepEqual(readDosTable(layout.mbr, bytes), [layout.private, layout.public]);
  });
}

test("the private share is the picked percentage of the drive in whole MiB, as Heads sizes it", () => {
  const gib = backupDriveLayout(GiB, 25, 1);
  assert.deepEqual(gib.private, { index: 1, type: 0x83, startSector: 2048, sectors: 256 * 2048 });
  assert.deepEqual(gib.public, { index: 2, type: 0x0c, startSector: 2048 + 256 * 2048, sectors: 2 * 1024 * 1024 - 2048 - 256 * 2048 });
  // 10 % of 1000 MiB + 1 sector is 100 MiB and a bit: rounded down.
  assert.equal(backupDriveLayout(1000 * MiB + 512, 10, 1).private.sectors, 100 * 2048);
  // Past 2^32 − 1 sectors the percentage is of the part the table reaches.
  const big = backupDriveLayout(3 * TiB, 50, 1);
  assert.equal(big.private.sectors, Math.floor(Math.floor(0xffffffff / 2048) / 2) * 2048);
  assert.equal(big.public.startSector + big.public.sectors, 0xffffffff);
});

test("the smallest drives: 32 MiB for each partition after the first MiB", () => {
  assert.deepEqual(PRIVATE_PERCENTS.map(minimumDriveMiB), [320, 128, 65, 129]);
  for (const percent of PRIVATE_PERCENTS) {
    const least = minimumDriveMiB(percent) * MiB;
    assert.doesNotThrow(() => backupDriveLayout(least, percent, 1));
    // every larger size fits too, sector by sector across the next few MiB
    for (let bytes = least; bytes < least + 4 * MiB; bytes += 512 * 97) assert.doesNotThrow(() => backupDriveLayout(bytes, percent, 1));
    assert.throws(() => backupDriveLayout(least - 512, percent, 1), PartitionError);
    assert.throws(() => backupDriveLayout(least - MiB, percent, 1), PartitionError);
  }
});

test("a drive too small is refused with the size found, the size needed and what else would fit", () => {
  for (const percent of PRIVATE_PERCENTS) {
    assert.throws(
      () => backupDriveLayout(64 * MiB, percent, 1),
      (e: unknown) => e instanceof PartitionError && e.name === "PartitionError" && e.message.includes("holds 64 MiB") &&
        e.message.includes(`needs at least ${minimumDriveMiB(percent)} MiB`) && !e.message.includes("instead"),
    );
  }
  assert.throws(() => backupDriveLayout(100 * MiB, 25, 1), /holds 100 MiB.*needs at least 128 MiB.*choose a private share of 50 % instead/);
  assert.throws(() => backupDriveLayout(200 * MiB, 10, 1), /needs at least 320 MiB.*choose a private share of 25 or 50 or 75 % instead/);
  assert.throws(() => backupDriveLayout(0, 50, 1), /holds 0 MiB/);
});

test("shares, identifiers and sizes outside the offer are refused", () => {
  for (const percent of [0, 5, 33, 100, 10.5, Number.NaN, -10]) {
    assert.throws(() => backupDriveLayout(GiB, percent, 1), (e: unknown) => e instanceof PartitionError && /choose 10, 25, 50, 75 %/.test(e.message));
  }
  for (const id of [0, -1, 2 ** 32, 1.5, Number.NaN]) {
    assert.throws(() => backupDriveLayout(GiB, 25, id), (e: unknown) => e instanceof PartitionError && /disk identifier/.test(e.message));
  }
  for (const bytes of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    assert.throws(() => backupDriveLayout(bytes, 25, 1), (e: unknown) => e instanceof PartitionError && /not a byte count/.test(e.message));
  }
});

const sfdiskTables: { name: string; bytes: number; script: (path: string) => string }[] = [
  { name: "Heads-style, both Linux", bytes: GiB, script: () => "label: dos\n,100M,83\n,,83\n" },
  { name: "four primaries, the third bootable", bytes: GiB, script: () => "label: dos\n,10M,7\n,10M,83\n,10M,c,*\n,,ef\n" },
  { name: "entries 1 and 3 only", bytes: 256 * MiB, script: (p) => `label: dos\n${p}1 : start=2048, size=20480, type=83\n${p}3 : start=40960, size=20480, type=c\n` },
  { name: "an extended partition with logical ones inside", bytes: GiB, script: () => "label: dos\n,10M,83\n,,5\n,10M,83\n,10M,c\n" },
  { name: "a 31 GiB drive, old 63-sector start", bytes: 31 * GiB, script: () => "label: dos\nstart=63, size=4000000, type=83\n,,c\n" },
  { name: "an empty table", bytes: 64 * MiB, script: () => "label: dos\n" },
];

for (const { name, bytes, script } of sfdiskTables) {
  test(`readDosTable reads sfdisk's table: ${name}`, () => {
    const path = image(bytes);
    sfdiskWrite(path, script(path));
    const expected = sfdiskSpans(path);
    assert.deepEqual(readDosTable(readFirstSector(path), bytes), expected);
    // a longer first read (a 4 KiB block) reads the same
    const block = new Uint8Array(4096);
    block.set(readFirstSector(path));
    block.fill(0x5a, 512);
    assert.deepEqual(readDosTable(block), expected);
  });
}

test("readDosTable refuses a sector without the 55 AA signature, as sfdisk does", () => {
  const { mbr } = backupDriveLayout(GiB, 25, 7);
  const path = image(GiB);
  writeFirstSector(path, mbr.slice(0, 510));
  assert.equal(spawnSync(SFDISK, ["--json", path], { encoding: "utf8" }).status, 1);
  for (const bad of [mbr.slice(0, 510), Uint8Array.from([...mbr.slice(0, 510), 0xaa, 0x55]), new Uint8Array(512)]) {
    const sector = new Uint8Array(512);
    sector.set(bad);
    assert.throws(() => readDosTable(sector), (e: unknown) => e instanceof PartitionError && /55 AA signature/.test(e.message));
  }
  assert.throws(() => readDosTable(mbr.slice(0, 511)), /only 511 were read/);
});

test("readDosTable refuses a GPT drive by name", () => {
  const path = image(GiB);
  sfdiskWrite(path, "label: gpt\n,100M\n,,\n");
  assert.throws(() => readDosTable(readFirstSector(path)), (e: unknown) => e instanceof PartitionError && /GPT partition table/.test(e.message));
});

test("readDosTable refuses overlapping partitions, which sfdisk --verify also reports", () => {
  const layout = backupDriveLayout(GiB, 25, 7);
  const mbr = layout.mbr.slice();
  new DataView(mbr.buffer).setUint32(0x1be + 16 + 8, layout.public.startSector - 2048, true);
  const path = image(GiB);
  writeFirstSector(path, mbr);
  assert.match(sfdiskVerify(path).stderr, /Partition 1: overlaps partition 2/);
  assert.throws(() => readDosTable(mbr), (e: unknown) => e instanceof PartitionError && /Partitions 1 and 2 overlap/.test(e.message));
});

test("readDosTable refuses a table for a larger drive when told the drive's size", () => {
  const layout = backupDriveLayout(GiB, 25, 7);
  const path = image(512 * MiB);
  writeFirstSector(path, layout.mbr);
  assert.match(sfdiskVerify(path).stdout, /greater than the maximum/);
  assert.throws(() => readDosTable(layout.mbr, 512 * MiB), (e: unknown) => e instanceof PartitionError && /Partition 2 ends at sector 2097151, past the end of the 1048576-sector drive/.test(e.message));
  assert.equal(readDosTable(layout.mbr).length, 2);
});

test("readDosTable refuses garbage entries: a bad status byte, a partition on top of the table", () => {
  const { mbr } = backupDriveLayout(GiB, 25, 7);
  const boot = mbr.slice();
  for (let i = 0x1be; i < 0x1fe; i++) boot[i] = (i * 37) & 0xff; // boot code bytes where the table should be
  assert.throws(() => readDosTable(boot), /Entry 1 .* status byte 0x.*not a DOS partition table/);
  const badEmpty = mbr.slice();
  badEmpty[0x1be + 3 * 16] = 0x01; // even an unused entry must have a valid status byte
  assert.throws(() => readDosTable(badEmpty), /Entry 4 .* status byte 0x01/);
  const atZero = mbr.slice();
  new DataView(atZero.buffer).setUint32(0x1be + 8, 0, true);
  assert.throws(() => readDosTable(atZero), /Partition 1 starts at sector 0/);
  // an entry with a type but no sectors is unused, as the kernel treats it
  const sizeless = mbr.slice();
  new DataView(sizeless.buffer).setUint32(0x1be + 16 + 12, 0, true);
  assert.deepEqual(readDosTable(sizeless).map((s) => s.index), [1]);
});
