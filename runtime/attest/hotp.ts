// HOTP at boot and at reseal, as Heads' unseal-hotp.sh and seal-hotpkey.sh: the code for
// the counter in /boot/kexec_hotp_counter goes to the dongle, and the file moves on by one.
import type { Sys } from "../host/sys.ts";
import { HOTP_KEY_FILE } from "./constants.ts";
import { hotpCode } from "./otp.ts";
import type { Dongle, DongleAnswer } from "./hotp/dongle.ts";
import { readHotpCounter, writeHotpCounter } from "./hotp/counter-file.ts";

/** Heads programs the dongle at counter 1 and writes 2 to the counter file. */
export const INITIAL_COUNTER = 1;

export interface HotpBootResult extends DongleAnswer {
  counter: number;
}

/** Boot: compute the code for the stored counter, advance the file, ask the dongle. /boot must be writable. */
export async function verifyWithDongle(secret: Uint8Array, dongle: Dongle, sys: Sys): Promise<HotpBootResult> {
  const counter = readHotpCounter(sys);
  const code = hotpCode(secret, counter);
  // Advance first: a code once sent must never be sent again, even if the check is cut short.
  writeHotpCounter(sys, counter + 1);
  return { ...(await dongle.check(code)), counter };
}

/** Reseal: put the secret into the dongle and start the counter file after it. /boot must be writable. */
export async function programDongle(secret: Uint8Array, dongle: Dongle, adminPin: Uint8Array, sys: Sys): Promise<DongleAnswer> {
  const answer = await dongle.program(secret.subarray(0, 20), adminPin, INITIAL_COUNTER);
  if (answer.result !== "Success") return answer;
  writeHotpCounter(sys, INITIAL_COUNTER + 1);
  sys.writeFile(HOTP_KEY_FILE, `${dongle.name}\n`);
  return answer;
}
