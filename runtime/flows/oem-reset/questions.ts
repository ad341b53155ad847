// The OEM reset's questionnaire: Heads' "use defaults?", then one passphrase or separate
// ones (each typed twice, the rule shown when it is broken) and the key's identity.
import type { Prompt } from "../../../ui/prompt.ts";
import type { Identity } from "../../../gpg/keygen.ts";
import {
  checkIdentityField, checkPassphrase, DEFAULT_COMMENT, DEFAULT_KEY_PASSPHRASE, DEFAULT_NAME, DEFAULT_TPM_OWNER, defaultEmail, KEY_PASSPHRASE, SINGLE, TPM_OWNER, type PassphraseRule,
} from "./rules.ts";

export const TITLE = "OEM Factory Reset / Re-Ownership";

export interface Answers {
  tpmOwner: string;
  keyPassphrase: string;
  identity: Identity;
  defaults: boolean;
  /** Where to keep the passphrase-protected secret key for later signing, or null for nowhere. */
  keyCopy: string | null;
}

export const DEFAULT_KEY_COPY = "/media/privkey.sec";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** Asks until two entries match; null when cancelled. */
async function newPassphrase(prompt: Prompt, rule: PassphraseRule): Promise<string | null> {
  for (;;) {
    const first = await prompt.password({ title: TITLE, label: `New ${rule.what} (${rule.min}-${rule.max} characters)`, validate: (v) => checkPassphrase(rule, decode(v)) });
    if (first === null) return null;
    const again = await prompt.password({ title: TITLE, label: `The ${rule.what} again` });
    if (again === null) {
      first.fill(0);
      return null;
    }
    const same = first.length === again.length && first.every((b, i) => b === again[i]);
    const value = decode(first);
    first.fill(0);
    again.fill(0);
    if (same) return value;
    await prompt.message({ title: TITLE, text: `The two ${rule.what}s differ; type it again.`, tone: "warning" });
  }
}

async function field(prompt: Prompt, label: string, initial: string): Promise<string | null> {
  return prompt.input({ title: TITLE, label, initial, validate: (v) => checkIdentityField(label, v) });
}

/** A path whose directory exists and where no file would be overwritten; the Sys check is the caller's. */
export type PathCheck = (path: string) => string | null;

async function askKeyCopy(prompt: Prompt, checkPath: PathCheck): Promise<string | null | "cancel"> {
  const keep = await prompt.confirm({
    title: TITLE,
    text: "Save a copy of the new signing key, protected by its passphrase, to a file (on a USB drive mounted at /media)? Without a copy, re-signing /boot after a kernel update needs a new OEM factory reset.",
    defaultYes: true,
  });
  if (!keep) return null;
  const path = await prompt.input({ title: TITLE, label: "File for the secret key copy", initial: DEFAULT_KEY_COPY, validate: checkPath });
  return path ?? "cancel";
}

export async function askAnswers(prompt: Prompt, nowMs: number, checkPath: PathCheck): Promise<Answers | null> {
  const identity: Identity = { name: DEFAULT_NAME, email: defaultEmail(nowMs), comment: DEFAULT_COMMENT };
  const defaults = await prompt.confirm({
    title: TITLE,
    text: `Use the default configuration?\n\nTPM owner passphrase ${DEFAULT_TPM_OWNER}, signing key passphrase ${DEFAULT_KEY_PASSPHRASE}, key "${identity.name} (${identity.comment}) <${identity.email}>". Choose No to set your own.`,
    defaultYes: true,
  });
  if (defaults) {
    const keyCopy = await askKeyCopy(prompt, checkPath);
    if (keyCopy === "cancel") return null;
    return { tpmOwner: DEFAULT_TPM_OWNER, keyPassphrase: DEFAULT_KEY_PASSPHRASE, identity, defaults, keyCopy };
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
  const keyCopy = await askKeyCopy(prompt, checkPath);
  if (keyCopy === "cancel") return null;
  return { tpmOwner, keyPassphrase, identity, defaults, keyCopy };
}
