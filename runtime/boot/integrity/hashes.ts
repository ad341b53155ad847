// Heads' /boot lists, byte for byte (heads-behaviour.md §4):
//   kexec_hashes.txt          `cd /boot; find ./ -type f ! -path './kexec*' -print0 | xargs -0 sha256sum`
//   kexec_tree.txt            `find ./ ! -path './kexec*' -print0 | sort -z`
//   kexec_default.N.txt       the entry line of menu entry N (1-based), LF-terminated
//   kexec_default_hashes.txt  sha256sum lines `./path` of the default entry's kernel, then initrds/modules
//   kexec_rollback.txt        `<sha256 of the counter file>  /tmp/counter-<id>`
//
// Order of kexec_hashes.txt: busybox find prints directory entries in readdir order, which
// depends on the filesystem (ext4 hash order, tmpfs newest first) and so cannot be reproduced
// from a directory listing. Verification never depends on it (`sha256sum -c` checks each line,
// the tree is compared as a sorted set), so bootward writes the one order that is reproducible
// everywhere: byte order of the whole path, i.e. what
// `find ./ -type f ! -path './kexec*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum` prints.
// It equals Heads' output whenever the filesystem returns sorted names, and Heads accepts it.
import type { Sys } from "../../host/sys.ts";
import { sha256 } from "../../../tpm/crypto/hash.ts";
import { toHex } from "../../../lib/bytes.ts";
import type { BootEntry } from "../entries/index.ts";
import { toHeadsLine } from "../entries/index.ts";
import { sha256Files } from "./file-hashes.ts";
import type { TreeNode } from "./walk.ts";

/** The signed list that ties a set to the TPM rollback counter. */
export const ROLLBACK_FILE = "kexec_rollback.txt";

export class ListFormatError extends Error {
  override readonly name = "ListFormatError";
}

export interface HashLine {
  digest: string;
  /** "./rel/path" for /boot files, "/tmp/counter-<id>" in the rollback file. */
  path: string;
}

export function formatHashLines(lines: HashLine[]): string {
  return lines.map((l) => `${l.digest}  ${l.path}\n`).join("");
}

/** Strict reader of sha256sum output: every line `<64 lowercase hex>  <path>`, LF-terminated, no duplicates. */
export function parseHashLines(text: string, source: string): HashLine[] {
  if (text === "") return [];
  if (!text.endsWith("\n")) throw new ListFormatError(`${source} does not end with a newline; it was cut short or edited by hand`);
  const seen = new Set<string>();
  return text.slice(0, -1).split("\n").map((line, i) => {
    const m = /^([0-9a-f]{64}) {2}([^\\\x00-\x1f\x7f-\uffff]+)$/.exec(line);
    if (!m) throw new ListFormatError(`${source} line ${i + 1} is not a sha256sum line`);
    if (seen.has(m[2]!)) throw new ListFormatError(`${source} lists ${m[2]} twice`);
    seen.add(m[2]!);
    return { digest: m[1]!, path: m[2]! };
  });
}

export function regularFiles(tree: TreeNode[]): string[] {
  return tree.filter((n) => n.kind === "file").map((n) => n.rel);
}

/** kexec_hashes.txt over the files of a walked tree, hashed natively. */
export async function hashTree(sys: Sys, bootDir: string, tree: TreeNode[]): Promise<HashLine[]> {
  const files = regularFiles(tree);
  const digests = sha256Files(sys, bootDir, files);
  return files.map((path) => ({ digest: digests.get(path)!, path }));
}

export function formatTree(tree: TreeNode[]): string {
  return tree.map((n) => `${n.rel}\0`).join("");
}

export function parseTree(text: string, source: string): string[] {
  if (text === "") return [];
  if (!text.endsWith("\0")) throw new ListFormatError(`${source} does not end with a NUL; it was cut short or edited by hand`);
  return text.slice(0, -1).split("\0");
}

/** Files kexec-boot.sh -h names for an entry: the kernel, then initrds or modules, as "./path". */
export function entryFiles(entry: BootEntry): string[] {
  const rest = entry.type === "linux" ? entry.initrds : entry.modules.map((m) => m.path);
  return [entry.kernel, ...rest].map((p) => `.${p}`);
}

export async function hashEntry(sys: Sys, bootDir: string, entry: BootEntry): Promise<HashLine[]> {
  const files = entryFiles(entry);
  const digests = sha256Files(sys, bootDir, [...new Set(files)]);
  return files.map((path) => ({ digest: digests.get(path)!, path }));
}

export function defaultFileName(n: number): string {
  return `kexec_default.${n}.txt`;
}

export function formatDefault(entry: BootEntry): string {
  return `${toHeadsLine(entry)}\n`;
}

// The rollback counter as Heads' tpmr prints it: `<index hex>: <value as 16 hex>` on TPM 2.0,
// and on TPM 1.2 tpmtotp's `<countID decimal>: <TPM_COUNTER_VALUE as 20 hex>` (tag, label,
// count; the Tpm face reads 1.2 counters as that 80-bit number). /tmp/counter-<id> holds
// that line and kexec_rollback.txt its sha256sum line.
export type CounterFormat = "1.2" | "2.0";

export function counterLine(id: number, value: bigint, tpm: CounterFormat = "2.0"): string {
  if (tpm === "1.2") return `${id.toString(10)}: ${value.toString(16).padStart(20, "0")}\n`;
  return `${id.toString(16)}: ${value.toString(16).padStart(16, "0")}\n`;
}

/** The counter's name as Heads writes it: hex on TPM 2.0 (an NV index), decimal on 1.2 (tpmtotp's countID). */
export function counterId(id: number, tpm: CounterFormat): string {
  return id.toString(tpm === "1.2" ? 10 : 16);
}

export function formatRollback(id: number, value: bigint, tpm: CounterFormat = "2.0"): string {
  const digest = toHex(sha256(new TextEncoder().encode(counterLine(id, value, tpm))));
  return `${digest}  /tmp/counter-${counterId(id, tpm)}\n`;
}

export interface RollbackRecord {
  id: number;
  digest: string;
}

export function parseRollback(text: string, tpm: CounterFormat = "2.0"): RollbackRecord {
  const lines = parseHashLines(text, ROLLBACK_FILE);
  const pattern = tpm === "1.2" ? /^\/tmp\/counter-([0-9]{1,10})$/ : /^\/tmp\/counter-([0-9a-f]{1,8})$/;
  const m = lines.length === 1 ? pattern.exec(lines[0]!.path) : null;
  if (!m) throw new ListFormatError("kexec_rollback.txt is not one `<sha256>  /tmp/counter-<id>` line");
  return { id: parseInt(m[1]!, tpm === "1.2" ? 10 : 16), digest: lines[0]!.digest };
}

export function rollbackMatches(record: RollbackRecord, value: bigint, tpm: CounterFormat = "2.0"): boolean {
  return toHex(sha256(new TextEncoder().encode(counterLine(record.id, value, tpm)))) === record.digest;
}
