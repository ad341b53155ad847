// LUKS volumes through cryptsetup, for the disk unlock key: what kind of volume it is, which
// key slots are taken, its header (measured into PCR 6), testing a passphrase and adding a
// key. Passphrases and keys go to cryptsetup on stdin, never on the command line; a new key
// goes through a file in tmpfs that the caller wipes.
import type { Sys } from "../host/sys.ts";
import { runTool, toolComplaint } from "./tool.ts";

export class LuksError extends Error {
  override readonly name = "LuksError";
}

const fail = (message: string) => new LuksError(message);

export interface LuksInfo {
  version: 1 | 2;
  uuid: string;
  /** Key slots holding a key. */
  slots: number[];
}

/** Reads `cryptsetup luksDump` (LUKS1 "Key Slot N: ENABLED", LUKS2 "Keyslots:" then "  N: luks2"). */
export function parseLuksDump(text: string): LuksInfo {
  const version = /^Version:\s*([12])\s*$/m.exec(text)?.[1];
  const uuid = /^UUID:\s*([0-9a-fA-F-]{36})\s*$/m.exec(text)?.[1];
  if (!version || !uuid) throw new LuksError("cryptsetup luksDump printed no version or UUID; the header is damaged or not LUKS");
  const slots: number[] = [];
  if (version === "1") {
    for (const m of text.matchAll(/^Key Slot (\d+): ENABLED\s*$/gm)) slots.push(Number(m[1]));
  } else {
    const section = /^Keyslots:\n((?:[ \t].*\n?)*)/m.exec(text)?.[1] ?? "";
    for (const m of section.matchAll(/^ {2}(\d+): luks2/gm)) slots.push(Number(m[1]));
  }
  return { version: version === "1" ? 1 : 2, uuid: uuid.toLowerCase(), slots };
}

export async function luksInfo(sys: Sys, device: string): Promise<LuksInfo> {
  return parseLuksDump(await runTool(sys, ["cryptsetup", "luksDump", device], `reading the LUKS header of ${device}`, fail));
}

/** Copies the header (and key slots area) of `device` to `file`, which must not exist. */
export async function luksHeaderBackup(sys: Sys, device: string, file: string): Promise<void> {
  await runTool(sys, ["cryptsetup", "luksHeaderBackup", device, "--header-backup-file", sys.hostPath(file)], `backing up the LUKS header of ${device}`, fail);
}

/** Whether `passphrase` opens a key slot of `device` (nothing is mapped). */
export async function testPassphrase(sys: Sys, device: string, passphrase: Uint8Array, slot?: number): Promise<boolean> {
  const argv = ["cryptsetup", "open", "--test-passphrase", "--key-file", "-", ...(slot === undefined ? [] : ["--key-slot", String(slot)]), device];
  const result = await sys.exec(argv, { input: passphrase });
  if (result.status === 0) return true;
  // cryptsetup exits 2 when no key slot takes the passphrase; anything else is another failure.
  if (result.status === 2) return false;
  throw new LuksError(`testing a passphrase on ${device} failed (cryptsetup: ${toolComplaint(result)})`);
}

/**
 * Adds the random key in `keyFile` (the disk unlock key) to `slot`, authorised by `passphrase`
 * (an existing slot's). PBKDF2 at its minimum: 128 random bytes gain nothing from stretching,
 * while cryptsetup's default Argon2id would cost seconds and up to half the RAM at every
 * unlock in the OS initramfs.
 */
export async function addKey(sys: Sys, device: string, passphrase: Uint8Array, keyFile: string, slot: number): Promise<void> {
  const argv = ["cryptsetup", "luksAddKey", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", "-", "--key-slot", String(slot), device, sys.hostPath(keyFile)];
  await runTool(sys, argv, `adding a key to slot ${slot} of ${device}`, fail, passphrase);
}

/** Empties `slot`, authorised by `passphrase` (of any slot). */
export async function killSlot(sys: Sys, device: string, passphrase: Uint8Array, slot: number): Promise<void> {
  await runTool(sys, ["cryptsetup", "luksKillSlot", "--key-file", "-", device, String(slot)], `emptying key slot ${slot} of ${device}`, fail, passphrase);
}

/** The LUKS volumes blkid finds (Heads offers the same list: `blkid | grep crypto_LUKS`); none is not an error. */
export async function luksDevices(sys: Sys): Promise<string[]> {
  const result = await sys.exec(["blkid", "-t", "TYPE=crypto_LUKS", "-o", "device"]);
  // blkid exits 2 when nothing matches.
  if (result.status === 2) return [];
  if (result.status !== 0) throw new LuksError(`listing LUKS devices failed (blkid: ${toolComplaint(result)})`);
  return new TextDecoder().decode(result.stdout).split("\n").map((l) => l.trim()).filter((l) => l.startsWith("/"));
}
