// The owner's files kept in the ROM (keyring, config.user), as Heads' cbfs-init: each is
// measured into PCR 7 — its path as a string, then its content — in CBFS listing order, and
// written to its path in the running system before anything reads it.
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import type { EventLog } from "../../tpm/eventlog/parse.ts";
import { replay } from "../../tpm/eventlog/replay.ts";
import { extendPcr, type PcrHash } from "../../tpm/tpm2/policy.ts";
import { sha1, sha256 } from "../../tpm/crypto/hash.ts";
import { utf8 } from "../../lib/bytes.ts";
import { userFiles, type UserFile } from "../flash/user-files.ts";
import type { FlashDevice } from "../flash/device.ts";

export const USER_FILES_PCR = 7;

/** CONFIG_PCR overrides the PCR, as in Heads. */
export function userFilesPcr(setting: string | undefined): number {
  return setting !== undefined && /^[0-9]+$/.test(setting) && Number(setting) < 24 ? Number(setting) : USER_FILES_PCR;
}

function mkdirs(sys: Sys, dir: string): void {
  if (dir === "" || sys.stat(dir)) return;
  mkdirs(sys, dir.slice(0, dir.lastIndexOf("/")));
  sys.mkdir(dir, 0o755);
}

/** Reads, measures and installs the user files; returns their paths. Errors (flash, CBFS, TPM) go to the caller. */
export async function loadUserFiles(sys: Sys, flash: FlashDevice, tpm: Tpm | null, pcr = USER_FILES_PCR): Promise<string[]> {
  const files = [...userFiles(await flash.read())];
  for (const file of files) {
    if (tpm) {
      await tpm.extend(pcr, file.path);
      await tpm.extend(pcr, file.data);
    }
    mkdirs(sys, file.path.slice(0, file.path.lastIndexOf("/")));
    sys.writeFile(file.path, file.data, 0o644);
  }
  return files.map((f) => f.path);
}

/**
 * What PCR 7 will hold at the next boot with `files` in the ROM: the firmware's own PCR 7
 * events from the log (none without a log), then each file's path and content.
 */
export function futureUserFilesPcr(log: EventLog | null, hash: PcrHash, files: UserFile[], pcr = USER_FILES_PCR): Uint8Array {
  const digest = hash === "sha1" ? sha1 : sha256;
  let value = (log ? replay(log, hash).get(pcr) : undefined) ?? new Uint8Array(hash === "sha1" ? 20 : 32);
  for (const file of files) {
    for (const part of [utf8(file.path), file.data]) value = extendPcr(hash, value, digest(part));
  }
  return value;
}
