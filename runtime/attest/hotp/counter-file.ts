// /boot/kexec_hotp_counter: the next HOTP counter, a decimal number and a newline (Heads'
// `echo $counter_value`). Not hashed, not signed: the dongle, which only accepts counters
// ahead of its own, is what stops a replay. The caller remounts /boot read-write around writes.
import type { Sys } from "../../host/sys.ts";
import { resolvePath } from "../../paths.ts";
import { HOTP_COUNTER_FILE } from "../constants.ts";

export class HotpCounterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HotpCounterError";
  }
}

export function counterPath(root = "/", path = HOTP_COUNTER_FILE): string {
  return resolvePath(root, path);
}

export function readHotpCounter(sys: Sys, root = "/", path = HOTP_COUNTER_FILE): number {
  const full = counterPath(root, path);
  if (!sys.stat(full)) throw new HotpCounterError(`${path} is missing: generate a new TOTP/HOTP secret to program the dongle`);
  const text = sys.readText(full).trim();
  if (!/^\d{1,15}$/.test(text)) throw new HotpCounterError(`${path} does not hold a counter ("${text.slice(0, 20)}"): generate a new TOTP/HOTP secret`);
  return Number(text);
}

/** Write-new then rename, so a power cut leaves the old counter or the new one. */
export function writeHotpCounter(sys: Sys, value: number, root = "/", path = HOTP_COUNTER_FILE): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new HotpCounterError(`${value} is not a HOTP counter`);
  const full = counterPath(root, path);
  const tmp = `${full}.new`;
  sys.writeFile(tmp, `${value}\n`);
  sys.rename(tmp, full);
}
