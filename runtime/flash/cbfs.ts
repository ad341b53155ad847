// CBFS, coreboot's file system in the ROM image, read and written on bytes (Uint8Array in,
// Uint8Array out) so the same code serves the flash driver, the CLI and the tests.
//
// Format facts (coreboot's cbfs_serialized.h, checked against cbfstool 4.15): the CBFS is the
// FMAP region COREBOOT, or in images without an FMAP the span a big-endian master header
// ("ORBC", found through the int32 at the end of the image) describes. It is a chain of
// 64-byte-aligned entries: "LARCHIVE", len u32, type u32, attributes_offset u32, offset u32
// (all big-endian), a NUL-terminated name padded to 4 bytes, attributes, then len bytes of
// data at `offset` from the entry. The next entry starts at the next 64-byte boundary; the
// chain ends where no "LARCHIVE" is found. Free space is itself an entry of type null
// (0xffffffff) with an empty name whose data is 0xff; type deleted (0) is free space too.

import { findFmap } from "./fmap.ts";
import { Lz4Error, lz4Decompress } from "./lz4.ts";

const CBFS_ALIGNMENT = 64;
const ENTRY_HEADER = 24;
const EMPTY_ENTRY_HEADER = ENTRY_HEADER + 4;
const ATTRIBUTE_HEADER = 8;
// coreboot reads an entry's header, name and attributes into a 256-byte buffer.
const METADATA_MAX = 256;
const FILE_MAGIC = [0x4c, 0x41, 0x52, 0x43, 0x48, 0x49, 0x56, 0x45]; // "LARCHIVE"
const MASTER_MAGIC = 0x4f524243; // "ORBC"
const MASTER_VERSIONS = [0x31313131, 0x31313132];
const MASTER_HEADER_SIZE = 32;
const ATTR_COMPRESSION = 0x42435a4c; // "BCZL"
const ATTR_UNUSED = [0, 0xffffffff];
// Flash chips top out at 64 MiB and the runtime's memory budget is 48 MiB.
const MAX_DECOMPRESSED = 32 * 1024 * 1024;

/** Entry types by cbfstool's names. */
export const CBFS_TYPES: Readonly<Record<string, number>> = {
  deleted: 0x00,
  bootblock: 0x01,
  "cbfs header": 0x02,
  "legacy stage": 0x10,
  stage: 0x11,
  "simple elf": 0x20,
  fit: 0x21,
  optionrom: 0x30,
  bootsplash: 0x40,
  raw: 0x50,
  vsa: 0x51,
  mbi: 0x52,
  microcode: 0x53,
  fsp: 0x60,
  mrc: 0x61,
  mma: 0x62,
  efi: 0x63,
  struct: 0x70,
  cmos_default: 0xaa,
  spd: 0xab,
  mrc_cache: 0xac,
  cmos_layout: 0x1aa,
  null: 0xffffffff,
};
export const CBFS_TYPE_RAW = 0x50;
const TYPE_NULL = 0xffffffff;
const TYPE_DELETED = 0;

export function typeName(type: number): string {
  for (const [name, value] of Object.entries(CBFS_TYPES)) if (value === type) return name;
  return `0x${type.toString(16)}`;
}

const COMPRESSIONS = ["none", "lzma", "lz4"] as const;
export type Compression = (typeof COMPRESSIONS)[number] | `unknown-${number}`;

export type CbfsErrorKind = "no-cbfs" | "corrupt" | "not-found" | "exists" | "full" | "compressed" | "bad-name";

export class CbfsError extends Error {
  constructor(
    readonly kind: CbfsErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "CbfsError";
  }
}

export interface CbfsAttribute {
  tag: number;
  /** Offset of the attribute from the entry's start, and its length with tag and length fields. */
  offset: number;
  length: number;
}

export interface CbfsEntry {
  /** Where the entry starts, as cbfstool print shows it: from the start of the FMAP region, or of the image for a master-header CBFS. */
  offset: number;
  name: string;
  type: number;
  /** Offset of the data from the entry's start. */
  dataOffset: number;
  /** Bytes stored (compressed size for a compressed file). */
  size: number;
  compression: Compression;
  decompressedSize: number | null;
  attributes: CbfsAttribute[];
  /** Free space (type null or deleted). */
  empty: boolean;
}

export interface Cbfs {
  source: "fmap" | "master header";
  /** Image offset that entry offsets count from. */
  base: number;
  /** Offsets from base: the first entry, and the end of the space the chain may use. */
  start: number;
  end: number;
  /** Where the last entry's space ends: its next 64-byte boundary, short of a master header pointer in the region's last 4 bytes. */
  tail: number;
  /** cbfstool ends a free entry it creates at the end below this (the image's last 4 bytes, where x86 keeps the master header pointer). */
  keepBelow: number;
  entries: CbfsEntry[];
}

const be32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

function putBe32(b: Uint8Array, at: number, value: number): void {
  b[at] = value >>> 24;
  b[at + 1] = (value >>> 16) & 0xff;
  b[at + 2] = (value >>> 8) & 0xff;
  b[at + 3] = value & 0xff;
}

const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

function hasMagic(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < FILE_MAGIC.length; i++) if (b[at + i] !== FILE_MAGIC[i]) return false;
  return true;
}

type Region = Omit<Cbfs, "entries" | "tail">;

function isMasterHeader(image: Uint8Array, at: number): boolean {
  return at >= 0 && at + MASTER_HEADER_SIZE <= image.length && be32(image, at) === MASTER_MAGIC && MASTER_VERSIONS.includes(be32(image, at + 4));
}

/** The int32 in the last 4 bytes before `end`, an offset back from `end` to the master header (x86's top-aligned pointer). */
function pointedHeader(image: Uint8Array, end: number): number {
  return end + (image[end - 4]! | (image[end - 3]! << 8) | (image[end - 2]! << 16) | (image[end - 1]! << 24));
}

function masterHeaderAt(image: Uint8Array, at: number): Region | null {
  if (!isMasterHeader(image, at)) return null;
  const romSize = be32(image, at + 8);
  const bootblockSize = be32(image, at + 12);
  const start = be32(image, at + 20);
  // The header may sit inside the span (x86 puts it at the top); the chain must stop below it.
  const top = Math.min(romSize, image.length) - bootblockSize;
  const end = at >= start && at < top ? at : top;
  if (start % CBFS_ALIGNMENT !== 0 || start + ENTRY_HEADER > end) return null;
  return { source: "master header", base: 0, start, end, keepBelow: image.length - 4 };
}

/** A legacy image's master header: through the pointer at the image's end first, else by a scan, as cbfstool does. */
function findMasterHeader(image: Uint8Array): Region | null {
  if (image.length >= 4) {
    const region = masterHeaderAt(image, pointedHeader(image, image.length));
    if (region) return region;
  }
  for (let at = image.indexOf(0x4f); at >= 0; at = image.indexOf(0x4f, at + 1)) {
    const region = masterHeaderAt(image, at);
    if (region) return region;
  }
  return null;
}

function locate(image: Uint8Array): Region {
  const fmap = findFmap(image);
  if (fmap) {
    const area = fmap.areas.find((a) => a.name === "COREBOOT");
    if (!area) throw new CbfsError("no-cbfs", "The firmware image has a flash map but no COREBOOT region, so it holds no CBFS; check that it is a coreboot image.");
    if (area.offset + area.size > image.length || area.size < ENTRY_HEADER) {
      throw new CbfsError("corrupt", `The flash map puts the COREBOOT region at 0x${area.offset.toString(16)}+0x${area.size.toString(16)}, outside the ${image.length}-byte image; the image is truncated or damaged.`);
    }
    return { source: "fmap", base: area.offset, start: 0, end: area.size, keepBelow: area.size - 4 };
  }
  const legacy = findMasterHeader(image);
  if (!legacy) throw new CbfsError("no-cbfs", "The firmware image has neither a flash map nor a CBFS master header; check that it is a coreboot image.");
  return legacy;
}

function corrupt(offset: number, what: string): CbfsError {
  return new CbfsError("corrupt", `The CBFS entry at 0x${offset.toString(16)} is damaged (${what}); the firmware image cannot be used as it is.`);
}

function parseAttributes(b: Uint8Array, entry: number, from: number, to: number): CbfsAttribute[] {
  const attributes: CbfsAttribute[] = [];
  for (let at = from; at + ATTRIBUTE_HEADER <= to; ) {
    const tag = be32(b, entry + at);
    const length = be32(b, entry + at + 4);
    if (ATTR_UNUSED.includes(tag) || length < ATTRIBUTE_HEADER || at + length > to) break;
    attributes.push({ tag, offset: at, length });
    at += length;
  }
  return attributes;
}

function parseEntry(image: Uint8Array, region: Region, pos: number): CbfsEntry {
  const at = region.base + pos;
  const size = be32(image, at + 8);
  const type = be32(image, at + 12);
  const attributesOffset = be32(image, at + 16);
  const dataOffset = be32(image, at + 20);
  if (dataOffset <= ENTRY_HEADER || pos + dataOffset > region.end) throw corrupt(pos, `data offset ${dataOffset}`);
  if (pos + dataOffset + size > region.end) throw corrupt(pos, `its ${size} bytes run past the end of the CBFS`);
  if (attributesOffset !== 0 && (attributesOffset <= ENTRY_HEADER || attributesOffset > dataOffset)) throw corrupt(pos, `attributes offset ${attributesOffset}`);
  const nameEnd = attributesOffset || dataOffset;
  const nul = image.subarray(at + ENTRY_HEADER, at + nameEnd).indexOf(0);
  if (nul < 0) throw corrupt(pos, "its name has no terminating NUL");
  const attributes = attributesOffset ? parseAttributes(image, at, attributesOffset, dataOffset) : [];
  const compression = attributes.find((a) => a.tag === ATTR_COMPRESSION && a.length >= 16);
  const algorithm = compression ? be32(image, at + compression.offset + 8) : 0;
  return {
    offset: pos,
    name: new TextDecoder().decode(image.subarray(at + ENTRY_HEADER, at + ENTRY_HEADER + nul)),
    type,
    dataOffset,
    size,
    compression: COMPRESSIONS[algorithm] ?? `unknown-${algorithm}`,
    decompressedSize: compression ? be32(image, at + compression.offset + 12) : null,
    attributes,
    empty: type === TYPE_NULL || type === TYPE_DELETED,
  };
}

/** The CBFS of a coreboot image with every entry, free space included, in chain order. */
export function readCbfs(image: Uint8Array): Cbfs {
  const region = locate(image);
  const entries: CbfsEntry[] = [];
  for (let pos = region.start; pos + ENTRY_HEADER <= region.end && hasMagic(image, region.base + pos); ) {
    const entry = parseEntry(image, region, pos);
    entries.push(entry);
    pos = alignUp(pos + entry.dataOffset + entry.size, CBFS_ALIGNMENT);
  }
  const last = entries[entries.length - 1];
  const lastEnd = last ? last.offset + last.dataOffset + last.size : region.start;
  const regionEnd = region.base + region.end;
  const pointerKept = region.source === "fmap" && lastEnd <= region.end - 4 && isMasterHeader(image, pointedHeader(image, regionEnd));
  const tail = Math.min(alignUp(lastEnd, CBFS_ALIGNMENT), pointerKept ? region.end - 4 : region.end);
  return { ...region, tail, entries };
}

/** The files (free space left out), in chain order — the order cbfstool print shows. */
export function listFiles(image: Uint8Array): CbfsEntry[] {
  return readCbfs(image).entries.filter((e) => !e.empty);
}

function findFile(cbfs: Cbfs, name: string): number {
  const index = cbfs.entries.findIndex((e) => !e.empty && e.name === name);
  if (index < 0) throw new CbfsError("not-found", `The firmware image has no CBFS file named "${name}"; "bootward cbfs list" shows the names it has.`);
  return index;
}

/**
 * An entry's content: its stored bytes, LZ4-decompressed when it says so. LZMA is refused
 * (a decoder would outweigh its use: bootward writes raw files and reads its own).
 */
export function entryData(image: Uint8Array, cbfs: Cbfs, entry: CbfsEntry): Uint8Array {
  const at = cbfs.base + entry.offset + entry.dataOffset;
  const stored = image.slice(at, at + entry.size);
  if (entry.compression === "none") return stored;
  if (entry.compression !== "lz4" || entry.decompressedSize === null) {
    throw new CbfsError("compressed", `The CBFS file "${entry.name}" is ${entry.compression}-compressed, which bootward does not decompress; extract it with cbfstool.`);
  }
  if (entry.decompressedSize > MAX_DECOMPRESSED) {
    throw new CbfsError("corrupt", `The CBFS file "${entry.name}" claims ${entry.decompressedSize} bytes once decompressed, more than a firmware file can be; the image is damaged.`);
  }
  try {
    return lz4Decompress(stored, entry.decompressedSize);
  } catch (error) {
    if (!(error instanceof Lz4Error)) throw error;
    throw new CbfsError("corrupt", `The CBFS file "${entry.name}" does not decompress (${error.message}); the image is damaged.`);
  }
}

export function extractFile(image: Uint8Array, name: string): Uint8Array {
  const cbfs = readCbfs(image);
  return entryData(image, cbfs, cbfs.entries[findFile(cbfs, name)]!);
}

/** Where an entry's space ends: where the next entry starts, or the chain's tail. */
const spanEnd = (cbfs: Cbfs, index: number) => cbfs.entries[index + 1]?.offset ?? cbfs.tail;

interface Span {
  start: number;
  end: number;
}

/** The free spaces, neighbouring free entries counting as one; `freed` is an entry about to become free. */
function freeSpans(cbfs: Cbfs, freed = -1): Span[] {
  const spans: Span[] = [];
  const free = (i: number) => i === freed || cbfs.entries[i]?.empty === true;
  cbfs.entries.forEach((e, i) => {
    if (!free(i)) return;
    if (i > 0 && free(i - 1)) spans[spans.length - 1]!.end = spanEnd(cbfs, i);
    else spans.push({ start: e.offset, end: spanEnd(cbfs, i) });
  });
  return spans;
}

/** Wipes [start, end) to 0xff and puts there one null entry of `size` data bytes, when its header fits. */
function writeFree(out: Uint8Array, cbfs: Cbfs, start: number, end: number, size = end - start - EMPTY_ENTRY_HEADER): void {
  out.fill(0xff, cbfs.base + start, cbfs.base + end);
  if (size < 0) return;
  writeHeader(out, cbfs.base + start, size, TYPE_NULL, new Uint8Array(0), EMPTY_ENTRY_HEADER);
}

function writeHeader(out: Uint8Array, at: number, size: number, type: number, name: Uint8Array, dataOffset: number): void {
  out.set(FILE_MAGIC, at);
  putBe32(out, at + 8, size);
  putBe32(out, at + 12, type);
  putBe32(out, at + 16, 0);
  putBe32(out, at + 20, dataOffset);
  out.fill(0, at + ENTRY_HEADER, at + dataOffset);
  out.set(name, at + ENTRY_HEADER);
}

function encodeName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || bytes.includes(0)) throw new CbfsError("bad-name", "A CBFS file name must be non-empty and contain no NUL character.");
  if (ENTRY_HEADER + alignUp(bytes.length + 1, 4) > METADATA_MAX) {
    throw new CbfsError("bad-name", `The CBFS file name "${name}" is too long (${bytes.length} bytes; coreboot reads at most ${METADATA_MAX - ENTRY_HEADER - 1}).`);
  }
  return bytes;
}

/**
 * A copy of the image with a new uncompressed file, placed as cbfstool places it: at the start
 * of the first free space it fits in, the rest of that space staying free. Files never move,
 * so every other file, hash and attribute is preserved byte for byte; free entries are
 * rewritten merged, as cbfstool does before it adds or after it removes.
 */
export function addFile(image: Uint8Array, name: string, data: Uint8Array, type: number = CBFS_TYPE_RAW): Uint8Array {
  const nameBytes = encodeName(name);
  if (type === TYPE_NULL || type === TYPE_DELETED) throw new CbfsError("bad-name", "A CBFS file cannot have the free-space types null or deleted.");
  const cbfs = readCbfs(image);
  if (cbfs.entries.some((e) => !e.empty && e.name === name)) {
    throw new CbfsError("exists", `The firmware image already has a CBFS file named "${name}"; remove it first to replace it.`);
  }
  const dataOffset = ENTRY_HEADER + alignUp(nameBytes.length + 1, 4);
  const needed = dataOffset + data.length;
  const spans = freeSpans(cbfs);
  const free = spans.find((f) => f.end - f.start >= needed);
  if (!free) {
    const largest = spans.reduce((most, f) => Math.max(most, f.end - f.start - dataOffset), 0);
    throw new CbfsError("full", `The CBFS has no room for "${name}" (${data.length} bytes; the largest free space holds ${largest}); remove files or use a smaller one.`);
  }
  const out = image.slice();
  for (const span of spans) if (span !== free) writeFree(out, cbfs, span.start, span.end);
  out.fill(0xff, cbfs.base + free.start, cbfs.base + free.end);
  writeHeader(out, cbfs.base + free.start, data.length, type, nameBytes, dataOffset);
  out.set(data, cbfs.base + free.start + dataOffset);
  const rest = alignUp(free.start + needed, CBFS_ALIGNMENT);
  const size = free.end - rest - EMPTY_ENTRY_HEADER;
  if (rest < free.end) writeFree(out, cbfs, rest, free.end, free.end > cbfs.keepBelow ? size - 4 : size);
  return out;
}

/**
 * A copy of the image without the file: its space, merged with free neighbours, becomes one
 * free entry and its bytes are overwritten with 0xff, as cbfstool remove does.
 */
export function removeFile(image: Uint8Array, name: string): Uint8Array {
  const cbfs = readCbfs(image);
  const out = image.slice();
  for (const span of freeSpans(cbfs, findFile(cbfs, name))) writeFree(out, cbfs, span.start, span.end);
  return out;
}
