// The SHA-256 of /boot files, as `sha256sum` prints them, computed by Sys.sha256File: natively
// inside the binary on the firmware (no busybox process per batch, no output to parse), with
// node:crypto on a host. JS never hashes the bulk of /boot.
import { SysError, type Sys } from "../../host/sys.ts";
import { toHex } from "../../../lib/bytes.ts";

export class FileHashError extends Error {
  override readonly name = "FileHashError";
}

/** Digest (lowercase hex) of each name, relative to dir. */
export function sha256Files(sys: Sys, dir: string, names: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of names) {
    try {
      out.set(name, toHex(sys.sha256File(`${dir}/${name}`)));
    } catch (error) {
      if (!(error instanceof SysError)) throw error;
      throw new FileHashError(`${name} in ${dir} could not be hashed (${error.message}); a file of /boot is unreadable or vanished while it was checked`);
    }
  }
  return out;
}
