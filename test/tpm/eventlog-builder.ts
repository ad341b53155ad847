// Builds TCG PC Client event logs byte by byte from the spec layout (PC Client Platform
// Firmware Profile, 10.2 and 10.4): the fixture until a log captured from the QEMU board
// replaces it, and the seed corpus of the fuzz tests.
import { createHash } from "node:crypto";

export interface BuiltEvent {
  pcr: number;
  type: number;
  data: Uint8Array;
}

const le32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const le16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
export const digest = (alg: "sha1" | "sha256", data: Uint8Array) => new Uint8Array(createHash(alg).update(data).digest());

/** A crypto-agile log with SHA-1 and SHA-256 digests of each event's data. */
export function buildAgileLog(events: BuiltEvent[], options: { startupLocality?: number; padding?: number } = {}): Uint8Array {
  const spec = Buffer.concat([
    Buffer.from("Spec ID Event03\0", "latin1"),
    le32(0), // platform class: client
    Buffer.of(0, 2, 0, 2), // version 2.0, errata 0, uintn size 2 (64-bit)
    le32(2),
    le16(0x0004), le16(20),
    le16(0x000b), le16(32),
    Buffer.of(0), // no vendor info
  ]);
  const parts: Uint8Array[] = [le32(0), le32(3), Buffer.alloc(20), le32(spec.length), spec];
  const all: BuiltEvent[] = [];
  if (options.startupLocality !== undefined)
    all.push({ pcr: 0, type: 3, data: Buffer.concat([Buffer.from("StartupLocality\0", "latin1"), Buffer.of(options.startupLocality)]) });
  all.push(...events);
  for (const e of all) {
    const isNoAction = e.type === 3;
    parts.push(le32(e.pcr), le32(e.type), le32(2));
    parts.push(le16(0x0004), isNoAction ? Buffer.alloc(20) : digest("sha1", e.data));
    parts.push(le16(0x000b), isNoAction ? Buffer.alloc(32) : digest("sha256", e.data));
    parts.push(le32(e.data.length), e.data);
  }
  parts.push(Buffer.alloc(options.padding ?? 0));
  return new Uint8Array(Buffer.concat(parts));
}

/** The SHA-1-only log of TPM 1.2 firmware. */
export function buildSha1Log(events: BuiltEvent[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of events) parts.push(le32(e.pcr), le32(e.type), digest("sha1", e.data), le32(e.data.length), e.data);
  return new Uint8Array(Buffer.concat(parts));
}

const text = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

/** What SeaBIOS-like firmware measures on a PC: CRTM version, option ROMs, separators, the boot attempt. */
export const FIRMWARE_EVENTS: BuiltEvent[] = [
  { pcr: 0, type: 0x8, data: text("SeaBIOS") },
  { pcr: 0, type: 0x1, data: text("ROM image bytes stand-in") },
  { pcr: 1, type: 0xa, data: text("SMBIOS table stand-in") },
  { pcr: 2, type: 0x7, data: text("option ROM stand-in") },
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((pcr) => ({ pcr, type: 0x4, data: new Uint8Array(4) })),
  { pcr: 4, type: 0x5, data: text("Calling INT 19h") },
  { pcr: 4, type: 0x5, data: text("Booting BCV device 80h (HDD)") },
  { pcr: 4, type: 0xd, data: text("MBR bytes stand-in") },
  { pcr: 5, type: 0xe, data: text("partition table stand-in") },
];
