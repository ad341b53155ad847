// A LUKS volume in an image file, as the disk-key tests use them: PBKDF2 with few iterations
// so that each passphrase test takes milliseconds, not the seconds a real volume costs.
import { execFileSync } from "node:child_process";
import { truncateSync, writeFileSync } from "node:fs";

export function makeLuksImage(path: string, version: 1 | 2, passphrase: string): string {
  writeFileSync(path, "");
  truncateSync(path, 32 * 1024 * 1024);
  execFileSync("cryptsetup", ["luksFormat", "--batch-mode", "--type", `luks${version}`, "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", "-", path], { input: passphrase });
  return path;
}

/** The passphrases the disk-key setup tests use: the volumes' recovery one, the key's, the TPM owner's, and a stranger's slot. */
export const DISK_PASSPHRASES = {
  recovery: "disk recovery passphrase",
  key: "disk unlock passphrase",
  owner: "owner passphrase",
  other: "someone else's slot",
} as const;

/** Whether `secret` opens key slot `slot` of `device` (cryptsetup --test-passphrase; nothing mapped). */
export function keyOpens(device: string, secret: Uint8Array | string, slot: number): boolean {
  try {
    execFileSync("cryptsetup", ["open", "--test-passphrase", "--key-slot", String(slot), "--key-file", "-", device], { input: secret, stdio: ["pipe", "ignore", "ignore"] });
    return true;
  } catch {
    return false;
  }
}
