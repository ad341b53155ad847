// The kexec plan: kexec-tools argv for a verified entry (heads-behaviour.md §5), printed by
// a dry run, executed as load → TPM finalize → `kexec -e`. plan() takes a VerifiedBoot or
// an UnsafeBoot and nothing else; an UnsafeBoot exists only after PCR 4 was extended, so
// secrets sealed to the normal boot path stay sealed for an unverified one.
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import type { BootEntry } from "./entries/index.ts";
import { VerifiedBoot } from "./verified.ts";
import { extendPcr4 } from "../measure/pcr4.ts";

export class KexecError extends Error {
  override readonly name = "KexecError";
}

const unsafeToken: unique symbol = Symbol("UnsafeBoot");

export class UnsafeBoot {
  readonly bootDir: string;
  readonly entries: readonly BootEntry[];
  constructor(key: typeof unsafeToken, bootDir: string, entries: BootEntry[]) {
    if (key !== unsafeToken) throw new Error("an UnsafeBoot is made only by unsafeBoot()");
    this.bootDir = bootDir;
    this.entries = Object.freeze(entries.slice());
    Object.freeze(this);
  }
}

/** "Ignore tampering and force a boot": refused in restricted mode; extends PCR 4 first. */
export async function unsafeBoot(tpm: Tpm | null, config: { restricted: boolean }, bootDir: string, entries: BootEntry[]): Promise<UnsafeBoot> {
  if (config.restricted) throw new KexecError("booting without verification is refused: CONFIG_RESTRICTED_BOOT=y");
  if (tpm) await extendPcr4(tpm, "unsafe");
  return new UnsafeBoot(unsafeToken, bootDir, entries);
}

export interface CmdlineRules {
  /** CONFIG_BOOT_KERNEL_ADD words. */
  add?: string;
  /** CONFIG_BOOT_KERNEL_REMOVE words. */
  remove?: string;
  /** kexec_file_load (`kexec -s`) instead of `kexec -l`. */
  fileLoad?: boolean;
}

const FORCED_ADD = "vt.default_red=0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff";
const FORCED_REMOVE = "splash quiet";
// Heads forces its own value for these (ISO boot); a value from /boot must not override it.
const SINGLE = new Set(["iso-scan/filename", "findiso", "img_dev", "img_loop", "iso", "live-media"]);
const MAX_CMDLINE = 2047;

const words = (s: string | undefined) => (s ?? "").split(/\s+/).filter((w) => w !== "");
const key = (w: string) => (w.includes("=") ? w.slice(0, w.indexOf("=")) : w);

/** Heads' _build_final_cmdline: drop `---` and REMOVE words, then append ADD words not already there. */
export function buildCmdline(args: string, add: string[], remove: string[]): string {
  const drop = new Set(remove);
  const addKeys = new Set(add.filter((w) => SINGLE.has(key(w))).map(key));
  const kept = words(args).filter((w) => w !== "---" && !drop.has(w) && !addKeys.has(key(w)));
  for (const w of add) if (!kept.includes(w)) kept.push(w);
  return kept.join(" ");
}

export interface KexecPlan {
  entry: BootEntry;
  unsafe: boolean;
  /** The `kexec -l|-s …` argv. */
  load: string[];
  exec: string[];
  warnings: string[];
}

/** Plan the boot of menu entry `index` (1-based), or of the signed default without it. */
export function plan(boot: VerifiedBoot | UnsafeBoot, rules: CmdlineRules = {}, index?: number): KexecPlan {
  const unsafe = boot instanceof UnsafeBoot;
  if (!unsafe && !(boot instanceof VerifiedBoot)) throw new KexecError("kexec needs a verified /boot");
  let entry: BootEntry | undefined;
  if (index !== undefined) entry = boot.entries[index - 1];
  else if (!unsafe) entry = (boot as VerifiedBoot).defaultChoice?.entry;
  if (!entry) throw new KexecError(index !== undefined ? `there is no boot entry ${index} (the menu has ${boot.entries.length})` : "no default entry was signed; choose an entry");
  const add = [...words(rules.add), ...(unsafe ? [FORCED_ADD] : [])];
  const remove = [...words(rules.remove), ...(unsafe ? words(FORCED_REMOVE) : [])];
  const file = (p: string) => `${boot.bootDir}${p}`;
  const warnings: string[] = [];
  const load = ["kexec", rules.fileLoad ? "-s" : "-l"];
  if (entry.type === "linux") {
    const cmdline = buildCmdline(entry.args, add, remove);
    if (cmdline.length > MAX_CMDLINE) warnings.push(`the kernel command line is ${cmdline.length} bytes, more than the ${MAX_CMDLINE} most kernels accept`);
    if (entry.initrds.length > 1) throw new KexecError(`entry "${entry.name}" has ${entry.initrds.length} initrds; kexec takes one (concatenate them first)`);
    load.push(file(entry.kernel));
    if (entry.initrds[0]) load.push(`--initrd=${file(entry.initrds[0])}`);
    load.push(`--append=${cmdline}`);
  } else {
    if (rules.fileLoad) throw new KexecError("multiboot images cannot be loaded with kexec_file_load (-s)");
    load.push(file(entry.kernel), `--command-line=${[...words(entry.args), "no-real-mode", "reboot=no", "vga=current"].join(" ")}`);
    entry.modules.forEach((m, i) => {
      const args = i === 0 && entry.type === "xen" ? buildCmdline(m.args, add, remove) : m.args;
      load.push(`--module=${args === "" ? file(m.path) : `${file(m.path)} ${args}`}`);
    });
  }
  return { entry, unsafe, load, exec: ["kexec", "-e"], warnings };
}

export function describePlan(p: KexecPlan): string {
  const quote = (a: string) => (/^[A-Za-z0-9_./=:,+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return [`${p.unsafe ? "UNSAFE (unverified) " : ""}boot: ${p.entry.name}`, `load: ${p.load.map(quote).join(" ")}`, `then: TPM finalize; ${p.exec.join(" ")}`, ...p.warnings.map((w) => `warning: ${w}`)].join("\n");
}

/** Load, finalize the TPM, jump. Returns only when something failed. */
export async function executePlan(sys: Sys, p: KexecPlan, tpm: Tpm | null): Promise<never> {
  const loaded = await sys.exec(p.load);
  if (loaded.status !== 0) throw new KexecError(`kexec could not load ${p.entry.kernel} (status ${loaded.status}): ${new TextDecoder().decode(loaded.stderr).trim()}`);
  if (tpm) await tpm.finalize();
  const jumped = await sys.exec(p.exec, { inheritStdio: true });
  throw new KexecError(`kexec -e returned (status ${jumped.status}); the loaded kernel did not start`);
}
