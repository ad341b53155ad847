// Which build outputs can be reused. Each output has a key: the hash of every input it is made
// from (input bytes, the source of the code that makes it, the options). After an output is
// complete its key and its own hash go into a record under .build/outputs/ (written to a temp
// file and renamed, so an interrupted build never leaves a record of a half-made output).
// An output is reused only when its record's key is the key of now and the file still has the
// recorded hash: a changed input, a changed builder, or an output deleted or edited by hand
// all rebuild it. Content, not mtimes: a fresh clone or a touched file decides nothing.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { BuildError } from "./errors.ts";

export type KeyPart = string | Uint8Array | Record<string, unknown> | readonly unknown[];

/** One hash of the parts, each length-prefixed so that ("ab","c") and ("a","bc") differ. */
export function buildKey(parts: readonly KeyPart[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    const bytes = typeof part === "string" || part instanceof Uint8Array ? part : JSON.stringify(part);
    const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
    hash.update(`${data.length}:`).update(data);
  }
  return hash.digest("hex");
}

/** The bytes of the source files that shape an output, as key parts (editing the builder rebuilds). */
export function sourceParts(files: readonly string[]): KeyPart[] {
  return files.flatMap((file) => [basename(file), readFileSync(file)]);
}

export interface OutputRecord<I extends Record<string, number>> {
  key: string;
  sha256: string;
  /** Figures about the output worth printing again when it is reused (sizes). */
  info: I;
  /** The files the key was made from, when only the making says which (the bundle's). */
  inputs?: string[];
}

/** An output brought up to date: its figures, and whether the one already there was kept. */
export interface Ensured<I> {
  info: I;
  reused: boolean;
}

const sha256File = (file: string): string | null => {
  try {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  } catch {
    return null;
  }
};

export class OutputRecords {
  constructor(private readonly dir: string) {}

  private recordFile(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** The record of `name` as written, or null when there is none (or it is unreadable). */
  read<I extends Record<string, number>>(name: string): OutputRecord<I> | null {
    try {
      return JSON.parse(readFileSync(this.recordFile(name), "utf8")) as OutputRecord<I>;
    } catch {
      return null;
    }
  }

  /** The record of `file` when it can be reused for `key`, else null. */
  reusable<I extends Record<string, number>>(name: string, file: string, key: string): OutputRecord<I> | null {
    const record = this.read<I>(name);
    if (record === null || record.key !== key) return null;
    return sha256File(file) === record.sha256 ? record : null;
  }

  /** Notes that `file`, now complete, was made from `key` (and, for the bundle, which files that key read). */
  record<I extends Record<string, number>>(name: string, file: string, key: string, info: I, inputs?: string[]): void {
    const sha256 = sha256File(file);
    if (sha256 === null) throw new BuildError(`${file} is missing right after it was built; check that nothing else deletes files in its directory.`);
    mkdirSync(this.dir, { recursive: true });
    const target = this.recordFile(name);
    const tmp = `${target}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, JSON.stringify({ key, sha256, info, inputs } satisfies OutputRecord<I>) + "\n");
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Keeps `file` when it is recorded for `key`; otherwise makes it again and records it. */
  async ensure<I extends Record<string, number>>(name: string, file: string, key: string, make: () => Promise<I>): Promise<Ensured<I>> {
    const kept = this.reusable<I>(name, file, key);
    if (kept !== null) return { info: kept.info, reused: true };
    this.forget(name);
    const info = await make();
    this.record(name, file, key, info);
    return { info, reused: false };
  }

  /** Forgets `name` before its output is rebuilt, so a build cut short leaves no stale record. */
  forget(name: string): void {
    rmSync(this.recordFile(name), { force: true });
  }
}
