// Verification of /boot in Heads' order (kexec-select-boot): signature over the kexec*.txt
// lists → every file's hash and the tree → rollback counter → the signed default entry is
// still line N of the freshly parsed menu → the default entry's files. The first failing
// check ends it; the failure names the check and exactly which files changed, appeared or
// vanished. Only success yields a VerifiedBoot.
import type { Sys } from "../../host/sys.ts";
import type { Tpm } from "../../../tpm/index.ts";
import type { PublicKey } from "openpgp";
import { SignatureError, verifyDetached } from "../../../gpg/verify.ts";
import { byteOrder } from "./names.ts";
import { walkBoot, type TreeNode } from "./walk.ts";
import { readSignedLists, signedStream, SIGNATURE_FILE } from "./signed-set.ts";
import { counterId, entryFiles, ROLLBACK_FILE, parseHashLines, parseRollback, parseTree, rollbackMatches, type HashLine } from "./hashes.ts";
import { sha256Files } from "./file-hashes.ts";
import { BootConfigChangedError, scanMenu } from "../entries/menu.ts";
import { verifierToken, VerifiedBoot } from "./verified.ts";
import { BootConfigError } from "../entries/index.ts";

const TOKEN: ReturnType<typeof verifierToken> = verifierToken();

export type CheckName = "signature" | "hashes" | "rollback" | "default-entry" | "default-hashes";

export interface FileChanges {
  changed: string[];
  appeared: string[];
  vanished: string[];
}

export class BootVerifyError extends Error {
  override readonly name = "BootVerifyError";
  constructor(
    readonly check: CheckName,
    readonly reason: string,
    readonly files: FileChanges = { changed: [], appeared: [], vanished: [] },
  ) {
    super(`/boot failed the ${check} check: ${reason}${describeFiles(files)}`);
  }
}

function describeFiles(f: FileChanges): string {
  const parts: string[] = [];
  if (f.changed.length) parts.push(`changed: ${f.changed.join(", ")}`);
  if (f.appeared.length) parts.push(`appeared: ${f.appeared.join(", ")}`);
  if (f.vanished.length) parts.push(`vanished: ${f.vanished.join(", ")}`);
  return parts.length ? ` (${parts.join("; ")})` : "";
}

export interface VerifyBootOptions {
  bootDir: string;
  keys: PublicKey[];
  /** Needed when /boot carries kexec_rollback.txt (and always with requireRollback). */
  tpm?: Tpm;
  /** CONFIG_BOOT_REQ_ROLLBACK=y: a missing rollback file is a failure. */
  requireRollback?: boolean;
  /** CONFIG_IGNORE_ROLLBACK=y. */
  ignoreRollback?: boolean;
  /** CONFIG_BOOT_REQ_HASH=y: a missing default entry is a failure. */
  requireDefault?: boolean;
  /** Time to check key validity at (a firmware clock may be unset). */
  date?: Date;
  uniqueMenu?: boolean;
}

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Compares hash lines against fresh native digests; lists what differs. */
// `known` holds digests taken earlier in this same run, so the default entry's kernel and
// initrd (most of the bytes of /boot) are not hashed twice.
async function checkLines(sys: Sys, bootDir: string, lines: HashLine[], present: Set<string>, known = new Map<string, string>()): Promise<FileChanges> {
  const listed = lines.filter((l) => present.has(l.path));
  const digests = sha256Files(sys, bootDir, listed.map((l) => l.path).filter((p) => !known.has(p)));
  for (const [p, d] of known) digests.set(p, d);
  for (const l of listed) known.set(l.path, digests.get(l.path)!);
  return {
    changed: listed.filter((l) => digests.get(l.path) !== l.digest).map((l) => l.path),
    appeared: [],
    vanished: lines.filter((l) => !present.has(l.path)).map((l) => l.path),
  };
}

const empty = (f: FileChanges) => f.changed.length + f.appeared.length + f.vanished.length === 0;

export async function verifyBoot(sys: Sys, opts: VerifyBootOptions): Promise<VerifiedBoot> {
  const { bootDir } = opts;

  // 1. The signature over the lists.
  const lists = readSignedLists(sys, bootDir);
  const sig = sys.stat(`${bootDir}/${SIGNATURE_FILE}`);
  if (!sig || sig.kind !== "file") throw new BootVerifyError("signature", "/boot is not signed (kexec.sig is missing); sign it from the Options menu");
  if (lists.size === 0) throw new BootVerifyError("signature", "/boot holds kexec.sig but no kexec*.txt list");
  let signer: string;
  let clockWarning: string | null;
  try {
    const result = await verifyDetached({ data: signedStream(lists), signature: sys.readFile(`${bootDir}/${SIGNATURE_FILE}`), keys: opts.keys, ...(opts.date ? { date: opts.date } : {}) });
    signer = result.fingerprint;
    clockWarning = result.clockWarning;
  } catch (error) {
    if (error instanceof SignatureError) throw new BootVerifyError("signature", `${error.message} [${error.reason}]`);
    throw error;
  }

  // 2. Every file's hash, and the tree (files added or removed).
  const hashesText = text(lists.get("kexec_hashes.txt"));
  const treeText = text(lists.get("kexec_tree.txt"));
  if (hashesText === undefined || treeText === undefined) throw new BootVerifyError("hashes", "kexec_hashes.txt or kexec_tree.txt is missing from the signed set; re-sign /boot");
  const tree: TreeNode[] = walkBoot(sys, bootDir);
  const fresh = new Set(tree.map((n) => n.rel));
  const freshFiles = new Set(tree.filter((n) => n.kind === "file").map((n) => n.rel));
  const storedTree = new Set(parseTree(treeText, "kexec_tree.txt"));
  const hashLines = parseHashLines(hashesText, "kexec_hashes.txt");
  const hashed = new Set(hashLines.map((l) => l.path));
  const digests = new Map<string, string>();
  const files = await checkLines(sys, bootDir, hashLines, freshFiles, digests);
  const appeared = new Set([...fresh].filter((p) => !storedTree.has(p)));
  for (const p of freshFiles) if (!hashed.has(p)) appeared.add(p);
  files.appeared = [...appeared].sort(byteOrder);
  const vanished = new Set([...files.vanished, ...[...storedTree].filter((p) => !fresh.has(p))]);
  files.vanished = [...vanished].filter((p) => !appeared.has(p)).sort(byteOrder);
  if (!empty(files)) throw new BootVerifyError("hashes", "/boot differs from what was signed", files);

  // 3. Rollback: the signed set must name the counter's current value.
  let counter: bigint | null = null;
  const rollbackText = text(lists.get(ROLLBACK_FILE));
  if (!opts.ignoreRollback) {
    if (rollbackText === undefined) {
      if (opts.requireRollback) throw new BootVerifyError("rollback", "kexec_rollback.txt is missing and CONFIG_BOOT_REQ_ROLLBACK=y");
    } else {
      const tpm = opts.tpm;
      if (!tpm) throw new BootVerifyError("rollback", "the TPM rollback counter cannot be read (no TPM); reset the TPM or pass --tpm");
      const record = (() => {
        try {
          return parseRollback(rollbackText, tpm.version);
        } catch (e) {
          throw new BootVerifyError("rollback", (e as Error).message);
        }
      })();
      const name = counterId(record.id, tpm.version);
      try {
        counter = await tpm.counterRead(record.id);
      } catch (e) {
        throw new BootVerifyError("rollback", `TPM counter ${name} cannot be read (${(e as Error).message}); reset the TPM`);
      }
      if (!rollbackMatches(record, counter, tpm.version)) {
        throw new BootVerifyError("rollback", `the signed set was made for another value of counter ${name} (now ${counter}); an older signed /boot was replayed, or the counter moved on`);
      }
    }
  }

  // 4. The default entry is still line N of the menu parsed now, from the config bytes just hashed.
  const signedDigests = new Map(hashLines.map((l) => [l.path, l.digest]));
  let menu;
  try {
    menu = scanMenu(sys, bootDir, tree, opts.uniqueMenu, (rel) => signedDigests.get(rel));
  } catch (e) {
    if (e instanceof BootConfigChangedError) throw new BootVerifyError("hashes", e.message, { changed: [`.${e.path}`], appeared: [], vanished: [] });
    if (!(e instanceof BootConfigError)) throw e;
    menu = null;
  }
  const defaults = [...lists.keys()].filter((n) => /^kexec_default\.[0-9]+\.txt$/.test(n));
  let defaultChoice = null;
  if (defaults.length > 1) throw new BootVerifyError("default-entry", `the signed set holds several default entries (${defaults.join(", ")})`);
  if (defaults.length === 1) {
    const name = defaults[0]!;
    const index = Number(name.split(".")[1]);
    const saved = text(lists.get(name))!;
    const line = saved.endsWith("\n") ? saved.slice(0, -1) : saved;
    if (!menu || index < 1 || menu.lines[index - 1] !== line) {
      throw new BootVerifyError("default-entry", `Boot entry has changed: line ${index} of the boot menu is no longer the signed default entry; choose and save a new default`);
    }
    const entry = menu.entries[index - 1]!;

    // 5. The default entry's files.
    const dh = text(lists.get("kexec_default_hashes.txt"));
    if (dh === undefined) throw new BootVerifyError("default-hashes", "kexec_default_hashes.txt is missing from the signed set");
    const lines = parseHashLines(dh, "kexec_default_hashes.txt");
    const covered = new Set(lines.map((l) => l.path));
    const uncovered = entryFiles(entry).filter((f) => !covered.has(f));
    if (uncovered.length) throw new BootVerifyError("default-hashes", "kexec_default_hashes.txt does not cover every file of the default entry", { changed: [], appeared: uncovered, vanished: [] });
    const diff = await checkLines(sys, bootDir, lines, freshFiles, digests);
    if (!empty(diff)) throw new BootVerifyError("default-hashes", "a file of the default entry differs from what was signed", diff);
    defaultChoice = { index, entry };
  } else if (opts.requireDefault) {
    throw new BootVerifyError("default-entry", "no default entry was signed and CONFIG_BOOT_REQ_HASH=y");
  }

  return new VerifiedBoot(TOKEN, { bootDir, entries: menu?.entries ?? [], defaultChoice, signer, counter, hashes: signedDigests, lists: new Map([...lists].map(([n, b]) => [n, text(b)!])), clockWarning });
}
