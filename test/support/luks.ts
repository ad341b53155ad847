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
