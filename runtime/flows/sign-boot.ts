// Options "u": Update checksums and sign all files in /boot. Heads signs with the OpenPGP
// card or the backup drive; bootward's key comes from the OEM reset's backup drive, or from
// an exported OpenPGP secret key file the user points at, held in memory only while signing.
import type { MenuItem } from "../../ui/prompt.ts";
import { inMemorySigner, SignerError, type Signer } from "../../gpg/sign.ts";
import { BootPathError, resolveInBoot, ROLLBACK_FILE, scanMenu, signBoot, walkBoot } from "../boot/index.ts";
import { parseHeadsLine } from "../boot/entries/heads-line.ts";
import { BootConfigError, type BootEntry } from "../boot/entries/types.ts";
import { withWritableBoot } from "../platform/boot-device.ts";
import { describeError } from "../errors.ts";
import type { FlowContext } from "./context.ts";
import { openBoot } from "./os-boot.ts";
import { isBootProblem } from "./boot-problems.ts";
import { SysError } from "../host/sys.ts";
import { BackupDriveError, driveLabel, readBackupKey, type UsbDrive } from "../ownership/drive.ts";
import { backupDriveList } from "../ownership/drive-list.ts";
import { offerDiskKey } from "./disk-setup.ts";

const TITLE = "Update checksums and sign /boot";
const DEFAULT_KEY_FILE = "/media/privkey.sec";

async function askKeyFile(ctx: FlowContext): Promise<Signer | null> {
  const prompt = ctx.ui.prompt;
  const path = await prompt.input({
    title: TITLE,
    label: "OpenPGP secret key file (gpg --export-secret-keys)",
    initial: DEFAULT_KEY_FILE,
    validate: (p) => (ctx.sys.stat(p)?.kind === "file" ? null : `${p} is not a file; mount the drive that holds the key first`),
  });
  if (path === null) return null;
  return unlock(ctx, "Passphrase of the secret key (empty if it has none)", async () => ctx.sys.readFile(path));
}

/** Reads the key with `read` (which may need the passphrase too) and unlocks it; null after telling the user why not. */
async function unlock(ctx: FlowContext, label: string, read: (passphrase: Uint8Array) => Promise<Uint8Array>): Promise<Signer | null> {
  const prompt = ctx.ui.prompt;
  const passphrase = await prompt.password({ title: TITLE, label });
  if (passphrase === null) return null;
  try {
    return await inMemorySigner(await read(passphrase), passphrase.length === 0 ? undefined : passphrase);
  } catch (error) {
    if (!(error instanceof SignerError || error instanceof BackupDriveError || error instanceof SysError)) throw error;
    await prompt.message({ title: TITLE, text: `${describeError(error)}\n\nNothing was changed in /boot.`, tone: "error" });
    return null;
  } finally {
    passphrase.fill(0);
  }
}

type KeySource = UsbDrive | "file" | "rescan";

/** "b" once a backup drive is there; until then "r", which reads the drives again should the live list lag. */
function sourceItems(backups: UsbDrive[]): MenuItem<KeySource>[] {
  const items: MenuItem<KeySource>[] = backups.length > 0
    ? backups.slice(0, 8).map((d, i) => ({ key: i === 0 ? "b" : String(i + 1), label: `The key backup on ${driveLabel(d)}`, value: d }))
    : [{ key: "r", label: "The key backup drive of the OEM factory reset: plug it in, then choose this", value: "rescan" }];
  items.push({ key: "f", label: "An OpenPGP secret key file", value: "file" });
  return items;
}

/**
 * As Heads' signing with the backup (`b`): the key comes from the OEM reset's backup drive,
 * offered as soon as it is plugged in, or from a key file. Heads asks for the card or the
 * backup drive every time too.
 */
async function askSigner(ctx: FlowContext): Promise<Signer | null> {
  const backups = backupDriveList(ctx.sys);
  for (;;) {
    const shown = await backups.read();
    const source = await ctx.ui.prompt.menu<KeySource>({
      title: TITLE,
      text: "Where is the signing key?",
      items: sourceItems(shown),
      allowBack: true,
      watch: (update) => backups.watch(shown, (now) => update(sourceItems(now))),
    });
    if (source === "back") return null;
    if (source === "rescan") continue;
    if (source === "file") return askKeyFile(ctx);
    return unlock(ctx, "Signing key passphrase (it opens the backup drive too)", (passphrase) => readBackupKey(ctx.sys, source, passphrase));
  }
}

type DefaultChoice = number | "keep";

async function askDefault(ctx: FlowContext, bootDir: string): Promise<{ choice: DefaultChoice; entries: BootEntry[] } | null> {
  const menu = scanMenu(ctx.sys, bootDir, walkBoot(ctx.sys, bootDir));
  const items: MenuItem<DefaultChoice>[] = [{ key: "k", label: "Keep the current default (or none)", value: "keep" }];
  menu.entries.slice(0, 9).forEach((e, i) => items.push({ key: String(i + 1), label: e.name, value: i + 1 }));
  const choice = await ctx.ui.prompt.menu<DefaultChoice>({ title: TITLE, text: "Which entry should Default boot start?", items, allowBack: true });
  return choice === "back" ? null : { choice, entries: menu.entries };
}

/**
 * The OS initrd of the entry Default boot will start (the one chosen now, else the current
 * kexec_default.N.txt, about to be signed with the rest): its crypttab decides the names the
 * disk key's overrides give the volumes. Null when there is no default or it has no initrd.
 */
function defaultInitrd(ctx: FlowContext, bootDir: string, choice: DefaultChoice, entries: BootEntry[]): string | null {
  let entry: BootEntry | undefined;
  if (choice !== "keep") entry = entries[choice - 1];
  else {
    const name = ctx.sys.readdir(bootDir).find((n) => /^kexec_default\.[0-9]+\.txt$/.test(n));
    if (name !== undefined) {
      try {
        entry = parseHeadsLine(ctx.sys.readText(`${bootDir}/${name}`), name);
      } catch (error) {
        if (!(error instanceof BootConfigError)) throw error;
      }
    }
  }
  const initrd = entry?.type === "linux" ? entry.initrds[0] : undefined;
  if (initrd === undefined) return null;
  try {
    // As kexec would read it: links followed only inside /boot.
    return `${bootDir}/${resolveInBoot(ctx.sys, bootDir, `.${initrd}`).slice(2)}`;
  } catch (error) {
    if (!(error instanceof BootPathError)) throw error;
    return null;
  }
}

/** `diskKey`: from the TPM options, the disk unlock key is offered even when the default entry is kept. */
export async function signBootFlow(ctx: FlowContext, options: { diskKey?: boolean } = {}): Promise<void> {
  const prompt = ctx.ui.prompt;
  const go = await prompt.confirm({
    title: TITLE,
    text: "Every file in /boot will be hashed and signed with your key, and the TPM rollback counter moves on, so older signed sets stop verifying. Sign only a /boot whose changes you made yourself. Continue?",
  });
  if (!go) return;
  const bootDir = await openBoot(ctx);
  if (!bootDir) return;
  try {
    const asked = await askDefault(ctx, bootDir);
    if (asked === null) return;
    const chosen = asked.choice;
    const signer = await askSigner(ctx);
    if (!signer) return;
    // After the key is unlocked: once the disks hold a new key slot, only a signed set with their new headers boots with it.
    const disk = await offerDiskKey(ctx, bootDir, chosen !== "keep" || options.diskKey === true, defaultInitrd(ctx, bootDir, chosen, asked.entries));
    if (disk === null) {
      signer.forget();
      return;
    }
    // The first signed set on this TPM creates the rollback counter, which takes the owner's authorization.
    let ownerPassphrase: Uint8Array | null = null;
    if (ctx.tpm && !ctx.sys.stat(`${bootDir}/${ROLLBACK_FILE}`)) {
      ownerPassphrase = await prompt.password({ title: TITLE, label: "TPM owner passphrase, to create the rollback counter (empty if the TPM has no owner)" });
      if (ownerPassphrase === null) {
        signer.forget();
        return;
      }
    }
    const progress = prompt.progress("Hashing and signing /boot");
    let result;
    try {
      result = await withWritableBoot(ctx.sys, ctx.firmware, () =>
        signBoot(ctx.sys, {
          bootDir,
          signer,
          ...(ctx.tpm ? { tpm: ctx.tpm } : {}),
          ...(ownerPassphrase ? { ownerPassphrase } : {}),
          ...(chosen === "keep" ? {} : { defaultIndex: chosen }),
          ...(disk ? { lists: disk.lists } : {}),
        }),
      );
    } finally {
      progress.done();
      ownerPassphrase?.fill(0);
      signer.forget();
    }
    const counter = result.counter ? `\nRollback counter ${result.counter.name} is now ${result.counter.value}.` : "\nNo TPM: no rollback counter was written.";
    const key = disk ? `\nThe disk unlock key opens ${disk.devices.map((d) => d.device).join(", ")}; Default boot asks for its passphrase.` : "";
    await prompt.message({ title: TITLE, text: `/boot is signed by ${signer.fingerprint}.${counter}${key}`, tone: "success" });
  } catch (error) {
    if (!isBootProblem(error)) throw error;
    await prompt.message({ title: TITLE, text: `${describeError(error)}\n\nThe signed set in /boot is the old one or the new one, never a mix.`, tone: "error" });
  }
}
