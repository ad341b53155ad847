// The kexec plan: kexec-tools argv for a verified entry (heads-behaviour.md §5), printed by
// a dry run, executed as copy and check → PCR 4 → load → wipe → TPM finalize → `kexec -e`.
// plan() takes a VerifiedBoot or an UnsafeBoot and nothing else, and executePlan() only a
// plan that plan() made: each is checked by identity (WeakSet), which no object built
// elsewhere passes, however it is shaped. An UnsafeBoot exists only after PCR 4 was
// extended, so secrets sealed to the normal boot path stay sealed for an unverified one.
//
// A verified entry boots from copies: each file the entry names is resolved inside /boot to
// a regular file the signed kexec_hashes.txt covers, copied to tmpfs, and the copy is hashed
// again; kexec loads the copy only when its digest is the signed one. So what runs is the
// signed bytes even if /boot changed while the user sat at the menu.
import type { Sys } from "../../host/sys.ts";
import type { Tpm } from "../../../tpm/index.ts";
import type { BootEntry } from "../entries/index.ts";
import { isVerifiedBoot, type VerifiedBoot } from "../integrity/verified.ts";
import { extendPcr4 } from "../../measure/pcr4.ts";
import { resolveInBoot } from "../integrity/resolve.ts";
import { entryFiles } from "../integrity/hashes.ts";
import { FileHashError, sha256Files } from "../integrity/file-hashes.ts";
import { describeError } from "../../errors.ts";
import { removeTree } from "../../platform/tree.ts";

export class KexecError extends Error {
  override readonly name = "KexecError";
  /** True once PCR 4 moved for this boot: no TOTP/HOTP code can be shown until a reboot. */
  constructor(message: string, readonly pcr4Extended = false) {
    super(message);
  }
}

const unsafeToken: unique symbol = Symbol("UnsafeBoot");
const genuineUnsafe = new WeakSet<object>();

export class UnsafeBoot {
  readonly bootDir: string;
  readonly entries: readonly BootEntry[];
  constructor(key: typeof unsafeToken, bootDir: string, entries: BootEntry[]) {
    if (key !== unsafeToken) throw new Error("an UnsafeBoot is made only by unsafeBoot()");
    this.bootDir = bootDir;
    this.entries = Object.freeze(entries.slice());
    Object.freeze(this);
    genuineUnsafe.add(this);
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

/** A file of a verified entry: where it is read, which signed digest its copy must have, where the copy goes. */
export interface StagedFile {
  /** As the entry names it, "./vmlinuz". */
  named: string;
  /** The regular file the name leads to inside /boot. */
  resolved: string;
  digest: string;
  /** The copy kexec loads. */
  copy: string;
}

export interface KexecPlan {
  readonly entry: BootEntry;
  readonly unsafe: boolean;
  /** The `kexec -l|-s …` argv. */
  readonly load: readonly string[];
  readonly exec: readonly string[];
  readonly warnings: readonly string[];
  /** Empty for an unsafe boot, which loads /boot as it is. */
  readonly staged: readonly StagedFile[];
  readonly stageDir: string;
  readonly bootDir: string;
}

const plans = new WeakSet<object>();

/** Where verified copies of the files to boot are kept (tmpfs in the initramfs). */
export const STAGE_DIR = "/tmp/kexec-boot";

/**
 * Plan the boot of menu entry `index` (1-based), or of the signed default without it.
 * For a verified boot every file is resolved and checked against the signed list here,
 * so a dry run refuses what a real boot would refuse.
 */
export function plan(sys: Sys, boot: VerifiedBoot | UnsafeBoot, rules: CmdlineRules = {}, index?: number, stageDir = STAGE_DIR): KexecPlan {
  const unsafe = genuineUnsafe.has(boot);
  if (!unsafe && !isVerifiedBoot(boot)) throw new KexecError("kexec needs a verified /boot");
  let entry: BootEntry | undefined;
  if (index !== undefined) entry = boot.entries[index - 1];
  else if (!unsafe) entry = (boot as VerifiedBoot).defaultChoice?.entry;
  if (!entry) throw new KexecError(index !== undefined ? `there is no boot entry ${index} (the menu has ${boot.entries.length})` : "no default entry was signed; choose an entry");
  const staged = unsafe ? [] : stageList(sys, boot as VerifiedBoot, entry, stageDir);
  const copyOf = new Map(staged.map((f) => [f.named, f.copy]));
  const add = [...words(rules.add), ...(unsafe ? [FORCED_ADD] : [])];
  const remove = [...words(rules.remove), ...(unsafe ? words(FORCED_REMOVE) : [])];
  const file = (p: string) => copyOf.get(`.${p}`) ?? `${boot.bootDir}${p}`;
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
  const made: KexecPlan = Object.freeze({
    entry,
    unsafe,
    load: Object.freeze(load),
    exec: Object.freeze(["kexec", "-e"]),
    warnings: Object.freeze(warnings),
    staged: Object.freeze(staged.map((f) => Object.freeze(f))),
    stageDir,
    bootDir: boot.bootDir,
  });
  plans.add(made);
  return made;
}

function stageList(sys: Sys, boot: VerifiedBoot, entry: BootEntry, stageDir: string): StagedFile[] {
  const out: StagedFile[] = [];
  for (const named of new Set(entryFiles(entry))) {
    const resolved = resolveInBoot(sys, boot.bootDir, named);
    const digest = boot.digestOf(resolved);
    if (digest === undefined) {
      throw new KexecError(`/boot${named.slice(1)} leads to /boot${resolved.slice(1)}, which no signed hash covers (names under /boot/kexec* are never hashed); nothing was booted`);
    }
    // Names carry no shell meaning here, but kexec splits --module on spaces: keep copies to plain names.
    const base = resolved.slice(resolved.lastIndexOf("/") + 1).replace(/[^A-Za-z0-9._-]/g, "_");
    out.push({ named, resolved, digest, copy: `${stageDir}/${out.length}-${base}` });
  }
  return out;
}

export function describePlan(p: KexecPlan): string {
  const quote = (a: string) => (/^[A-Za-z0-9_./=:,+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return [
    `${p.unsafe ? "UNSAFE (unverified) " : ""}boot: ${p.entry.name}`,
    ...p.staged.map((f) => `copy: /boot${f.resolved.slice(1)} → ${f.copy} (must hash to ${f.digest})`),
    `load: ${p.load.map(quote).join(" ")}`,
    `then: ${p.unsafe ? "" : "extend PCR 4; "}wipe secrets; TPM finalize; ${p.exec.join(" ")}`,
    ...p.warnings.map((w) => `warning: ${w}`),
  ].join("\n");
}

/** Copies the entry's files to tmpfs and checks each copy against the signed digest. */
async function stage(sys: Sys, p: KexecPlan): Promise<void> {
  removeTree(sys, p.stageDir);
  sys.mkdir(p.stageDir, 0o700);
  for (const f of p.staged) {
    const source = `${p.bootDir}/${f.resolved.slice(2)}`;
    // A FIFO put in its place would block the copy for ever; anything but a file is refused.
    if (sys.stat(source)?.kind !== "file") throw new KexecError(`/boot${f.resolved.slice(1)} is no longer a regular file; nothing was booted`);
    const copied = await sys.exec(["cp", sys.hostPath(source), sys.hostPath(f.copy)]);
    if (copied.status !== 0) throw new KexecError(`/boot${f.resolved.slice(1)} could not be copied to ${p.stageDir} (${new TextDecoder().decode(copied.stderr).trim() || `status ${copied.status}`}); nothing was booted`);
  }
  const names = p.staged.map((f) => f.copy.slice(p.stageDir.length + 1));
  let digests: Map<string, string>;
  try {
    digests = sha256Files(sys, p.stageDir, names);
  } catch (error) {
    if (!(error instanceof FileHashError)) throw error;
    throw new KexecError(`${error.message}; nothing was booted`);
  }
  for (const f of p.staged) {
    if (digests.get(f.copy.slice(p.stageDir.length + 1)) !== f.digest) {
      throw new KexecError(`/boot${f.resolved.slice(1)} changed after /boot was verified; nothing was booted (treat this machine as tampered with)`);
    }
  }
}

async function withKey(p: KexecPlan, load: string[], insertKey: (verifiedInitrd: string) => Promise<string>): Promise<string[]> {
  const at = p.entry.type === "linux" ? load.findIndex((a) => a.startsWith("--initrd=")) : -1;
  if (at < 0) throw new KexecError(`entry "${p.entry.name}" has no initrd to carry the disk unlock key; boot it with the disk recovery passphrase instead`);
  let keyed: string;
  try {
    keyed = await insertKey(load[at]!.slice("--initrd=".length));
  } catch (error) {
    // The flow gets a KexecError it can show, whatever failed while the initrd was built.
    if (error instanceof KexecError) throw error;
    throw new KexecError(`the disk unlock key could not be added to the initrd (${describeError(error)}); nothing was booted`);
  }
  return load.map((a, i) => (i === at ? `--initrd=${keyed}` : a));
}

/** The load command as kexec must be given it: the plan names files as this Sys sees them (kernel, --initrd=, --module=). */
function hostArgv(sys: Sys, load: readonly string[]): string[] {
  return load.map((a) => {
    const option = /^(--initrd=|--module=)?(\/.*)$/.exec(a);
    return option ? `${option[1] ?? ""}${sys.hostPath(option[2]!)}` : a;
  });
}

export interface ExecuteOptions {
  /** Removes the secrets kept in tmpfs; runs after the kernel is loaded, before it starts. */
  wipeSecrets: () => void;
  /**
   * The disk unlock key: given the verified copy of the entry's initrd, returns the initrd to
   * load instead (that copy with the key appended). Runs before PCR 4 moves, because the
   * key is sealed to PCR 4's clean value.
   */
  insertKey?: (verifiedInitrd: string) => Promise<string>;
}

/**
 * Copy and check, extend PCR 4 ("generic", as Heads before any OS runs), load, wipe the
 * secrets, finalize the TPM, jump. Returns only when something failed; nothing boots then.
 */
export async function executePlan(sys: Sys, p: KexecPlan, tpm: Tpm | null, options: ExecuteOptions): Promise<never> {
  if (!plans.has(p)) throw new KexecError("only a plan made from a verified /boot can be booted");
  let extended = false;
  let load = [...p.load];
  try {
    if (!p.unsafe) {
      await stage(sys, p);
      if (options.insertKey) load = await withKey(p, load, options.insertKey);
      if (tpm) {
        try {
          await extendPcr4(tpm, "generic");
        } catch (error) {
          throw new KexecError(`PCR 4 could not be extended (${describeError(error)}), so the OS could unseal the firmware's secrets; nothing was booted`);
        }
        extended = true;
      }
    }
    const loaded = await sys.exec(hostArgv(sys, load));
    if (loaded.status !== 0) throw new KexecError(`kexec could not load ${p.entry.kernel} (status ${loaded.status}): ${new TextDecoder().decode(loaded.stderr).trim()}`);
  } catch (error) {
    if (error instanceof KexecError && extended) throw new KexecError(error.message, true);
    throw error;
  } finally {
    removeTree(sys, p.stageDir);
  }
  try {
    options.wipeSecrets();
  } catch (error) {
    throw new KexecError(`the secrets in tmpfs could not be wiped (${describeError(error)}), so the OS is not started`, extended || p.unsafe);
  }
  if (tpm) await tpm.finalize();
  const jumped = await sys.exec([...p.exec], { inheritStdio: true });
  throw new KexecError(`kexec -e returned (status ${jumped.status}); the loaded kernel did not start`, extended || p.unsafe);
}
