// Why the secret did not unseal, in words: which bound PCR moved since sealing (from the
// record, believed only when it reproduces the sealed object's binding), and which measured
// component the firmware's event log now shows in it. Heads can only say "unseal failed".
import type { Sys } from "../host/sys.ts";
import { equalBytes } from "../../lib/bytes.ts";
import type { Tpm } from "../../tpm/index.ts";
import type { EventLog } from "../../tpm/eventlog/parse.ts";
import { describeEventData } from "../../tpm/eventlog/parse.ts";
import { explain } from "../../tpm/eventlog/replay.ts";
import type { PcrHash } from "../../tpm/tpm2/policy.ts";
import { LUKS_HEADER_PCR, PCR_ROLE } from "../measure/pcr-roles.ts";
import { futurePcr4, pcrHashOf, readEventLog } from "./eventlog.ts";
import { BOOT_PCR, PCR4_STRINGS, pcr4Reason } from "../measure/pcr4.ts";
import { readRecord, recordMatchesSeal } from "./record.ts";
import type { SealedSecret } from "./secret.ts";
import { MODULE_PCR, MODULE_RECORD } from "../pid1/modules.ts";

export interface FailureExplanation {
  /** The bound PCRs known to differ from the values sealed to (empty when that cannot be told). */
  pcrs: number[];
  /** Sentences for the operator, most important first. */
  explanation: string[];
  /** Whether a trustworthy record of the sealed values was found. */
  recorded: boolean;
}

const MAX_EVENTS_SHOWN = 6;

export interface ExplainOptions {
  log?: EventLog | null;
}

export async function explainUnsealFailure(tpm: Tpm, sys: Sys, secret: SealedSecret, options: ExplainOptions = {}): Promise<FailureExplanation> {
  const hash = pcrHashOf(tpm.pcrSize);
  const source = options.log !== undefined ? { log: options.log, absent: options.log ? undefined : "no event log was given" } : readEventLog(sys);
  const log = source.log;
  const live = await tpm.pcrRead([...secret.pcrs]);
  const clean4 = futurePcr4(log, hash);
  const record = await readRecord(tpm, secret);
  const trusted = record !== null && (await recordMatchesSeal(tpm, secret.handle, record)) && secret.pcrs.every((p) => record.pcrs.includes(p));

  const lines: string[] = [];
  let changed: number[];
  if (trusted) {
    changed = secret.pcrs.filter((p) => !equalBytes(record!.values.get(p)!, live.get(p)!));
    if (changed.length === 0) lines.push("Every bound PCR holds the value the secret was sealed to; the TPM refused for another reason (a different PCR bank, or a damaged object).");
  } else {
    // Without a record only PCR 4 can be judged: its clean value is known from the log.
    changed = equalBytes(live.get(BOOT_PCR)!, clean4) ? [] : [BOOT_PCR];
    lines.push(record === null
      ? "No record of the PCR values at sealing time (the secret was sealed by Heads or another tool): the changed PCR cannot be named for certain."
      : "The recorded PCR values do not belong to the sealed secret (it was resealed elsewhere): the changed PCR cannot be named for certain.");
  }

  for (const p of changed) {
    lines.push(`PCR ${p} changed since the secret was sealed (${PCR_ROLE[p] ?? "see the event log"}).`);
    if (p === BOOT_PCR) lines.push(pcr4Sentence(clean4, live.get(p)!, hash));
    // The boot runtime, not the firmware, extends PCR 5, so its own record names the modules, not the event log.
    else if (p === MODULE_PCR) lines.push(moduleLines(sys));
    // PCR 6 holds what the boot runtime measured from the disks; the role sentence says all the log could.
    else if (p !== LUKS_HEADER_PCR) lines.push(...logLines(log, p, live.get(p)!, hash, source.absent));
  }

  if (!trusted && log) {
    // What the log can still tell: a bound PCR the log does not reproduce was extended by something unlogged.
    // PCRs 4, 5 and 6 carry the boot runtime's own unlogged extends, so the log cannot reproduce them.
    for (const v of explain(log, new Map([...live].filter(([p]) => p !== BOOT_PCR && p !== MODULE_PCR && p !== LUKS_HEADER_PCR)), hash)) {
      if (v.match) continue;
      lines.push(`PCR ${v.pcr} does not match the event log: ${v.explanation}.`);
      if (!changed.includes(v.pcr)) changed.push(v.pcr);
    }
  }
  if (changed.some((p) => p !== BOOT_PCR)) {
    lines.push(secret.advice ?? "If you changed the firmware, its settings or the GPG keys in it, generate a new secret; if you did not, the firmware may have been tampered with.");
  }
  return { pcrs: changed.sort((a, b) => a - b), explanation: lines, recorded: trusted };
}

function moduleLines(sys: Sys): string {
  const text = sys.stat(MODULE_RECORD) ? sys.readText(MODULE_RECORD) : "";
  const modules = text.split("\n").map((l) => l.split(/\s+/).slice(1).join(" ")).filter((m) => m !== "");
  return modules.length > 0 ? `Kernel modules measured in this boot, in order: ${modules.join(", ")}.` : `No kernel module was measured in this boot (${MODULE_RECORD} is empty or missing).`;
}

function pcr4Sentence(clean: Uint8Array, live: Uint8Array, hash: PcrHash): string {
  const reason = pcr4Reason(clean, live, hash);
  if (reason === "recovery") return `The recovery shell was entered in this boot (PCR 4 extended with "${PCR4_STRINGS.recovery}"): reboot to see a code.`;
  if (reason === "unsafe") return "A boot without verification was forced in this boot: reboot to see a code.";
  if (reason === "usb") return "A USB boot was started in this boot: reboot to see a code.";
  if (reason === "generic") return "The OS boot path already ran in this boot: reboot to see a code.";
  return "PCR 4 was extended in this boot by something the boot runtime does not know: reboot; if it persists, investigate.";
}

function logLines(log: EventLog | null, pcr: number, value: Uint8Array, hash: PcrHash, absent?: string): string[] {
  if (!log) return [`No event log to say which component (${absent ?? "none"}).`];
  const [v] = explain(log, new Map([[pcr, value]]), hash);
  if (!v) return [];
  const events = v.match ? log.events.filter((e) => e.pcr === pcr && e.type !== 3) : v.suspects;
  const head = v.match ? `The event log accounts for its value; measured into PCR ${pcr} now:` : `The event log ${v.explanation}; suspects:`;
  const shown = events.slice(0, MAX_EVENTS_SHOWN).map((e) => `  #${e.seq} ${e.typeName} ${describeEventData(e)}`);
  if (events.length > MAX_EVENTS_SHOWN) shown.push(`  … and ${events.length - MAX_EVENTS_SHOWN} more (bootward tpm eventlog)`);
  return [head, ...shown];
}
