// The TCG PC Client event log as Linux exposes it in
// /sys/kernel/security/tpm0/binary_bios_measurements: the crypto-agile format (a SHA-1
// style header event carrying "Spec ID Event03", then TCG_PCR_EVENT2 records) or the
// older SHA-1-only format of TPM 1.2 firmware. All fields are little-endian.
import { TpmFormatError } from "../errors.ts";
import { ALG } from "../tpm2/constants.ts";
import { Reader } from "../wire.ts";

export const EV_NO_ACTION = 0x3;

const EVENT_TYPES: Record<number, string> = {
  0x0: "EV_PREBOOT_CERT",
  0x1: "EV_POST_CODE",
  0x2: "EV_UNUSED",
  0x3: "EV_NO_ACTION",
  0x4: "EV_SEPARATOR",
  0x5: "EV_ACTION",
  0x6: "EV_EVENT_TAG",
  0x7: "EV_S_CRTM_CONTENTS",
  0x8: "EV_S_CRTM_VERSION",
  0x9: "EV_CPU_MICROCODE",
  0xa: "EV_PLATFORM_CONFIG_FLAGS",
  0xb: "EV_TABLE_OF_DEVICES",
  0xc: "EV_COMPACT_HASH",
  0xd: "EV_IPL",
  0xe: "EV_IPL_PARTITION_DATA",
  0xf: "EV_NONHOST_CODE",
  0x10: "EV_NONHOST_CONFIG",
  0x11: "EV_NONHOST_INFO",
  0x12: "EV_OMIT_BOOT_DEVICE_EVENTS",
  0x80000001: "EV_EFI_VARIABLE_DRIVER_CONFIG",
  0x80000002: "EV_EFI_VARIABLE_BOOT",
  0x80000003: "EV_EFI_BOOT_SERVICES_APPLICATION",
  0x80000004: "EV_EFI_BOOT_SERVICES_DRIVER",
  0x80000005: "EV_EFI_RUNTIME_SERVICES_DRIVER",
  0x80000006: "EV_EFI_GPT_EVENT",
  0x80000007: "EV_EFI_ACTION",
  0x80000008: "EV_EFI_PLATFORM_FIRMWARE_BLOB",
  0x80000009: "EV_EFI_HANDOFF_TABLES",
  0x800000e0: "EV_EFI_VARIABLE_AUTHORITY",
};

export function eventTypeName(type: number): string {
  return EVENT_TYPES[type] ?? `EV_0x${type.toString(16)}`;
}

export interface LogEvent {
  /** Position in the log, from 0 (the header event included). */
  seq: number;
  pcr: number;
  type: number;
  typeName: string;
  /** Digests by TPM algorithm id (ALG.SHA1 = 4, ALG.SHA256 = 11). */
  digests: Map<number, Uint8Array>;
  data: Uint8Array;
}

export interface EventLog {
  format: "crypto-agile" | "sha1";
  /** Algorithm id → digest size, from the Spec ID event (SHA-1 only for the old format). */
  algorithms: Map<number, number>;
  events: LogEvent[];
  /** Locality the firmware started in (StartupLocality event), which seeds PCR 0. */
  startupLocality: number;
}

const SPEC_ID = "Spec ID Event03";
const MAX_EVENTS = 100_000;
const MAX_EVENT_DATA = 16 * 1024 * 1024;

export function parseEventLog(bytes: Uint8Array): EventLog {
  const r = new Reader(bytes, "event log");
  const header = readSha1Event(r, 0);
  const events: LogEvent[] = [header];
  const agile = header.type === EV_NO_ACTION && startsWith(header.data, SPEC_ID);
  const algorithms = agile ? parseSpecId(header.data) : new Map([[ALG.SHA1 as number, 20]]);
  let startupLocality = 0;
  while (r.remaining > 0) {
    if (events.length >= MAX_EVENTS) throw new TpmFormatError(`event log has more than ${MAX_EVENTS} events`);
    if (allZero(bytes, r.offset)) break; // firmware areas are padded with zeros after the last event
    const e = agile ? readEvent2(r, events.length, algorithms) : readSha1Event(r, events.length);
    if (e.type === EV_NO_ACTION && e.pcr === 0 && startsWith(e.data, "StartupLocality")) {
      if (e.data.length < 17) throw new TpmFormatError("StartupLocality event is too short");
      startupLocality = e.data[16]!;
    }
    events.push(e);
  }
  return { format: agile ? "crypto-agile" : "sha1", algorithms, events, startupLocality };
}

function readSha1Event(r: Reader, seq: number): LogEvent {
  const pcr = r.u32le();
  const type = r.u32le();
  const digest = r.bytes(20);
  const data = readData(r);
  checkPcr(pcr, seq, type);
  return { seq, pcr, type, typeName: eventTypeName(type), digests: new Map([[ALG.SHA1, digest]]), data };
}

function readEvent2(r: Reader, seq: number, algorithms: Map<number, number>): LogEvent {
  const pcr = r.u32le();
  const type = r.u32le();
  const count = r.u32le();
  if (count > algorithms.size) throw new TpmFormatError(`event ${seq} carries ${count} digests, the log declares ${algorithms.size} algorithms`);
  const digests = new Map<number, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const alg = r.u16le();
    const size = algorithms.get(alg);
    if (size === undefined) throw new TpmFormatError(`event ${seq} uses algorithm 0x${alg.toString(16)} that the log does not declare`);
    digests.set(alg, r.bytes(size));
  }
  const data = readData(r);
  checkPcr(pcr, seq, type);
  return { seq, pcr, type, typeName: eventTypeName(type), digests, data };
}

function readData(r: Reader): Uint8Array {
  const size = r.u32le();
  if (size > MAX_EVENT_DATA || size > r.remaining) throw new TpmFormatError(`event data of ${size} bytes runs past the end of the log`);
  return r.bytes(size);
}

function checkPcr(pcr: number, seq: number, type: number): void {
  // EV_NO_ACTION records are never extended; some firmware logs them against PCR -1.
  if (pcr > 23 && type !== EV_NO_ACTION) throw new TpmFormatError(`event ${seq} names PCR ${pcr}`);
}

function parseSpecId(data: Uint8Array): Map<number, number> {
  const r = new Reader(data, "Spec ID event");
  r.bytes(16);
  r.u32le(); // platform class
  r.u8(); // spec version minor
  r.u8(); // major
  r.u8(); // errata
  r.u8(); // uintn size
  const n = r.u32le();
  if (n === 0 || n > 16) throw new TpmFormatError(`Spec ID event declares ${n} algorithms`);
  const algorithms = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const alg = r.u16le();
    const size = r.u16le();
    if (size === 0 || size > 64) throw new TpmFormatError(`Spec ID event declares a ${size}-byte digest for algorithm 0x${alg.toString(16)}`);
    algorithms.set(alg, size);
  }
  const vendor = r.u8();
  r.bytes(vendor);
  return algorithms;
}

function startsWith(data: Uint8Array, text: string): boolean {
  if (data.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (data[i] !== text.charCodeAt(i)) return false;
  return true;
}

function allZero(b: Uint8Array, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** What an operator wants to see of an event's data: its text when it is text, else its size. */
export function describeEventData(e: LogEvent): string {
  const d = e.data;
  let end = d.length;
  while (end > 0 && d[end - 1] === 0) end--;
  let text = "";
  for (let i = 0; i < end; i++) {
    const c = d[i]!;
    if (c < 0x20 || c > 0x7e) return `${d.length} bytes`;
    text += String.fromCharCode(c);
  }
  return end === 0 ? `${d.length} bytes` : JSON.stringify(text);
}
