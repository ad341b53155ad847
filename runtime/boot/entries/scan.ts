// A whole boot partition's configuration → entries, in Heads' scan order: every GRUB or
// syslinux configuration outside EFI folders (named grub.cfg on a disk, any *.cfg on USB
// media or an ISO), then — only if none of them gave an entry — the BLS entries in
// loader/entries. The caller reads the files (through Sys) and passes their text with paths
// relative to the boot dir ("/grub/grub.cfg"); nothing here touches the filesystem.
//
// Order is deterministic where Heads follows `find`'s directory order: configuration files
// by path, BLS files newest version first (as GRUB's blscfg shows them). A file that cannot
// be parsed becomes a warning while other files still give entries; when nothing gives an
// entry, the first such error is thrown so the caller can say why there is nothing to boot.
import { blsVariables, parseBls } from "./bls.ts";
import { parseGrub, type ParseOptions } from "./grub.ts";
import { parseSyslinux } from "./syslinux.ts";
import { BootConfigError, type BootEntry, type ParseResult } from "./types.ts";

export interface BootFile {
  /** Relative to the boot dir, starting with "/". */
  path: string;
  text: string;
}

export interface ScanOptions extends ParseOptions {
  /** USB media or ISO: every *.cfg is a candidate (Heads' media scan), not only grub.cfg. */
  media?: boolean;
}

const BLS_DIRS = ["/loader/entries/", "/boot/loader/entries/"];

/** GRUB when the file is a grub.cfg/loopback.cfg or has GRUB menu syntax, syslinux otherwise. */
export function parseBootConfig(text: string, source: string, options: ParseOptions = {}): ParseResult {
  const base = baseName(source).toLowerCase();
  const grub = base === "grub.cfg" || base === "loopback.cfg" || /^[ \t]*(menuentry|submenu)[ \t]/m.test(text);
  return grub ? parseGrub(text, source, options) : parseSyslinux(text, source, options);
}

export function scanBootEntries(files: BootFile[], options: ScanOptions = {}): ParseResult {
  const entries: BootEntry[] = [];
  const warnings: string[] = [];
  const errors: BootConfigError[] = [];
  const run = (parse: () => ParseResult) => {
    try {
      const result = parse();
      entries.push(...result.entries);
      warnings.push(...result.warnings);
    } catch (error) {
      if (!(error instanceof BootConfigError)) throw error;
      errors.push(error);
      warnings.push(`${error.message}; the file was skipped.`);
    }
  };

  const usable = files.filter((f) => f.path.charAt(0) === "/" && !/[\x00-\x1f]/.test(f.path));
  const configs = usable
    .filter((f) => (options.media ? /\.cfg$/i.test(f.path) : baseName(f.path) === "grub.cfg"))
    .filter((f) => !dirParts(f.path).some((d) => /efi/i.test(d)))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of configs) run(() => parseBootConfig(f.text, f.path, options));

  if (entries.length === 0) {
    const bls = usable
      .filter((f) => BLS_DIRS.some((d) => f.path.startsWith(d) && f.path.indexOf("/", d.length) < 0))
      .filter((f) => f.path.endsWith(".conf"))
      .sort((a, b) => compareVersions(baseName(b.path), baseName(a.path)));
    if (bls.length > 0) {
      const grubCfg = configs.find((f) => baseName(f.path) === "grub.cfg");
      const envPath = grubCfg ? `${grubCfg.path.slice(0, grubCfg.path.lastIndexOf("/"))}/grubenv` : null;
      const grubenv = usable.find((f) => f.path === envPath) ?? usable.find((f) => baseName(f.path) === "grubenv");
      let vars = new Map<string, string>();
      run(() => {
        vars = blsVariables(grubenv?.text, grubCfg ? { text: grubCfg.text, source: grubCfg.path } : undefined);
        return { entries: [], warnings: [] };
      });
      for (const f of bls) run(() => parseBls(f.text, f.path, vars, options));
    }
  }

  if (entries.length === 0 && errors.length > 0) throw errors[0]!;
  return { entries, warnings };
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function dirParts(path: string): string[] {
  return path.split("/").slice(0, -1);
}

/** Natural order: digit runs compare as numbers, so 6.8.10 sorts after 6.8.9. */
export function compareVersions(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = split(a);
  const y = split(b);
  for (let k = 0; k < Math.min(x.length, y.length); k += 1) {
    const p = x[k]!;
    const q = y[k]!;
    if (p === q) continue;
    const pn = /^\d/.test(p);
    const qn = /^\d/.test(q);
    if (pn && qn) {
      const diff = p.replace(/^0+/, "").length - q.replace(/^0+/, "").length;
      if (diff !== 0) return diff;
      const r = p.replace(/^0+/, "");
      const s = q.replace(/^0+/, "");
      if (r !== s) return r < s ? -1 : 1;
      continue;
    }
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}
