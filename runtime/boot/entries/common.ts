// Helpers every parser shares: Heads' path fix-up, the checks that keep an entry from leaving
// the boot partition or smuggling control bytes, and the final shaping of an entry.
import { BootConfigError, LIMITS, type BootEntry, type BootModule, type EntrySource, type Loader } from "./types.ts";

/** Heads' final `echo $(…)` joins the words of the line with single spaces: do the same. */
export function collapse(text: string): string {
  return text.split(/[ \t\n]+/).filter((w) => w !== "").join(" ");
}

/** Menu title as Heads keeps it: no `|` (the field separator), no control bytes. */
export function cleanName(name: string): string {
  return collapse(name.replace(/\|/g, "").replace(/[\x00-\x1f\x7f]/g, " "));
}

/** `(hd0,gpt2)/vmlinuz` and `($root)/vmlinuz` name a device GRUB picks; Heads boots from /boot. */
export function stripDevice(path: string): string {
  if (path.charAt(0) !== "(") return path;
  const close = path.indexOf(")");
  return close < 0 ? path : path.slice(close + 1);
}

/** The config file's folder relative to the boot dir: "/grub/grub.cfg" → "/grub", "/x.cfg" → "". */
export function configDir(file: string): string {
  const slash = file.lastIndexOf("/");
  return slash <= 0 ? "" : file.slice(0, slash);
}

/** Heads resolves a relative path against the config file's folder (fix_path). */
export function fixPath(path: string, dir: string): string {
  return path.charAt(0) === "/" ? path : `${dir}/${path}`;
}

/**
 * Why a path cannot be used, or null. `..` is allowed only while it stays inside the boot
 * partition ("/isolinux/../vmlinuz" is fine, "/../etc/shadow" is not): the path is kept as
 * written, like Heads, and the file layer must still refuse symlinks that leave /boot.
 */
export function pathProblem(path: string): string | null {
  if (path === "" || path === "/") return "an empty path";
  if (path.charAt(0) !== "/") return `a relative path "${path}"`;
  if (/[\x00-\x1f\x7f|]/.test(path)) return "a path with a control character or '|'";
  let depth = 0;
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      depth -= 1;
      if (depth < 0) return `a path that leaves the boot partition "${path}"`;
    } else depth += 1;
  }
  return null;
}

/**
 * Collapses whitespace of a command line; null when it holds bytes that cannot go on the line.
 * With `keepTrailing`, a trailing space survives as one space (" " alone if nothing else):
 * Heads leaves it before the next `|` of a Xen line, and byte-compatibility needs it.
 */
export function cleanArgs(args: string, keepTrailing = false): string | null {
  if (/[\x00-\x08\x0b-\x1f\x7f|]/.test(args)) return null;
  const trailing = keepTrailing && /[ \t\n]$/.test(args) ? " " : "";
  const words = collapse(args);
  return words === "" ? trailing : words + trailing;
}

/** What a parser collected for one entry before checking it. */
export interface Draft {
  name: string;
  submenu: string[];
  source: EntrySource;
  loader: Loader;
  type: "linux" | "xen" | "multiboot";
  kernel: string;
  args: string;
  initrds: string[];
  modules: BootModule[];
}

/** Checks a draft and turns it into an entry, or explains in a warning why it was dropped. */
export function finishEntry(d: Draft, warnings: string[]): BootEntry | null {
  const where = `${d.source.file} line ${d.source.line}`;
  const name = cleanName(d.name);
  const drop = (why: string) => {
    warnings.push(`${where}: entry "${name}" skipped: ${why}.`);
    return null;
  };
  for (const path of [d.kernel, ...d.initrds, ...d.modules.map((m) => m.path)]) {
    const problem = pathProblem(path);
    if (problem) return drop(`it names ${problem}`);
  }
  const size = name.length + d.kernel.length + d.args.length +
    [...d.initrds, ...d.modules.map((m) => m.path + m.args)].reduce((sum, p) => sum + p.length + 10, 0);
  if (size > LIMITS.maxLine - 64) return drop("its entry line would be longer than any real boot entry");
  const args = cleanArgs(d.args, d.type !== "linux");
  if (args === null) return drop("its command line holds a control character or '|'");
  const common = { name, kernel: d.kernel, args, submenu: d.submenu, loader: d.loader, source: d.source };
  if (d.type === "linux") return { type: "linux", ...common, initrds: d.initrds };
  const modules: BootModule[] = [];
  for (const m of d.modules) {
    const margs = cleanArgs(m.args, true);
    if (margs === null) return drop("a module command line holds a control character or '|'");
    modules.push({ path: m.path, args: margs });
  }
  return { type: d.type, ...common, modules };
}

/** A multiboot image named xen* is a Xen hypervisor; anything else (tboot…) stays generic. */
export function multibootType(kernel: string): "xen" | "multiboot" {
  const base = kernel.slice(kernel.lastIndexOf("/") + 1);
  return /^xen/i.test(base) ? "xen" : "multiboot";
}

export function checkSize(text: string, source: string): void {
  if (text.length > LIMITS.maxInput) {
    throw new BootConfigError(source, 0, `the file is larger than ${LIMITS.maxInput} characters, so it is not a boot configuration bootward will read`);
  }
}

export function pushEntry(list: BootEntry[], entry: BootEntry | null, source: string, line: number): void {
  if (!entry) return;
  if (list.length >= LIMITS.maxEntries) {
    throw new BootConfigError(source, line, `more than ${LIMITS.maxEntries} boot entries, which no real configuration has`);
  }
  list.push(entry);
}
