// /boot/kexec_hotp_counter: the next HOTP counter, a decimal number and a newline (Heads'
// `echo $counter_value`). Not hashed, not signed: the dongle, which only accepts counters
// ahead of its own, is what stops a replay. The caller remounts /boot read-write around writes.
import type { Sys } from "../../host/sys.ts";
import { HOTP_COUNTER_FILE } from "../constants.ts";

export class HotpCounterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HotpCounterError";
  }
}

export function readHotpCounter(sys: Sys): number {
  const path = HOTP_COUNTER_FILE;
  if (!sys.stat(path)) throw new HotpCounterError(`${path} is missing: generate a new TOTP/HOTP secret to program the dongle`);
  const text = sys.readText(path).trim();
  if (!/^\d{1,15}$/.test(text)) throw new HotpCounterError(`${path} does not hold a counter ("${text.slice(0, 20)}"): generate a new TOTP/HOTP secret`);
  return Number(text);
}

/** Write-new then rename, so a power cut leaves the old counter or the new one. */
export function writeHotpCounter(sys: Sys, value: number): void {
  const path = HOTP_COUNTER_FILE;
  if (!Number.isSafeInteger(value) || value < 0) throw new HotpCounterError(`${value} is not a HOTP counter`);
  const tmp = `${path}.new`;
  sys.writeFile(tmp, `${value}\n`);
  sys.rename(tmp, path);
}
