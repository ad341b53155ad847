// "Update checksums and sign": regenerate the lists, sign them, move the rollback counter on,
// and switch the new set into /boot.
//
// Why a cut at any point leaves the old signed set or the new one:
//  1. everything new (lists + kexec.sig) is written to /boot/kexec.staging/ — the same
//     filesystem, and a name under ./kexec* so it never shows in the tree or the hashes;
//  2. the rollback file in it already names counter+1, so the staged set is valid only once
//     the counter moves on, and the old set only until then;
//  3. the counter increment is the commit point. Before it, the old live set still verifies
//     and resumeSwitch() throws the staging away. After it, only the staged set can verify;
//     resumeSwitch() finishes moving it in. The live directory in between holds no kexec.sig
//     (it is removed first and renamed in last), so a half-moved set is plainly unsigned,
//     never a mix that verifies.
// Each rename is atomic on its own; resumeSwitch() is idempotent, so a cut during it is
// finished by running it again (`bootward boot sign` and the boot flow call it first).
import type { Sys } from "../../host/sys.ts";
import { TpmError, type Secret, type Tpm } from "../../../tpm/index.ts";
import type { Signer } from "../../../gpg/sign.ts";
import { parseHeadsLine } from "../entries/index.ts";
import { byteOrder } from "./names.ts";
import { removeTree } from "../../platform/tree.ts";
import { walkBoot } from "./walk.ts";
import { isSignedListName, readSignedLists, signedStream, SIGNATURE_FILE } from "./signed-set.ts";
import { counterId, defaultFileName, ROLLBACK_FILE, formatDefault, formatHashLines, formatRollback, formatTree, hashEntry, hashTree, parseRollback, rollbackMatches } from "./hashes.ts";
import { scanMenu } from "../entries/menu.ts";

export const STAGING_DIR = "kexec.staging";
const MANIFEST = "kexec.names";

export class BootSignError extends Error {
  override readonly name = "BootSignError";
}

export interface SignBootOptions {
  bootDir: string;
  signer: Signer;
  /** The rollback counter lives here; without a TPM no rollback file is written. */
  tpm?: Tpm;
  /** Creating the counter (the first signing after a TPM reset) needs the owner's authorization. */
  ownerPassphrase?: Secret;
  /** Make menu entry N (1-based) the default; without it an existing default is kept. */
  defaultIndex?: number;
  uniqueMenu?: boolean;
  /** Lists to write (null: to remove) in the same signed switch: the disk key's set-up files change with the signature, never before it. */
  lists?: ReadonlyMap<string, Uint8Array | null>;
}

export interface SignResult {
  files: string[];
  /** `name` is the id as Heads writes it (hex on TPM 2.0, decimal on 1.2). */
  counter: { id: number; name: string; value: bigint } | null;
}

const enc = (s: string) => new TextEncoder().encode(s);

export async function signBoot(sys: Sys, opts: SignBootOptions): Promise<SignResult> {
  const { bootDir } = opts;
  await resumeSwitch(sys, bootDir, opts.tpm);
  const old = readSignedLists(sys, bootDir);
  const lists = new Map<string, Uint8Array>();
  // Lists bootward does not regenerate (LUKS devices, …) are carried over; package-trigger logs are dropped, as Heads does.
  for (const [name, bytes] of old) {
    if (/^kexec_(hashes|tree|default_hashes|rollback)\.txt$/.test(name) || /^kexec_default\.[0-9]+\.txt$/.test(name) || name.startsWith("kexec_package_trigger")) continue;
    lists.set(name, bytes);
  }
  for (const [name, bytes] of opts.lists ?? []) {
    if (bytes === null) lists.delete(name);
    else lists.set(name, bytes);
  }

  const tree = walkBoot(sys, bootDir);
  lists.set("kexec_hashes.txt", enc(formatHashLines(await hashTree(sys, bootDir, tree))));
  lists.set("kexec_tree.txt", enc(formatTree(tree)));

  const oldDefault = [...old.keys()].find((n) => /^kexec_default\.[0-9]+\.txt$/.test(n));
  let chosen: { name: string; line: string } | null = null;
  if (opts.defaultIndex !== undefined) {
    const menu = scanMenu(sys, bootDir, tree, opts.uniqueMenu);
    const line = menu.lines[opts.defaultIndex - 1];
    if (!Number.isInteger(opts.defaultIndex) || line === undefined) throw new BootSignError(`there is no boot menu entry ${opts.defaultIndex} (the menu has ${menu.lines.length})`);
    chosen = { name: defaultFileName(opts.defaultIndex), line: formatDefault(menu.entries[opts.defaultIndex - 1]!) };
  } else if (oldDefault) {
    chosen = { name: oldDefault, line: new TextDecoder().decode(old.get(oldDefault)!) };
  }
  if (chosen) {
    const entry = parseHeadsLine(chosen.line, chosen.name);
    lists.set(chosen.name, enc(chosen.line));
    lists.set("kexec_default_hashes.txt", enc(formatHashLines(await hashEntry(sys, bootDir, entry))));
  }

  let counter: SignResult["counter"] = null;
  if (opts.tpm) {
    const oldRollback = old.get(ROLLBACK_FILE);
    const id = oldRollback ? parseRollback(new TextDecoder().decode(oldRollback), opts.tpm.version).id : await opts.tpm.counterCreate(opts.ownerPassphrase !== undefined ? { ownerPassphrase: opts.ownerPassphrase } : {});
    const current = oldRollback ? await readNamedCounter(opts.tpm, id) : await opts.tpm.counterIncrement(id);
    counter = { id, name: counterId(id, opts.tpm.version), value: current + 1n };
    lists.set(ROLLBACK_FILE, enc(formatRollback(id, counter.value, opts.tpm.version)));
  }

  const staging = `${bootDir}/${STAGING_DIR}`;
  removeTree(sys, staging);
  sys.mkdir(staging, 0o755);
  for (const [name, bytes] of lists) sys.writeFile(`${staging}/${name}`, bytes, 0o644);
  // The names of the new set, so a resumed switch knows it even after some lists moved.
  sys.writeFile(`${staging}/${MANIFEST}`, [...lists.keys()].sort(byteOrder).join("\n") + "\n", 0o644);
  const signature = await opts.signer.signDetached(signedStream(lists));
  // Written last: a staging dir without kexec.sig is an unfinished one and is thrown away.
  sys.writeFile(`${staging}/${SIGNATURE_FILE}.tmp`, signature, 0o644);
  sys.rename(`${staging}/${SIGNATURE_FILE}.tmp`, `${staging}/${SIGNATURE_FILE}`);

  if (opts.tpm && counter) {
    const now = await opts.tpm.counterIncrement(counter.id);
    if (now !== counter.value) throw new BootSignError(`the rollback counter moved to ${now}, not ${counter.value}, while signing; sign again`);
  }
  await resumeSwitch(sys, bootDir, opts.tpm);
  return { files: [...lists.keys(), SIGNATURE_FILE].sort(byteOrder), counter };
}

/** The counter an existing kexec_rollback.txt names; gone from the TPM means reset or swapped (Heads' preflight refuses too). */
async function readNamedCounter(tpm: Tpm, id: number): Promise<bigint> {
  try {
    return await tpm.counterRead(id);
  } catch (error) {
    if (!(error instanceof TpmError)) throw error;
    throw new BootSignError(
      `the TPM cannot read rollback counter ${counterId(id, tpm.version)}, which /boot/${ROLLBACK_FILE} names (${error.message}): the TPM was reset or swapped. ` +
        "If you reset it yourself, use Options → TPM/TOTP/HOTP Options → Reset the TPM with /boot present (it removes the stale file so that signing starts a new counter); otherwise treat the machine as tampered with.",
    );
  }
}

/**
 * Finishes or discards an interrupted switch: a complete staged set whose rollback file
 * matches the counter now (or that has none) is moved in; anything else staged is removed.
 * Returns what it did.
 */
export async function resumeSwitch(sys: Sys, bootDir: string, tpm?: Tpm): Promise<"none" | "completed" | "discarded"> {
  const staging = `${bootDir}/${STAGING_DIR}`;
  const st = sys.stat(staging);
  if (!st) return "none";
  if (st.kind !== "dir" || !sys.stat(`${staging}/${SIGNATURE_FILE}`)) {
    removeTree(sys, staging);
    return "discarded";
  }
  const manifest = sys.stat(`${staging}/${MANIFEST}`) ? sys.readText(`${staging}/${MANIFEST}`).split("\n").filter((n) => n !== "") : null;
  if (!manifest || manifest.some((n) => !isSignedListName(n) || n.includes("/"))) {
    removeTree(sys, staging);
    return "discarded";
  }
  const names = new Set(manifest);
  // Lists already moved by an earlier, interrupted run live in /boot now.
  const where = (name: string) => (sys.stat(`${staging}/${name}`) ? `${staging}/${name}` : `${bootDir}/${name}`);
  if (names.has(ROLLBACK_FILE)) {
    // Without the TPM we cannot tell whether the commit point was passed: leave both sets alone.
    if (!tpm) throw new BootSignError("an interrupted signing of /boot is pending and needs the TPM counter to be finished; run bootward boot sign with the TPM present");
    const record = parseRollback(sys.readText(where(ROLLBACK_FILE)), tpm.version);
    if (!rollbackMatches(record, await tpm.counterRead(record.id), tpm.version)) {
      removeTree(sys, staging);
      return "discarded";
    }
  }
  if (sys.stat(`${bootDir}/${SIGNATURE_FILE}`)) sys.remove(`${bootDir}/${SIGNATURE_FILE}`);
  for (const name of readSignedLists(sys, bootDir).keys()) if (!names.has(name)) sys.remove(`${bootDir}/${name}`);
  for (const name of names) if (sys.stat(`${staging}/${name}`)) sys.rename(`${staging}/${name}`, `${bootDir}/${name}`);
  sys.rename(`${staging}/${SIGNATURE_FILE}`, `${bootDir}/${SIGNATURE_FILE}`);
  removeTree(sys, staging);
  return "completed";
}
