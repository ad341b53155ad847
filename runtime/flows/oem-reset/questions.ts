// The OEM reset's questionnaire: Heads' "use defaults?", then one passphrase or separate
// ones (each typed twice, the rule shown when it is broken), the key's identity and where its
// backup goes.
import type { MenuItem, Prompt } from "../../../ui/prompt.ts";
import { driveLabel, type UsbDrive } from "../../ownership/drive.ts";
import type { KeyBackup } from "../../ownership/steps.ts";
import type { DriveList } from "../../ownership/drive-list.ts";
import { askNewPassphrase } from "../new-passphrase.ts";
import { PRIVATE_PERCENTS, type PrivatePercent } from "../../ownership/partition.ts";
import type { Identity } from "../../../gpg/keygen.ts";
import {
  checkIdentityField, checkPassphrase, DEFAULT_COMMENT, DEFAULT_KEY_PASSPHRASE, DEFAULT_NAME, DEFAULT_TPM_OWNER, defaultEmail, KEY_PASSPHRASE, SINGLE, TPM_OWNER, type PassphraseRule,
} from "../../ownership/rules.ts";

export const TITLE = "OEM Factory Reset / Re-Ownership";

export interface Answers {
  tpmOwner: string;
  keyPassphrase: string;
  identity: Identity;
  defaults: boolean;
  /** Where to keep the passphrase-protected secret key for later signing, or null for nowhere. */
  backup: KeyBackup | null;
}

export const DEFAULT_KEY_COPY = "/media/privkey.sec";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** The new passphrase as text, asked twice and checked against its rule; null when cancelled. */
async function newPassphrase(prompt: Prompt, rule: PassphraseRule): Promise<string | null> {
  const bytes = await askNewPassphrase(prompt, { title: TITLE, what: rule.what, min: rule.min, max: rule.max, validate: (v) => checkPassphrase(rule, decode(v)) });
  if (bytes === null) return null;
  const value = decode(bytes);
  bytes.fill(0);
  return value;
}

async function field(prompt: Prompt, label: string, initial: string): Promise<string | null> {
  return prompt.input({ title: TITLE, label, initial, validate: (v) => checkIdentityField(label, v) });
}

/** A path whose directory exists and where no file would be overwritten; the Sys check is the caller's. */
export type PathCheck = (path: string) => string | null;

/** Where the passphrase-protected secret key is kept for signing /boot later. */

export interface BackupChoices {
  checkPath: PathCheck;
  /** The USB drives plugged in, kept live while a question lists them. */
  drives: DriveList;
}

type BackupKind = "drive" | "file" | "none" | "rescan";

function driveItems(drives: UsbDrive[]): MenuItem<UsbDrive | null>[] {
  // A menu needs an item; Escape still goes back.
  if (drives.length === 0) return [{ key: "-", label: "No USB drive is plugged in now: plug one in, or press Esc", value: null, disabled: true }];
  return drives.slice(0, 9).map((d, i) => ({ key: String(i + 1), label: driveLabel(d), value: d }));
}

async function askDrive(prompt: Prompt, list: DriveList, shown: UsbDrive[]): Promise<UsbDrive | null> {
  if (shown.length === 1) return shown[0]!;
  // An answer typed before the empty list was drawn finds nothing to erase.
  if (shown.length === 0) return null;
  const choice = await prompt.menu({
    title: TITLE,
    text: "Which USB drive should hold the backup? It will be erased.",
    items: driveItems(shown),
    allowBack: true,
    watch: (update) => list.watch(shown, (drives) => update(driveItems(drives))),
  });
  return choice === "back" ? null : choice;
}

async function askDriveBackup(prompt: Prompt, list: DriveList, shown: UsbDrive[]): Promise<KeyBackup | null> {
  const drive = await askDrive(prompt, list, shown);
  if (!drive) return null;
  const share = await prompt.menu<PrivatePercent>({
    title: TITLE,
    text: "How much of the drive should the encrypted partition take? The rest is a public partition that receives your public key.",
    items: PRIVATE_PERCENTS.map((p, i) => ({ key: String(i + 1), label: `${p} %`, value: p })),
    allowBack: true,
  });
  if (share === "back") return null;
  const erase = await prompt.confirm({ title: TITLE, text: `Everything on ${driveLabel(drive)} will be erased. Use this drive for the backup?`, defaultYes: false });
  return erase ? { kind: "drive", drive, share } : null;
}

/** "d" once a drive is there; until then "r", which reads the drives again should the live list lag. */
function backupItems(drives: UsbDrive[]): MenuItem<BackupKind>[] {
  return [
    drives.length > 0
      ? { key: "d", label: "On a USB thumb drive: an encrypted partition for the key, a public one for pubkey.asc", value: "drive" }
      : { key: "r", label: "On a USB thumb drive: plug one in, then choose this", value: "rescan" },
    { key: "f", label: "In a passphrase-protected file on a drive mounted at /media", value: "file" },
    { key: "n", label: "No backup: re-signing /boot will need a new OEM factory reset", value: "none" },
  ];
}

/** Heads' "format an encrypted USB thumb drive for the key backup?", or a protected file instead; null for no backup. */
async function askBackup(prompt: Prompt, choices: BackupChoices): Promise<KeyBackup | null | "cancel"> {
  for (;;) {
    let drives = await choices.drives.read();
    const shown = drives;
    const kind = await prompt.menu({
      title: TITLE,
      text: "Keep a backup of the new signing key, protected by its passphrase? It lets you re-sign /boot after a kernel update.",
      items: backupItems(drives),
      allowBack: true,
      watch: (update) =>
        choices.drives.watch(shown, (now) => {
          drives = now;
          update(backupItems(now));
        }),
    });
    if (kind === "back") return "cancel";
    if (kind === "none") return null;
    if (kind === "rescan") continue;
    if (kind === "file") {
      const path = await prompt.input({ title: TITLE, label: "File for the secret key copy", initial: DEFAULT_KEY_COPY, validate: choices.checkPath });
      if (path !== null) return { kind: "file", path };
      continue;
    }
    const backup = await askDriveBackup(prompt, choices.drives, drives);
    if (backup) return backup;
  }
}

export async function askAnswers(prompt: Prompt, nowMs: number, choices: BackupChoices): Promise<Answers | null> {
  const identity: Identity = { name: DEFAULT_NAME, email: defaultEmail(nowMs), comment: DEFAULT_COMMENT };
  const defaults = await prompt.confirm({
    title: TITLE,
    text: `Use the default configuration?\n\nTPM owner passphrase ${DEFAULT_TPM_OWNER}, signing key passphrase ${DEFAULT_KEY_PASSPHRASE}, key "${identity.name} (${identity.comment}) <${identity.email}>". Choose No to set your own.`,
    defaultYes: true,
  });
  if (defaults) {
    const backup = await askBackup(prompt, choices);
    if (backup === "cancel") return null;
    return { tpmOwner: DEFAULT_TPM_OWNER, keyPassphrase: DEFAULT_KEY_PASSPHRASE, identity, defaults, backup };
  }

  const single = await prompt.confirm({ title: TITLE, text: "Use one passphrase for both the TPM owner and the signing key?", defaultYes: true });
  const tpmOwner = await newPassphrase(prompt, single ? SINGLE : TPM_OWNER);
  if (tpmOwner === null) return null;
  const keyPassphrase = single ? tpmOwner : await newPassphrase(prompt, KEY_PASSPHRASE);
  if (keyPassphrase === null) return null;
  if (await prompt.confirm({ title: TITLE, text: "Set your own name, e-mail and comment on the signing key?", defaultYes: false })) {
    const name = await field(prompt, "name", identity.name);
    if (name === null) return null;
    const email = await field(prompt, "e-mail", identity.email);
    if (email === null) return null;
    const comment = await field(prompt, "comment", identity.comment);
    if (comment === null) return null;
    Object.assign(identity, { name, email, comment });
  }
  const backup = await askBackup(prompt, choices);
  if (backup === "cancel") return null;
  return { tpmOwner, keyPassphrase, identity, defaults, backup };
}
