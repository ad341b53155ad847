// The firmware's event log, read through the Sys door, and what it says PCR 4 holds before
// the boot runtime touches it (Heads' `tpmr calcfuturepcr 4`: replay the log's PCR 4
// events from zero; zero when there is no log or no such event).
import type { Sys } from "../host/sys.ts";
import { parseEventLog, type EventLog } from "../../tpm/eventlog/parse.ts";
import { replay } from "../../tpm/eventlog/replay.ts";
import { TpmError } from "../../tpm/index.ts";
import type { PcrHash } from "../../tpm/tpm2/policy.ts";
import { BOOT_PCR } from "../measure/pcr4.ts";

/** Linux's copy of the firmware event log (SeaBIOS/UEFI via ACPI; coreboot's via its own driver). */
export const EVENT_LOG_PATH = "/sys/kernel/security/tpm0/binary_bios_measurements";

export interface LogSource {
  /** null: no log on this machine (coreboot without a log driver, or no TPM driver). */
  log: EventLog | null;
  /** Why there is no log, when there is none. */
  absent?: string;
}

export function readEventLog(sys: Sys): LogSource {
  const path = EVENT_LOG_PATH;
  if (!sys.stat(path)) return { log: null, absent: `no event log at ${path}` };
  try {
    return { log: parseEventLog(sys.readFile(path)) };
  } catch (e) {
    // An unreadable log must not stop the boot: the seal then assumes nothing was measured into PCR 4.
    if (e instanceof TpmError || e instanceof Error) return { log: null, absent: `the event log at ${path} does not parse: ${e.message}` };
    throw e;
  }
}

export function pcrHashOf(pcrSize: number): PcrHash {
  return pcrSize === 20 ? "sha1" : "sha256";
}

/**
 * A PCR as the firmware leaves it, before the boot runtime extends it: the replay of the
 * log's events for it (SeaBIOS and UEFI put a separator into each of PCRs 0–7), zero with no
 * log or no such event.
 */
export function firmwarePcr(log: EventLog | null, hash: PcrHash, pcr: number): Uint8Array {
  const zero = new Uint8Array(hash === "sha1" ? 20 : 32);
  if (!log) return zero;
  return replay(log, hash).get(pcr) ?? zero;
}

/** PCR 4 as the firmware leaves it: what a secret must be sealed to so it unseals in every clean boot. */
export function futurePcr4(log: EventLog | null, hash: PcrHash): Uint8Array {
  return firmwarePcr(log, hash, BOOT_PCR);
}
