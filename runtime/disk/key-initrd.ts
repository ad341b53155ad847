// The OS initrd that carries the disk unlock key, as Heads' kexec-insert-key builds it: a
// copy of the OS initrd padded with zeros to a 512-byte boundary (the kernel reads appended
// archives only from there, and dracut does not pad its last one), then a newc cpio holding
// /secret.key (0400) and the crypttab lines that point the OS's cryptsetup at it. The kernel
// unpacks both archives into one rootfs, so these files override the OS initrd's own.
import type { Sys } from "../host/sys.ts";
import { writeCpio, type CpioEntry } from "../../lib/cpio.ts";
import { osInitrdFiles } from "./os-initrd.ts";

export class KeyInitrdError extends Error {
  override readonly name = "KeyInitrdError";
}

export interface KeyDevice {
  device: string;
  /** The LUKS UUID, lowercase. */
  uuid: string;
}

/** One line of kexec_initrd_crypttab_overrides.txt: a crypttab inside the OS initrd and the line to put there. */
export interface CrypttabOverride {
  path: string;
  line: string;
}

export const KEY_FILE = "secret.key";
// Where Debian's (etc/crypttab) and older cryptroot hooks (cryptroot/crypttab) look.
const DEFAULT_CRYPTTABS = ["etc/crypttab", "cryptroot/crypttab"];

/** Heads' default when the OS initrd held no crypttab to override: one line per device, in both places. */
export function defaultOverrides(devices: KeyDevice[]): CrypttabOverride[] {
  return DEFAULT_CRYPTTABS.flatMap((path) => devices.map((d) => ({ path, line: `luks-${d.uuid} UUID=${d.uuid} /${KEY_FILE} luks,discard` })));
}

/** The overrides /boot's kexec_initrd_crypttab_overrides.txt gives, or Heads' generic lines when it is absent or empty. */
export function overridesFor(text: string | undefined, devices: KeyDevice[]): CrypttabOverride[] {
  return text !== undefined && text.trim() !== "" ? parseOverrides(text) : defaultOverrides(devices);
}

/** Reads kexec_initrd_crypttab_overrides.txt: `<path>:<line>` per line (the line may hold colons; Heads takes the last field). */
export function parseOverrides(text: string): CrypttabOverride[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      const colon = l.indexOf(":");
      const path = l.slice(0, colon).replace(/^\/+/, "");
      const line = l.slice(l.lastIndexOf(":") + 1);
      if (colon <= 0 || path === "" || path.split("/").some((p) => p === ".." || p === "") || line.trim() === "") {
        throw new KeyInitrdError(`kexec_initrd_crypttab_overrides.txt line ${i + 1} is not "<crypttab path>:<crypttab line>"`);
      }
      return { path, line };
    });
}

/**
 * kexec-save-default's overrides, from the OS initrd of the default entry: for each crypttab
 * it carries (any file whose path holds "crypttab", as Heads finds them), its entries with no
 * key file ("none", "-" or absent) pointed at /secret.key and the rest kept, so the OS opens
 * its volumes under the names its root= and fstab expect. Empty when it has none (the boot
 * then writes Heads' generic lines).
 */
export async function initrdCrypttabOverrides(sys: Sys, osInitrd: string): Promise<CrypttabOverride[]> {
  const found = await osInitrdFiles(sys, osInitrd, (path) => path.includes("crypttab"));
  const overrides: CrypttabOverride[] = [];
  for (const file of [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    for (const raw of new TextDecoder().decode(file.data).split("\n")) {
      const fields = raw.trim().split(/\s+/);
      if (fields[0] === "" || fields[0]!.startsWith("#")) continue;
      if (fields.length < 2) throw new KeyInitrdError(`${file.path} in the OS initrd ${osInitrd} has an entry without a device ("${raw.trim()}"); fix the OS's crypttab and rebuild its initrd.`);
      const keyFile = fields[2];
      if (keyFile === undefined || keyFile === "none" || keyFile === "-") fields[2] = `/${KEY_FILE}`;
      const line = fields.join(" ");
      // Heads' file separates path and line with the last colon: a colon in the line cannot be written.
      if (line.includes(":")) throw new KeyInitrdError(`${file.path} in the OS initrd ${osInitrd} has an entry with a colon ("${line}"), which kexec_initrd_crypttab_overrides.txt cannot hold; use a crypttab entry without one.`);
      overrides.push({ path: file.path, line });
    }
  }
  return overrides;
}

/** kexec_initrd_crypttab_overrides.txt as Heads writes it: `/<crypttab path>:<line>` per line. */
export function formatOverrides(overrides: CrypttabOverride[]): string {
  return overrides.map((o) => `/${o.path}:${o.line}\n`).join("");
}

/** The cpio appended to the OS initrd: the key and each crypttab, its lines in order. */
export function keyCpio(key: Uint8Array, overrides: CrypttabOverride[]): Uint8Array {
  const files = new Map<string, string>();
  for (const o of overrides) files.set(o.path, `${files.get(o.path) ?? ""}${o.line}\n`);
  const dirs = new Set<string>();
  for (const path of files.keys()) {
    const parts = path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  const entries: CpioEntry[] = [
    ...[...dirs].sort().map((path): CpioEntry => ({ type: "dir", path, mode: 0o755 })),
    { type: "file", path: KEY_FILE, mode: 0o400, data: key },
    ...[...files].map(([path, text]): CpioEntry => ({ type: "file", path, mode: 0o644, data: new TextEncoder().encode(text) })),
  ];
  return writeCpio(entries);
}

/**
 * Writes `target` (in tmpfs under /tmp/secret, wiped after kexec loads it): the OS initrd
 * copied with cp (never read whole into memory), zero-padded to 512 bytes, then the key cpio.
 */
export async function buildKeyInitrd(sys: Sys, osInitrd: string, target: string, key: Uint8Array, overrides: CrypttabOverride[]): Promise<void> {
  const size = sys.stat(osInitrd)?.size;
  if (size === undefined) throw new KeyInitrdError(`the OS initrd ${osInitrd} is not there`);
  const copied = await sys.exec(["cp", sys.hostPath(osInitrd), sys.hostPath(target)]);
  if (copied.status !== 0) throw new KeyInitrdError(`the OS initrd could not be copied to ${target} (${new TextDecoder().decode(copied.stderr).trim() || `status ${copied.status}`})`);
  const cpio = keyCpio(key, overrides);
  const pad = (512 - (size % 512)) % 512;
  const tail = new Uint8Array(pad + cpio.length);
  tail.set(cpio, pad);
  sys.appendFile(target, tail);
  tail.fill(0);
  cpio.fill(0);
}
