// The OEM factory reset's steps that change the machine, without their screens (the wizard
// in flows/oem-reset/ asks and shows; pending.ts notes each step before it runs): the old
// signed set removed, the new keyring installed and written to the ROM with its trust and the
// owner's settings, the secret key's backup written.
import type { Sys } from "../host/sys.ts";
import type { NewKey } from "../../gpg/keygen.ts";
import { ultimateTrustDb } from "../../gpg/trustdb.ts";
import { withUserSettings } from "../config/user.ts";
import type { Config } from "../config/parse.ts";
import type { Tpm } from "../../tpm/index.ts";
import { fromHex } from "../../lib/bytes.ts";
import { isSignedListName, SIGNATURE_FILE, STAGING_DIR } from "../boot/index.ts";
import { ROM_KEYRINGS } from "../boot/integrity/keyring.ts";
import type { FlashDevice } from "../flash/device.ts";
import { userFiles, withUserFiles } from "../flash/user-files.ts";
import { futureUserFilesPcr, userFilesPcr } from "../measure/user-files.ts";
import { pcrHashOf, readEventLog } from "../sealing/eventlog.ts";
import { formatBackupDrive, type UsbDrive } from "./drive.ts";
import type { PrivatePercent } from "./partition.ts";
import { removeTree } from "../platform/tree.ts";

/** Where the new secret key's protected copy goes: a drive formatted as the backup, or a file. */
export type KeyBackup = { kind: "drive"; drive: UsbDrive; share: PrivatePercent } | { kind: "file"; path: string };

/** The machine the steps act on: its files, whether it is the firmware, its board config. */
export interface Machine {
  sys: Sys;
  firmware: boolean;
  config: Config;
}

/** GnuPG's binary keyring, which Heads' gpg reads too; the reset replaces whatever keyring was there. */
const KEYRING = "/.gnupg/pubring.gpg";

/** Heads' generate_checksums starts from nothing: every kexec* file of the old owner goes. */
export function removeOldSignedSet(sys: Sys, bootDir: string): void {
  for (const name of sys.readdir(bootDir)) {
    if (isSignedListName(name) || name === SIGNATURE_FILE || name === STAGING_DIR) removeTree(sys, `${bootDir}/${name}`);
  }
}

/** The new keyring where the firmware reads it this boot, replacing every older one. */
export function installKeyring(sys: Sys, publicKey: Uint8Array): void {
  const dir = "/.gnupg";
  if (!sys.stat(dir)) sys.mkdir(dir, 0o700);
  // Older keyrings would be read first and still trust the previous owner.
  for (const old of ROM_KEYRINGS) if (old !== KEYRING && sys.stat(old)) sys.remove(old);
  sys.writeFile(`${KEYRING}.tmp`, publicKey, 0o644);
  sys.rename(`${KEYRING}.tmp`, KEYRING);
}

/** Why the key copy cannot go to `path` (a sentence), or null when it can. */
export function keyCopyProblem(sys: Sys, path: string): string | null {
  if (!path.startsWith("/") || path.endsWith("/")) return "Give the full path of a file, such as /media/privkey.sec.";
  if (sys.stat(path.slice(0, path.lastIndexOf("/")) || "/")?.kind !== "dir") return `${path.slice(0, path.lastIndexOf("/")) || "/"} is not a directory; mount the USB drive there first.`;
  if (sys.stat(path)) return `${path} already exists; choose another name so no key is overwritten.`;
  return null;
}

const TRUSTDB = "/.gnupg/trustdb.gpg";
const CONFIG_USER = "/etc/config.user";

/** The device /boot is mounted from, which Heads' reset keeps as CONFIG_BOOT_DEV. */
function bootDevice(m: Machine): string | null {
  const mounts = "/proc/mounts";
  if (!m.firmware || !m.sys.stat(mounts)) return null;
  const line = m.sys.readText(mounts).split("\n").find((l) => l.split(" ")[1] === "/boot");
  return line?.split(" ")[0] ?? null;
}

/** The owner's settings after the reset: the old ones, with the /boot device and whether a backup drive exists. */
function userSettings(m: Machine, old: Uint8Array | undefined, backup: KeyBackup | null): Uint8Array {
  const settings: Record<string, string> = { CONFIG_HAVE_GPG_KEY_BACKUP: backup?.kind === "drive" ? "y" : "n" };
  const device = bootDevice(m);
  if (device) settings.CONFIG_BOOT_DEV = device;
  return new TextEncoder().encode(withUserSettings(old ? new TextDecoder().decode(old) : "", settings));
}

/**
 * As Heads' reset writes the ROM: every heads/* file is rewritten, with the new keyring and
 * its ultimate trust, the owner's settings updated and their other files carried over.
 * Returns the PCR 7 value the next boot will measure, which the TOTP secret is sealed to.
 */
export async function storeKeyringInRom(m: Machine, flash: FlashDevice, tpm: Tpm, key: NewKey, backup: KeyBackup | null): Promise<Map<number, Uint8Array>> {
  const current = await flash.read();
  const old = [...userFiles(current)];
  const kept = old.filter((f) => !f.path.startsWith("/.gnupg/") && f.path !== CONFIG_USER);
  const trustdb = ultimateTrustDb({ fingerprint: fromHex(key.fingerprint), userIds: key.userIds }, Math.floor(m.sys.now() / 1000));
  const config = userSettings(m, old.find((f) => f.path === CONFIG_USER)?.data, backup);
  const image = withUserFiles(current, [...kept, { path: KEYRING, data: key.binaryPublic }, { path: TRUSTDB, data: trustdb }, { path: CONFIG_USER, data: config }]);
  await flash.write(image);
  const pcr = userFilesPcr(m.config.CONFIG_PCR);
  return new Map([[pcr, futureUserFilesPcr(readEventLog(m.sys).log, pcrHashOf(tpm.pcrSize), [...userFiles(image)], pcr)]]);
}

/** Writes the protected secret key where the owner chose; the drive is erased first. */
export async function writeBackup(sys: Sys, backup: KeyBackup, key: NewKey, passphrase: string): Promise<void> {
  const secretKey = await key.protectedSecret(passphrase);
  if (backup.kind === "file") {
    sys.writeFile(backup.path, secretKey, 0o600);
    return;
  }
  const luksPassphrase = new TextEncoder().encode(passphrase);
  try {
    await formatBackupDrive(sys, backup.drive, backup.share, luksPassphrase, { secretKey, publicKey: key.armoredPublic });
  } finally {
    luksPassphrase.fill(0);
  }
}
