// Reading the OEM reset's USB backup drive from the host with the real tools: sfdisk for the
// table, cryptsetup for the LUKS header and its passphrase (no device-mapper needed), mtools
// for the public FAT partition. Each partition is copied out of the image first.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolPath } from "../../initrd/host-tools.ts";

interface SfdiskPartition {
  start: number;
  size: number;
  type: string;
}

function partitionBytes(image: string, p: SfdiskPartition): Buffer {
  const out = Buffer.alloc(p.size * 512);
  const fd = openSync(image, "r");
  try {
    readSync(fd, out, 0, out.length, p.start * 512);
  } finally {
    closeSync(fd);
  }
  return out;
}

export interface BackupDriveView {
  /** Partition types as sfdisk prints them ("83", "c"). */
  types: string[];
  luksDump: string;
  /** Whether cryptsetup accepts `passphrase` for partition 1's key slot. */
  opens(passphrase: string): boolean;
  /** pubkey.asc from the public partition. */
  publicKey: Buffer;
  /** Every file of the public partition, copied out under workDir for a scan. */
  publicFiles: string[];
}

export function inspectBackupDrive(image: string, workDir: string): BackupDriveView {
  const table = JSON.parse(execFileSync(toolPath("sfdisk"), ["--json", image], { encoding: "utf8" })) as { partitiontable: { partitions: SfdiskPartition[] } };
  const [luks, pub] = table.partitiontable.partitions;
  if (!luks || !pub) throw new Error(`the drive has ${table.partitiontable.partitions.length} partitions, not 2`);
  const luksFile = join(workDir, "backup-p1.img");
  writeFileSync(luksFile, partitionBytes(image, luks));
  const fatFile = join(workDir, "backup-p2.img");
  writeFileSync(fatFile, partitionBytes(image, pub));
  const cryptsetup = toolPath("cryptsetup");
  const mtoolsHome = mkdtempSync(join(tmpdir(), "bootward-mtools-"));
  let publicKey: Buffer;
  const publicDir = join(workDir, "backup-public");
  try {
    // mtools refuses a FAT image whose geometry it doubts unless told not to check.
    const env = { ...process.env, HOME: mtoolsHome, MTOOLS_SKIP_CHECK: "1" };
    publicKey = execFileSync(toolPath("mtype"), ["-i", fatFile, "::pubkey.asc"], { env });
    mkdirSync(publicDir, { recursive: true });
    execFileSync(toolPath("mcopy"), ["-s", "-n", "-i", fatFile, "::/", publicDir], { env, stdio: "ignore" });
  } finally {
    rmSync(mtoolsHome, { recursive: true, force: true });
  }
  return {
    types: table.partitiontable.partitions.map((p) => p.type),
    luksDump: execFileSync(cryptsetup, ["luksDump", luksFile], { encoding: "utf8" }),
    opens: (passphrase) => spawnSync(cryptsetup, ["open", "--test-passphrase", "--key-file", "-", luksFile], { input: passphrase }).status === 0,
    publicKey,
    publicFiles: filesUnder(publicDir),
  };
}

/** Every file of an unpartitioned ext image (the demo disk's /boot), dumped under `into` with debugfs. */
export function extFiles(image: string, into: string): string[] {
  mkdirSync(into, { recursive: true });
  execFileSync(toolPath("debugfs"), ["-R", `rdump / ${into}`, image], { stdio: "ignore" });
  return filesUnder(into);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Secrets the OEM reset must never write in the clear: an armoured secret key, the default passphrase. */
const SECRETS = ["PRIVATE KEY BLOCK", "12345678"];

/** How often each secret occurs in each image's raw bytes, as "image: secret × n" lines. */
export function secretsInClear(images: string[]): string[] {
  const counts: string[] = [];
  for (const image of images) {
    const raw = readFileSync(image);
    for (const secret of SECRETS) {
      let n = 0;
      for (let at = raw.indexOf(secret); at >= 0; at = raw.indexOf(secret, at + 1)) n++;
      counts.push(`${image}: ${secret} × ${n}`);
    }
  }
  return counts;
}

/** The primary key fingerprints GnuPG finds in a keyring or armoured key, without importing it. */
export function fingerprints(key: Buffer | Uint8Array): string[] {
  const home = mkdtempSync(join(tmpdir(), "bootward-gpg-show-"));
  try {
    const out = execFileSync(toolPath("gpg"), ["--homedir", home, "--batch", "--no-autostart", "--with-colons", "--import-options", "show-only", "--import"], { input: key, encoding: "utf8", stdio: ["pipe", "pipe", "ignore"] });
    return [...out.matchAll(/^pub:(?:[^\n]*)\nfpr:+([0-9A-F]{40}):/gm)].map((m) => m[1]!);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
