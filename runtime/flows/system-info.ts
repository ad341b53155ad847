// System Info: what Heads' "s" shows (board, firmware, memory, disks) plus the TPM and the
// PCRs a user compares against a known-good machine.
import type { Sys } from "../host/sys.ts";
import { toHex } from "../../lib/bytes.ts";
import { describeError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { boardName, type FlowContext } from "./context.ts";

export const INFO_PCRS = [0, 1, 2, 3, 4, 5, 6, 7];

/** Binary units, one decimal below 10 (Heads prints GB from /proc/meminfo the same rough way). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function readTrimmed(sys: Sys, path: string): string | null {
  try {
    return sys.stat(path) ? sys.readText(path).trim() : null;
  } catch {
    return null;
  }
}

/** MemTotal from /proc/meminfo ("MemTotal:  1014360 kB"), in bytes; null when absent. */
export function memoryTotal(meminfo: string): number | null {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : null;
}

// Loop, RAM and device-mapper devices are not disks a user has plugged in.
const VIRTUAL_BLOCK = /^(loop|ram|zram|dm-|md|sr|fd)/;

/** Whole disks from /sys/block with their sizes (the size file counts 512-byte sectors). */
export function listDisks(sys: Sys): { name: string; bytes: number }[] {
  const dir = "/sys/block";
  let names: string[];
  try {
    names = sys.stat(dir) ? sys.readdir(dir) : [];
  } catch {
    return [];
  }
  const disks: { name: string; bytes: number }[] = [];
  for (const name of names) {
    if (VIRTUAL_BLOCK.test(name)) continue;
    const sectors = Number(readTrimmed(sys, `${dir}/${name}/size`) ?? "NaN");
    if (!Number.isFinite(sectors) || sectors <= 0) continue;
    disks.push({ name, bytes: sectors * 512 });
  }
  return disks;
}

function firmwareLine(sys: Sys): string {
  const dmi = (field: string) => readTrimmed(sys, `/sys/class/dmi/id/${field}`);
  const vendor = dmi("bios_vendor");
  const version = dmi("bios_version");
  const bios = [vendor, version].filter(Boolean).join(" ");
  return `Firmware: bootward ${VERSION}${bios ? ` (BIOS: ${bios})` : ""}`;
}

/** The System Info text, one fact per line; fits 76 columns (an 80-column console inside a box). */
export async function systemInfoText(ctx: FlowContext): Promise<string> {
  const { sys } = ctx;
  const lines = [`Board: ${boardName(ctx.config)}`, firmwareLine(sys)];
  if (ctx.tpm) {
    try {
      const info = await ctx.tpm.info();
      lines.push(`TPM: ${info.version}, manufacturer ${info.manufacturer}, firmware ${info.firmware}`);
      const bank = ctx.tpm.version === "2.0" ? "sha256" : "sha1";
      lines.push(`PCRs (${bank}):`);
      const values = await ctx.tpm.pcrRead(INFO_PCRS);
      for (const [index, value] of values) lines.push(`PCR ${String(index).padStart(2)}: ${toHex(value)}`);
    } catch (error) {
      lines.push(`TPM: ${describeError(error)}`);
    }
  } else {
    lines.push(`TPM: ${ctx.tpmError ?? "none"}`);
  }
  const disks = listDisks(sys);
  lines.push(`Disks: ${disks.length ? disks.map((d) => `${d.name} ${formatBytes(d.bytes)}`).join(", ") : "none found"}`);
  const meminfo = readTrimmed(sys, "/proc/meminfo");
  const memory = meminfo ? memoryTotal(meminfo) : null;
  lines.push(`Memory: ${memory === null ? "unknown" : formatBytes(memory)}`);
  return lines.join("\n");
}

export async function showSystemInfo(ctx: FlowContext): Promise<void> {
  const text = await systemInfoText(ctx);
  await ctx.ui.prompt.message({ title: "System Info", text });
}
