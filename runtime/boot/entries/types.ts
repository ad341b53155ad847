// The typed form of one bootable entry, whatever configuration file it came from, and the one
// error type the parsers may throw. Paths are relative to the boot partition and start with "/",
// exactly as Heads writes them into kexec_default.N.txt.

/** Where an entry was found: the config file (relative to the boot dir) and its 1-based line. */
export interface EntrySource {
  file: string;
  line: number;
}

export type Loader = "grub" | "syslinux" | "bls" | "heads";

interface EntryCommon {
  /** Menu title; `|` removed and whitespace runs collapsed, as Heads does. */
  name: string;
  /** Path of the kernel (Linux) or of the multiboot image (Xen, tboot…). */
  kernel: string;
  /** Command line of that kernel or hypervisor, words joined by single spaces. */
  args: string;
  /** Titles of the submenus the entry sits in (Heads flattens them; kept for display). */
  submenu: string[];
  loader: Loader;
  source: EntrySource;
}

export interface LinuxEntry extends EntryCommon {
  type: "linux";
  initrds: string[];
}

export interface BootModule {
  path: string;
  args: string;
}

export interface XenEntry extends EntryCommon {
  type: "xen";
  modules: BootModule[];
}

export interface MultibootEntry extends EntryCommon {
  type: "multiboot";
  modules: BootModule[];
}

export type BootEntry = LinuxEntry | XenEntry | MultibootEntry;

export interface ParseResult {
  entries: BootEntry[];
  /** Things skipped or doubtful, one sentence each, naming file and line. */
  warnings: string[];
}

/** A boot configuration that cannot be read safely: the message says where and why. */
export class BootConfigError extends Error {
  override readonly name = "BootConfigError";
  constructor(
    readonly source: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${source} line ${line}: ${reason}` : `${source}: ${reason}`);
  }
}

// Bounds that keep every parser linear and small on hostile input. Real grub.cfg files are
// under 50 KB with nesting depth below 6; these leave a wide margin.
export const LIMITS = {
  /** Characters of one configuration file. */
  maxInput: 1024 * 1024,
  /** Nested blocks (menuentry, submenu, if, function, loops). */
  maxDepth: 32,
  /** Entries produced by one file. */
  maxEntries: 1024,
  /** Characters produced by variable expansion in one file (guards `set a=$a$a` doubling). */
  maxExpansion: 256 * 1024,
  /** Characters of one Heads entry line. */
  maxLine: 64 * 1024,
} as const;
