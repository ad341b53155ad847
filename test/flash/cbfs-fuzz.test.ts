// Damaged and hostile images: every mutation of a cbfstool-made image must give a result or a
// CbfsError — no other exception, no loop without end, no read outside the image. Reads of
// every fourth image go through a Proxy that throws on any index outside the bytes, which a
// plain Uint8Array would silently answer with undefined.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CbfsError, addFile, extractFile, listFiles, readCbfs, removeFile } from "../../runtime/flash/cbfs.ts";
import { userFiles } from "../../runtime/flash/user-files.ts";
import { Workdir, pseudoRandom, type Layout } from "./cbfstool.ts";

const ITERATIONS = 50_000;

class OutOfBounds extends Error {}

/** The image behind a Proxy that refuses indexes outside [0, length). */
function guarded(image: Uint8Array): Uint8Array {
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy(image, {
    get(target, key) {
      if (typeof key === "string") {
        const c = key.charCodeAt(0);
        if ((c >= 48 && c <= 57) || c === 45 || key === "NaN" || key === "Infinity") {
          const n = Number(key);
          if (String(n) === key && !(Number.isInteger(n) && n >= 0 && n < target.length)) throw new OutOfBounds(`read at index ${key} of ${target.length} bytes`);
        }
      }
      const value = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      if (!methods.has(key)) methods.set(key, value.bind(target));
      return methods.get(key);
    },
  });
}

function seeds(): { layout: Layout; image: Uint8Array; names: string[] }[] {
  const work = new Workdir();
  try {
    // Plain fills, not random data: random bytes would be full of false FMAP and master
    // header candidates that only slow the scans down.
    const bytes = (n: number) => new Uint8Array(n).fill(0x11);
    return (["legacy", "fmap", "fmap+master"] as const).map((layout) => {
      work.create("seed.rom", layout, 0x1000);
      const names = ["heads/initrd/.gnupg/pubring.kbx", "heads/initrd/etc/config.user", "hashed", "zipped"];
      work.cbfstool("seed.rom", "add", "-t", "raw", "-n", names[0]!, "-f", work.write("src", bytes(700)));
      work.cbfstool("seed.rom", "add", "-t", "raw", "-n", names[1]!, "-f", work.write("src", bytes(30)));
      work.cbfstool("seed.rom", "add", "-t", "raw", "-n", names[2]!, "-A", "sha256", "-f", work.write("src", bytes(90)));
      work.cbfstool("seed.rom", "add", "-t", "raw", "-n", names[3]!, "-c", "lz4", "-f", work.write("src", new Uint8Array(2000)));
      work.cbfstool("seed.rom", "remove", "-n", names[1]!);
      return { layout, image: work.read("seed.rom"), names };
    });
  } finally {
    work.cleanup();
  }
}

const INTERESTING = [0, 1, 23, 24, 25, 28, 63, 64, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

/** Where the parsers look: FMAP header and areas, entry headers and attributes, the last 4 bytes. */
function hotSpots(image: Uint8Array): number[] {
  const spots = [image.length - 4, image.length - 36];
  for (let at = 0; at + 8 <= image.length; at += 4) {
    if (image[at] === 0x5f && image[at + 1] === 0x5f) for (let i = 0; i < 200; i += 4) spots.push(at + i);
    if (image[at] === 0x4c && image[at + 1] === 0x41) for (let i = 8; i < 100; i += 4) spots.push(at + i);
  }
  return spots.filter((s) => s >= 0 && s + 4 <= image.length);
}

function mutate(image: Uint8Array, spots: number[], rand: () => number): Uint8Array {
  let out = image.slice();
  const count = 1 + (rand() % 4);
  for (let m = 0; m < count; m++) {
    const kind = rand() % 6;
    const at = spots[rand() % spots.length]!;
    if (kind === 0) out[rand() % out.length] ^= 1 << (rand() % 8);
    else if (kind === 1) out[at + (rand() % 4)] = rand() & 0xff;
    else if (kind === 2 || kind === 3) {
      const v = kind === 2 ? INTERESTING[rand() % INTERESTING.length]! : rand() >>> 0;
      const big = rand() % 2 === 0;
      for (let i = 0; i < 4; i++) out[at + i] = big ? (v >>> (24 - 8 * i)) & 0xff : (v >>> (8 * i)) & 0xff;
    } else if (kind === 4) {
      const entry = (rand() % Math.max(1, out.length >> 6)) * 64;
      if (entry + 8 <= out.length) out.set([0x4c, 0x41, 0x52, 0x43, 0x48, 0x49, 0x56, 0x45], entry);
    }
    else out = out.slice(0, rand() % (out.length + 1));
  }
  return out;
}

/** Runs f; a CbfsError is an answer, anything else fails the test with the seed. */
function typed<T>(f: () => T, context: string): T | null {
  try {
    return f();
  } catch (error) {
    if (error instanceof CbfsError) return null;
    assert.fail(`${context}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

test("the guard throws on reads outside the image and passes reads inside", () => {
  const image = guarded(new Uint8Array([1, 2, 3, 4]));
  assert.equal(image[3], 4);
  assert.equal(image.indexOf(3), 2);
  assert.throws(() => image[4], OutOfBounds);
  assert.throws(() => image[-1], OutOfBounds);
});

test(`${ITERATIONS} mutated images give results or CbfsErrors, never reads outside the image`, () => {
  const pool = seeds();
  const spots = pool.map((p) => hotSpots(p.image));
  const rng = pseudoRandom(2026);
  const rand = () => {
    const b = rng(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  };
  const payload = new Uint8Array(40).fill(0x42);
  let parsed = 0;
  let written = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const which = i % pool.length;
    const seed = pool[which]!;
    // A Proxy read costs ~100× a plain one: every fourth image is guarded, the rest run plain.
    const mutated = mutate(seed.image, spots[which]!, rand);
    const image = i % 4 === 0 ? guarded(mutated) : mutated;
    const context = `iteration ${i} (${seed.layout})`;
    const cbfs = typed(() => readCbfs(image), context);
    if (!cbfs) continue;
    parsed++;
    const name = seed.names[i % seed.names.length]!;
    typed(() => extractFile(image, name), context);
    const added = typed(() => addFile(image, "fuzz/new", payload), context);
    if (added) {
      written++;
      assert.deepEqual(extractFile(added, "fuzz/new"), payload, `${context}: what add wrote reads back`);
    }
    const removed = typed(() => removeFile(image, name), context);
    // The slower round trips on a sample: they check the writes, not the parser's defences.
    if (i % 8 !== 0) continue;
    typed(() => [...userFiles(image)], context);
    if (added) assert.deepEqual(listFiles(removeFile(added, "fuzz/new")).map((f) => f.name), cbfs.entries.filter((e) => !e.empty).map((f) => f.name), `${context}: add then remove gives back the same files`);
    if (removed) assert.ok(!listFiles(removed).some((f) => f.name === name), `${context}: the removed file is gone`);
  }
  // The mutations must leave enough images readable for the write paths to be exercised.
  assert.ok(parsed > ITERATIONS / 10, `only ${parsed} mutated images parsed`);
  assert.ok(written > ITERATIONS / 20, `only ${written} mutated images took a new file`);
});
