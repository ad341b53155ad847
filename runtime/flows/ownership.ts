// At startup, after the TOTP/HOTP check (gui-init's clean_boot_check and check_gpg_key): a
// machine without a key in the firmware, whose /boot is not signed, or where an OEM reset
// note was left on /boot gets one screen before the main menu. It opens with the TOTP/HOTP
// status, and what it offers by default follows only what an owner alone could have set up
// (runtime/ownership/evidence.ts): the OEM factory reset leads only on a machine that never had
// an owner. Files on /boot that no signature covers (kexec.sig's absence, the reset's note)
// change the words, never the default: someone who can write /boot cannot make a machine that
// was owned ask to be re-owned without the screen saying, in red, that it was owned.
import type { MenuItem, Tone } from "../../ui/prompt.ts";
import { mountBoot } from "../platform/boot-device.ts";
import { SIGNATURE_FILE } from "../boot/integrity/signed-set.ts";
import { ROLLBACK_FILE } from "../boot/integrity/hashes.ts";
import { readOwnerEvidence, romKeyring, verdict, type OwnerEvidence, type Verdict } from "../ownership/evidence.ts";
import type { FlowContext } from "./context.ts";
import { recoveryShell, restrictedBoot } from "./recovery.ts";
import { isBootProblem } from "./boot-problems.ts";
import { interruptedStep } from "../ownership/pending.ts";
import { restartsAfter } from "./oem-reset/after.ts";
import { attestationLine, headerStatus, readAttestation, type AttestationView } from "./main-menu.ts";

export const NO_OWNER_TITLE = "This machine has no owner yet";
export const INCOMPLETE_TITLE = "Reset incomplete — start again";
export const SIGNED_BEFORE_TITLE = "/boot was signed before";
export const SET_UP_BEFORE_TITLE = "This machine was set up before";
export const UNKNOWN_OWNER_TITLE = "Whether this machine had an owner cannot be checked";
/** Every title the startup's ownership screen can have (tests going past it wait for any). */
export const OWNERSHIP_TITLES = [NO_OWNER_TITLE, INCOMPLETE_TITLE, SIGNED_BEFORE_TITLE, SET_UP_BEFORE_TITLE, UNKNOWN_OWNER_TITLE] as const;

/** The signed set's files, named when missing; the rollback file only when the TPM holds a counter for it. */
const HASH_LIST = "kexec_hashes.txt";

/** What /boot shows. No signature covers any of it, so it only ever changes words. */
interface BootLook {
  present: Set<string>;
  /** The step an interrupted OEM reset noted ("signing /boot"), or null. */
  interrupted: string | null;
}

/** /boot as it is now, or null when there is none to look at (Default boot reports why). */
async function lookAtBoot(ctx: FlowContext): Promise<BootLook | null> {
  let bootDir: string;
  try {
    bootDir = await mountBoot(ctx.sys, ctx.config, ctx.firmware);
  } catch (error) {
    if (isBootProblem(error)) return null;
    throw error;
  }
  if (!ctx.sys.stat(bootDir)) return null;
  const present = new Set([SIGNATURE_FILE, HASH_LIST, ROLLBACK_FILE].filter((name) => ctx.sys.stat(`${bootDir}/${name}`)));
  return { present, interrupted: interruptedStep(ctx.sys, bootDir) };
}

interface Screen {
  title: string;
  tone: Tone;
  text: string;
  items: MenuItem<Choice>[];
}

type Choice = "reset" | "menu" | "recovery";

const RESET_ITEM: MenuItem<Choice> = { key: "F", label: "OEM Factory Reset / Re-Ownership", value: "reset" };
const MENU_ITEM: MenuItem<Choice> = { key: "m", label: "Continue to the main menu", value: "menu" };
const RECOVERY_ITEM: MenuItem<Choice> = { key: "x", label: "Exit to recovery shell", value: "recovery" };

const RESET_TAKES = "The OEM factory reset takes ownership: it resets the TPM, makes your signing key, signs /boot and seals your TOTP secret.";

function hex(id: number): string {
  return `0x${id.toString(16)}`;
}

/** What an owner alone could have set up, one line each. */
function evidenceLines(evidence: OwnerEvidence): string[] {
  const lines: string[] = [];
  if (evidence.keyring) lines.push(`- the firmware holds an OpenPGP key (${evidence.keyring})`);
  const tpm = evidence.tpm;
  if (tpm.readable && tpm.counters.length > 0) lines.push(`- the TPM holds a rollback counter (${tpm.counters.map(hex).join(", ")})`);
  if (tpm.readable && tpm.sealedSecret) lines.push("- a TOTP/HOTP secret is sealed in the TPM");
  return lines;
}

/** What an owned machine should have and does not, one line each ("kexec.sig is missing from /boot"). */
function missingLines(evidence: OwnerEvidence, boot: BootLook | null): string[] {
  const lines: string[] = [];
  if (!evidence.keyring) lines.push("- the firmware holds no OpenPGP key, so /boot cannot be verified");
  if (!boot) return lines;
  const expected = [SIGNATURE_FILE, HASH_LIST];
  if (evidence.tpm.readable && evidence.tpm.counters.length > 0) expected.push(ROLLBACK_FILE);
  for (const name of expected) if (!boot.present.has(name)) lines.push(`- ${name} is missing from /boot`);
  return lines;
}

function noteLines(boot: BootLook | null): string[] {
  if (!boot?.interrupted) return [];
  return ["", `A note on /boot says an OEM factory reset did not finish: it stopped while ${boot.interrupted}. No signature covers that note: if you did not start a reset, someone else wrote it.`];
}

function ownedScreen(ctx: FlowContext, evidence: OwnerEvidence, boot: BootLook | null): Screen {
  const missing = missingLines(evidence, boot);
  const signed = evidence.keyring !== null || (evidence.tpm.readable && evidence.tpm.counters.length > 0);
  const advice = [
    ...(missing.length > 0 ? ["Someone who can write the disk can remove files from /boot. Do not re-own or re-sign this machine unless you know why they are missing: Default boot refuses this /boot; look at it from the recovery shell, or restore it from your backup."] : []),
    ...(boot?.interrupted ? ["Start the reset again (F) only if you started it yourself; if not, go on to the main menu."] : []),
  ];
  return {
    title: signed ? SIGNED_BEFORE_TITLE : SET_UP_BEFORE_TITLE,
    tone: "error",
    text: [
      signed ? "This machine has an owner, and /boot was signed before. What shows it, kept where writing /boot cannot change it:" : "This machine was set up by an owner before. What shows it, kept where writing /boot cannot change it:",
      ...evidenceLines(evidence),
      ...(missing.length > 0 ? ["", "What is missing:", ...missing] : []),
      ...noteLines(boot),
      "",
      ...advice,
    ].join("\n"),
    // Re-owning is offered, never first, only when the note asks for it; it stays in Options.
    items: [MENU_ITEM, ...(boot?.interrupted ? [RESET_ITEM] : []), ...recoveryItem(ctx)],
  };
}

function unknownScreen(ctx: FlowContext, evidence: OwnerEvidence, boot: BootLook | null): Screen {
  const why = evidence.tpm.readable ? "" : ` (${evidence.tpm.why})`;
  return {
    title: UNKNOWN_OWNER_TITLE,
    tone: "warning",
    text: [
      `The firmware holds no OpenPGP key, and whether the TPM holds a rollback counter or a sealed secret cannot be read${why}, so it cannot be told whether /boot was signed before.`,
      ...(boot && !boot.present.has(SIGNATURE_FILE) ? ["/boot has no kexec.sig."] : []),
      ...noteLines(boot),
      "",
      `Start the OEM factory reset only on a machine you know has no owner yet. ${RESET_TAKES}`,
    ].join("\n"),
    items: [MENU_ITEM, RESET_ITEM, ...recoveryItem(ctx)],
  };
}

function neverOwnedScreen(ctx: FlowContext, boot: BootLook | null): Screen {
  const interrupted = boot?.interrupted;
  const why = interrupted
    ? [`An OEM factory reset did not finish.\nIt stopped while ${interrupted}.`, "", "The TPM, the keys and /boot may be half changed, so TOTP and /boot checks can fail until the reset is run again."]
    : ["The firmware holds no OpenPGP public key, so no /boot can be verified, and the TPM holds no rollback counter and no sealed secret: this machine was never owned."];
  return {
    title: interrupted ? INCOMPLETE_TITLE : NO_OWNER_TITLE,
    tone: "info",
    text: [
      ...why,
      ...(boot?.present.has(SIGNATURE_FILE) ? ["/boot holds a kexec.sig, but no key in the firmware can check it."] : []),
      "",
      RESET_TAKES,
    ].join("\n"),
    items: [RESET_ITEM, MENU_ITEM, ...recoveryItem(ctx)],
  };
}

function recoveryItem(ctx: FlowContext): MenuItem<Choice>[] {
  return restrictedBoot(ctx) ? [] : [RECOVERY_ITEM];
}

function screenFor(ctx: FlowContext, found: Verdict, evidence: OwnerEvidence, boot: BootLook | null): Screen {
  if (found === "owned") return ownedScreen(ctx, evidence, boot);
  if (found === "unknown") return unknownScreen(ctx, evidence, boot);
  return neverOwnedScreen(ctx, boot);
}

/** True when the firmware's key, a signed-looking /boot and no reset note leave nothing to say. */
function nothingToSay(ctx: FlowContext, boot: BootLook | null): boolean {
  return romKeyring(ctx.sys) !== null && (!boot || (boot.present.has(SIGNATURE_FILE) && !boot.interrupted));
}

export type OwnershipOutcome = { kind: "reboot" } | { kind: "menu"; shown: AttestationView | null };

/**
 * The startup's ownership screen, until the user goes on or a reset is done ("reboot" after a
 * finished reset on the firmware). `shown` is the TOTP/HOTP status the screen showed, so the
 * main menu need not check the HOTP dongle again.
 */
export async function ownershipAtStartup(ctx: FlowContext): Promise<OwnershipOutcome> {
  let shown: AttestationView | null = null;
  for (;;) {
    const boot = await lookAtBoot(ctx);
    if (nothingToSay(ctx, boot)) return { kind: "menu", shown };
    const evidence = await readOwnerEvidence(ctx.sys, ctx.tpm, ctx.tpmError);
    shown = await readAttestation(ctx);
    const screen = screenFor(ctx, verdict(evidence), evidence, boot);
    const prompt = ctx.ui.prompt;
    prompt.setStatus(headerStatus(ctx, shown));
    const choice = await prompt.menu<Choice>({ title: screen.title, tone: screen.tone, text: `${attestationLine(shown)}\n\n${screen.text}`, items: screen.items });
    if (choice === "menu" || choice === "back") return { kind: "menu", shown };
    if (choice === "recovery") await recoveryShell(ctx, screen.title);
    else if (restartsAfter(ctx, await (await import("./oem-reset/wizard.ts")).oemResetWizard(ctx))) return { kind: "reboot" };
  }
}
