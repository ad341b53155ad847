// Booting the OS from the menus, as gui-init's attempt_default_boot and kexec-select-boot:
// "Default boot" verifies /boot and kexecs the signed default entry; "Show OS boot menu"
// verifies and lets the user pick; "Ignore tampering and force a boot" extends PCR 4 and
// boots unverified. A failed check never boots: it names the check and the files, and
// offers the way on.
import type { MenuItem } from "../../ui/prompt.ts";
import type { BootEntry } from "../boot/entries/index.ts";
import { TpmError } from "../../tpm/errors.ts";
import { isBootProblem } from "./boot-problems.ts";
import {
  BootVerifyError,
  describePlan,
  executePlan,
  KexecError,
  plan,
  resumeSwitch,
  scanMenu,
  STAGE_DIR,
  STAGING_DIR,
  unsafeBoot,
  verifyBoot,
  walkBoot,
  isVerifiedBoot,
  type VerifiedBoot,
  type UnsafeBoot,
} from "../boot/index.ts";
import { diskKeyForBoot } from "./disk-key.ts";
import { mountBoot, withWritableBoot } from "../platform/boot-device.ts";
import { readRomKeyring } from "../boot/integrity/keyring.ts";
import { cmdlineRules, verifyPolicy } from "../boot/integrity/policy.ts";
import { describeError } from "../errors.ts";
import { boardName, type FlowContext } from "./context.ts";
import { notMeasured, recoveryShell, restrictedBoot } from "./recovery.ts";
import { wipeSecretDir } from "../platform/secrets.ts";
import { BOOT_PCR } from "../measure/pcr4.ts";

export const VERIFY_FAILED_TITLE = "/boot integrity check failed";


/** Mounts /boot (firmware) and finishes a signing that a power cut interrupted; null after telling the user why not. */
export async function openBoot(ctx: FlowContext): Promise<string | null> {
  try {
    const bootDir = await mountBoot(ctx.sys, ctx.config, ctx.firmware);
    if (ctx.sys.stat(`${bootDir}/${STAGING_DIR}`)) {
      await withWritableBoot(ctx.sys, ctx.firmware, () => resumeSwitch(ctx.sys, bootDir, ctx.tpm ?? undefined));
    }
    return bootDir;
  } catch (error) {
    if (!isBootProblem(error)) throw error;
    await ctx.ui.prompt.message({ title: "/boot is not available", text: describeError(error), tone: "error" });
    return null;
  }
}

/** /boot checked with the ROM keyring under the board's policy; throws what failed. */
export async function verifyBootDir(ctx: FlowContext, bootDir: string): Promise<VerifiedBoot> {
  const policy = verifyPolicy(ctx.sys, ctx.config, bootDir);
  if (policy.needsTpm && !ctx.tpm) throw new BootVerifyError("rollback", `the rollback counter cannot be read without a TPM (${ctx.tpmError ?? "no TPM"})`);
  const keys = await readRomKeyring(ctx.sys);
  return verifyBoot(ctx.sys, { bootDir, keys, date: new Date(ctx.sys.now()), ...(ctx.tpm ? { tpm: ctx.tpm } : {}), ...policy });
}

/**
 * "Does /boot verify?" for the reseal gate (Heads §3.6: a valid kexec.sig before a new secret
 * is generated after a failure): null when it does, else the reason. Any failure counts.
 */
export async function bootVerifyProblem(ctx: FlowContext): Promise<string | null> {
  try {
    await verifyBootDir(ctx, await mountBoot(ctx.sys, ctx.config, ctx.firmware));
    return null;
  } catch (error) {
    if (error instanceof BootVerifyError) return error.message;
    return `/boot could not be checked: ${describeError(error)}`;
  }
}

/** Verifies /boot; on a failed check shows why and what can be done, and returns null. */
async function verified(ctx: FlowContext, bootDir: string): Promise<VerifiedBoot | null> {
  const progress = ctx.ui.prompt.progress("Verifying /boot");
  let v: VerifiedBoot;
  try {
    v = await verifyBootDir(ctx, bootDir);
  } catch (error) {
    progress.done();
    await verifyFailed(ctx, bootDir, error);
    return null;
  }
  progress.done();
  if (v.clockWarning) await ctx.ui.prompt.message({ title: "The firmware clock is behind", text: `${v.clockWarning}.\n\n/boot verified all the same.`, tone: "warning" });
  return v;
}

type FailedChoice = "back" | "force" | "recovery";

function failureText(error: unknown): string {
  if (!(error instanceof BootVerifyError)) return `${describeError(error)}\n\nNothing was booted.`;
  // The lists name files as Heads does, relative to /boot ("./vmlinuz"); the user reads full paths.
  const shown = (f: string) => `/boot${f.replace(/^\./, "")}`;
  const files = [
    ...error.files.changed.map((f) => `changed: ${shown(f)}`),
    ...error.files.appeared.map((f) => `appeared: ${shown(f)}`),
    ...error.files.vanished.map((f) => `vanished: ${shown(f)}`),
  ];
  return [`Failed check: ${error.check}`, ...files, "", error.reason, "", "Nothing was booted. If you changed /boot yourself (a kernel update), re-sign it from Options; otherwise treat this machine as tampered with."].join("\n");
}

async function verifyFailed(ctx: FlowContext, bootDir: string, error: unknown): Promise<void> {
  const prompt = ctx.ui.prompt;
  const reason = error instanceof BootVerifyError ? `/boot ${error.check} check failed` : "/boot could not be verified";
  prompt.setStatus({ board: boardName(ctx.config), integrity: "tampered", reason });
  const items: MenuItem<FailedChoice>[] = [{ key: "r", label: "Return to main menu", value: "back" }];
  if (!restrictedBoot(ctx)) {
    items.push({ key: "i", label: "Ignore tampering and force a boot (Unsafe!)", value: "force" });
    items.push({ key: "x", label: "Exit to recovery shell", value: "recovery" });
  }
  const choice = await prompt.menu<FailedChoice>({ title: VERIFY_FAILED_TITLE, text: failureText(error), items, allowBack: true });
  if (choice === "force") await forceBoot(ctx, bootDir);
  else if (choice === "recovery") await recoveryShell(ctx, `/boot failed verification: ${describeError(error)}`);
}

const HOT_KEYS = "123456789abcdefghjklnopqstuvwyz";

/** The boot entries as menu items; null when there are more than hot-keys. */
function entryItems(entries: readonly BootEntry[]): MenuItem<number>[] {
  return entries.slice(0, HOT_KEYS.length).map((e, i) => ({ key: HOT_KEYS[i]!, label: e.name, value: i + 1 }));
}

async function chooseEntry(ctx: FlowContext, title: string, entries: readonly BootEntry[], text?: string): Promise<number | null> {
  if (entries.length === 0) {
    await ctx.ui.prompt.message({ title, text: "/boot holds no boot entry bootward can read (grub.cfg, syslinux or BLS entries).", tone: "error" });
    return null;
  }
  const extra = entries.length > HOT_KEYS.length ? `\nOnly the first ${HOT_KEYS.length} of ${entries.length} entries are listed.` : "";
  const choice = await ctx.ui.prompt.menu<number>({ title, text: `${text ?? "Choose the entry to boot."}${extra}`, items: entryItems(entries), allowBack: true });
  return choice === "back" ? null : choice;
}

/** kexec into the plan on the firmware; elsewhere (a host shell, a test) shows the plan instead. */
async function boot(ctx: FlowContext, target: VerifiedBoot | UnsafeBoot, index?: number): Promise<void> {
  const prompt = ctx.ui.prompt;
  let kplan;
  try {
    kplan = plan(ctx.sys, target, cmdlineRules(ctx.config), index, STAGE_DIR);
  } catch (error) {
    await prompt.message({ title: "Cannot boot this entry", text: describeError(error), tone: "error" });
    return;
  }
  const disk = isVerifiedBoot(target) ? await diskKeyForBoot(ctx, target) : ({ kind: "none" } as const);
  if (disk.kind === "stop") return;
  if (!ctx.firmware) {
    const key = disk.kind === "key" ? "\ndisk unlock key: released; it is appended to the initrd copy" : disk.kind === "recovery" ? "\ndisk unlock key: not released; the OS asks for the recovery passphrase" : "";
    if (disk.kind === "key") disk.forget();
    await prompt.message({ title: "Boot plan (not PID 1: nothing is booted)", text: `${describePlan(kplan)}${key}`, tone: kplan.unsafe ? "warning" : "info" });
    return;
  }
  const wipeSecrets = () => void wipeSecretDir(ctx.sys);
  try {
    await ctx.ui.suspend(async () => {
      ctx.sys.console.write(`\r\nbootward: booting ${kplan.entry.name}${kplan.unsafe ? " WITHOUT VERIFICATION" : ""}\r\n`);
      if (!ctx.tpm) ctx.sys.console.write(`${notMeasured(ctx)}\r\n`);
      await executePlan(ctx.sys, kplan, ctx.tpm, { wipeSecrets, ...(disk.kind === "key" ? { insertKey: disk.insertKey } : {}) });
    });
  } catch (error) {
    if (!(error instanceof KexecError || error instanceof TpmError)) throw error;
    const moved = error instanceof TpmError || error.pcr4Extended;
    if (moved) ctx.ui.prompt.setStatus({ board: boardName(ctx.config), integrity: "unknown", reason: `PCR ${BOOT_PCR} was extended for the OS: no code until you reboot` });
    const after = moved ? `\n\nPCR ${BOOT_PCR} already moved for the OS, so no TOTP/HOTP code can be shown until you reboot; the TPM may be locked for the OS too.` : "";
    // The UI was rebuilt after the suspend: the prompt taken before it is closed.
    await ctx.ui.prompt.message({ title: "The OS did not start", text: `${describeError(error)}${after}`, tone: "error" });
  } finally {
    if (disk.kind === "key") {
      disk.forget();
      wipeSecrets();
    }
  }
}

/** Main menu "d": the signed default entry, or the OS menu when none was signed. */
export async function defaultBoot(ctx: FlowContext): Promise<void> {
  const bootDir = await openBoot(ctx);
  if (!bootDir) return;
  const v = await verified(ctx, bootDir);
  if (!v) return;
  if (v.defaultChoice) return boot(ctx, v);
  const index = await chooseEntry(ctx, "Boot menu", v.entries, "No default boot entry was signed. Choose the entry to boot (set a default with Update checksums and sign).");
  if (index !== null) await boot(ctx, v, index);
}

/** Boot Options "m": verify, then choose among the entries. */
export async function osBootMenu(ctx: FlowContext): Promise<void> {
  const bootDir = await openBoot(ctx);
  if (!bootDir) return;
  const v = await verified(ctx, bootDir);
  if (!v) return;
  const index = await chooseEntry(ctx, "Boot menu", v.entries);
  if (index !== null) await boot(ctx, v, index);
}

/** Boot Options "i" and the failure menu's "i": refused under Restricted Boot; PCR 4 is extended before anything boots. */
export async function forceBoot(ctx: FlowContext, openedBoot?: string): Promise<void> {
  const prompt = ctx.ui.prompt;
  if (restrictedBoot(ctx)) {
    await prompt.message({ title: "Unsafe boot refused", text: "Restricted Boot is enabled (CONFIG_RESTRICTED_BOOT=y): only a verified /boot can boot.", tone: "error" });
    return;
  }
  const bootDir = openedBoot ?? (await openBoot(ctx));
  if (!bootDir) return;
  const sure = await prompt.confirm({
    title: "Ignore tampering and force a boot",
    text: "This boots what is in /boot WITHOUT verifying it. PCR 4 is extended first, so TOTP/HOTP and disk unlock secrets will not unseal in this boot. Continue?",
  });
  if (!sure) return;
  let entries: BootEntry[];
  try {
    entries = scanMenu(ctx.sys, bootDir, walkBoot(ctx.sys, bootDir)).entries;
  } catch (error) {
    if (!isBootProblem(error)) throw error;
    await prompt.message({ title: "Cannot read /boot", text: describeError(error), tone: "error" });
    return;
  }
  const index = await chooseEntry(ctx, "Unsafe boot menu", entries, "UNVERIFIED: choose the entry to boot.");
  if (index === null) return;
  let target: UnsafeBoot;
  try {
    target = await unsafeBoot(ctx.tpm, { restricted: restrictedBoot(ctx) }, bootDir, entries);
  } catch (error) {
    await prompt.message({ title: "Unsafe boot refused", text: describeError(error), tone: "error" });
    return;
  }
  prompt.setStatus({ board: boardName(ctx.config), integrity: "forced", reason: "forced boot without verification" });
  if (!ctx.tpm) {
    await prompt.message({ title: "Nothing was measured", text: `The TPM could not be opened (${ctx.tpmError ?? "no TPM"}), so PCR ${BOOT_PCR} was not extended: this unverified boot leaves no trace in the TPM.`, tone: "error" });
  }
  await boot(ctx, target, index);
}
