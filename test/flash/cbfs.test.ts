// CBFS against coreboot's cbfstool 4.15, both ways: images cbfstool writes read the same in
// bootward, images bootward writes read the same in cbfstool, and on the layouts where both
// place files alike the two tools make the same image byte for byte.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { CbfsError, addFile, extractFile, listFiles, readCbfs, removeFile, typeName } from "../../runtime/flash/cbfs.ts";
import { userFiles, withUserFiles } from "../../runtime/flash/user-files.ts";
import { Workdir, pseudoRandom, type Layout, type PrintRow } from "./cbfstool.ts";

const work = new Workdir();
after(() => work.cleanup());

const LAYOUTS: Layout[] = ["legacy", "fmap", "fmap+master"];
const text = (s: string) => new TextEncoder().encode(s);
const bytes = pseudoRandom(7);
const compressible = text(Array.from({ length: 3000 }, (_, i) => `${i}\n`).join(""));

/** What `cbfstool print` would show for bootward's reading of the image. */
function asRows(image: Uint8Array): PrintRow[] {
  return readCbfs(image).entries.map((e) => ({
    name: e.empty ? "(empty)" : e.name,
    offset: e.offset,
    type: typeName(e.type),
    size: e.size,
    compression: e.compression,
  }));
}

function rejects(f: () => unknown, kind: CbfsError["kind"]): void {
  assert.throws(f, (e: unknown) => e instanceof CbfsError && e.kind === kind);
}

/** The bytes of one entry: header, name, attributes and data. */
function entryBytes(image: Uint8Array, name: string): Uint8Array {
  const cbfs = readCbfs(image);
  const e = cbfs.entries.find((x) => x.name === name)!;
  return image.slice(cbfs.base + e.offset, cbfs.base + e.offset + e.dataOffset + e.size);
}

interface Source {
  name: string;
  data: Uint8Array;
  args: string[];
}

/** A cbfstool-made image with the kinds of files a coreboot ROM holds around Heads' own. */
function populated(image: string, layout: Layout): Source[] {
  work.create(image, layout, 0x40000);
  const sources: Source[] = [
    { name: "heads/initrd/.gnupg/pubring.kbx", data: bytes(3000), args: ["-t", "raw"] },
    { name: "heads/initrd/etc/config.user", data: text('export CONFIG_BOOT_DEV="/dev/vda1"\n'), args: ["-t", "raw"] },
    { name: "empty", data: new Uint8Array(0), args: ["-t", "raw"] },
    { name: "hashed", data: bytes(200), args: ["-t", "raw", "-A", "sha256"] },
    { name: "fallback/payload.lzma", data: compressible, args: ["-t", "raw", "-c", "lzma"] },
    { name: "lz4", data: compressible, args: ["-t", "raw", "-c", "lz4"] },
    { name: "aligned", data: bytes(70), args: ["-t", "raw", "-a", "4096"] },
    { name: "padded", data: bytes(10), args: ["-t", "raw", "-p", "100"] },
    { name: "a struct", data: bytes(64), args: ["-t", "struct"] },
  ];
  for (const s of sources) work.cbfstool(image, "add", "-n", s.name, "-f", work.write("src", s.data), ...s.args);
  return sources;
}

for (const layout of LAYOUTS) {
  test(`${layout}: bootward reads what cbfstool writes (names, offsets, types, sizes, bytes)`, () => {
    const sources = populated("read.rom", layout);
    work.cbfstool("read.rom", "remove", "-n", "empty");
    const image = work.read("read.rom");
    assert.deepEqual(asRows(image), work.print("read.rom"));
    const files = listFiles(image);
    assert.deepEqual(files.map((f) => f.name).sort(), [...(layout === "fmap+master" ? ["cbfs master header"] : []), ...sources.map((s) => s.name).filter((n) => n !== "empty")].sort());
    for (const s of sources.filter((x) => x.name !== "empty")) {
      if (s.args.includes("lzma")) {
        rejects(() => extractFile(image, s.name), "compressed");
        assert.equal(files.find((f) => f.name === s.name)!.decompressedSize, compressible.length);
      } else {
        assert.deepEqual(extractFile(image, s.name), s.data, s.name);
      }
    }
    rejects(() => extractFile(image, "empty"), "not-found");
  });

  test(`${layout}: cbfstool reads what bootward writes, and other entries keep every byte`, () => {
    const sources = populated("write.rom", layout);
    const before = work.read("write.rom");
    const untouched = ["hashed", "fallback/payload.lzma", "lz4", "padded"].map((n) => [n, entryBytes(before, n)] as const);
    let image = removeFile(before, "heads/initrd/etc/config.user");
    const added = new Map<string, Uint8Array>([
      ["x", bytes(1)],
      ["zero", new Uint8Array(0)],
      ["heads/initrd/etc/config.user", text('export CONFIG_BOOT_DEV="/dev/sda1"\n')],
      ["sixty-three", bytes(63)],
      ["sixty-four", bytes(64)],
      ["n".repeat(200), bytes(5000)],
      ["heads/initrd/.gnupg/trustdb.gpg", bytes(1280)],
    ]);
    for (const [name, data] of added) image = addFile(image, name, data);
    image = removeFile(image, "sixty-three");
    work.write("write.rom", image);
    assert.deepEqual(work.print("write.rom"), asRows(image));
    for (const [name, data] of added) {
      if (name === "sixty-three") continue;
      work.cbfstool("write.rom", "extract", "-n", name, "-f", work.path("out"));
      assert.deepEqual(work.read("out"), data, name);
    }
    assert.equal(work.tryCbfstool("write.rom", "extract", "-n", "sixty-three", "-f", work.path("out")).status, 1);
    for (const s of sources.filter((x) => x.args.includes("-c"))) {
      work.cbfstool("write.rom", "extract", "-n", s.name, "-f", work.path("out"));
      assert.deepEqual(work.read("out"), s.data, `${s.name} still decompresses`);
    }
    for (const [name, entry] of untouched) assert.deepEqual(entryBytes(image, name), entry, name);
    assert.match(work.cbfstool("write.rom", "print", "-v"), /hash SHA256:[0-9a-f]{64} valid/);
  });
}

for (const layout of ["legacy", "fmap"] as const) {
  test(`${layout}: add and remove make the same image as cbfstool's, byte for byte`, () => {
    let ours = work.create("same.rom", layout, 0x10000);
    const steps: [string, string, Uint8Array?][] = [
      ["add", "heads/initrd/.gnupg/pubring.kbx", bytes(2500)],
      ["add", "heads/initrd/.gnupg/trustdb.gpg", bytes(1200)],
      ["add", "heads/initrd/etc/config.user", text("export CONFIG_TPM=y\n")],
      ["remove", "heads/initrd/.gnupg/trustdb.gpg"],
      ["add", "small", bytes(100)],
      ["remove", "heads/initrd/.gnupg/pubring.kbx"],
      ["remove", "small"],
      ["add", "heads/initrd/.gnupg/pubring.kbx", bytes(4000)],
    ];
    for (const [op, name, data] of steps) {
      if (op === "add") {
        ours = addFile(ours, name, data!);
        work.cbfstool("same.rom", "add", "-t", "raw", "-n", name, "-f", work.write("src", data!));
      } else {
        ours = removeFile(ours, name);
        work.cbfstool("same.rom", "remove", "-n", name);
      }
      assert.deepEqual(ours, work.read("same.rom"), `after ${op} ${name}`);
    }
  });
}

test("LZ4 files cbfstool compresses come out as they went in, and a damaged one is a typed error", () => {
  let image = work.create("lz4.rom", "fmap", 0x80000);
  const noise = pseudoRandom(99);
  const inputs = new Map<string, Uint8Array>([
    ["text", compressible],
    ["zeros", new Uint8Array(300_000)],
    ["mixed", Uint8Array.from({ length: 200_000 }, (_, i) => (i % 1000 < 900 ? i % 7 : noise(1)[0]!))],
    ["short-matches", text("abcabcabd".repeat(40) + "xyz")],
  ]);
  for (const [name, data] of inputs) work.cbfstool("lz4.rom", "add", "-t", "raw", "-c", "lz4", "-n", name, "-f", work.write("src", data));
  image = work.read("lz4.rom");
  for (const [name, data] of inputs) {
    assert.equal(listFiles(image).find((f) => f.name === name)!.compression, "lz4", name);
    assert.deepEqual(extractFile(image, name), data, name);
  }
  const cbfs = readCbfs(image);
  const mixed = cbfs.entries.find((e) => e.name === "mixed")!;
  const damaged = image.slice();
  damaged[cbfs.base + mixed.offset + mixed.dataOffset + 20] ^= 0xff;
  damaged.fill(0, cbfs.base + mixed.offset + mixed.dataOffset + mixed.size - 40, cbfs.base + mixed.offset + mixed.dataOffset + mixed.size);
  rejects(() => extractFile(damaged, "mixed"), "corrupt");
});

test("fmap+master: the master header pointer at the end of COREBOOT survives writes", () => {
  const image = work.create("pointer.rom", "fmap+master", 0x10000);
  const tail = image.slice(-4);
  assert.notDeepEqual(tail, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  let next = addFile(image, "a", bytes(300));
  next = removeFile(addFile(next, "b", bytes(300)), "a");
  next = removeFile(next, "b");
  assert.deepEqual(next.slice(-4), tail);
  work.write("pointer.rom", next);
  assert.deepEqual(work.print("pointer.rom"), asRows(next));
  assert.equal(work.cbfstool("pointer.rom", "print").split("\n").filter((l) => l.startsWith("cbfs master header")).length, 1);
});

test("removal wipes the file's bytes and merges free space; the hole takes the next file", () => {
  let image = work.create("hole.rom", "fmap", 0x10000);
  const secret = bytes(1000);
  image = addFile(image, "first", bytes(100));
  image = addFile(image, "secret", secret);
  image = addFile(image, "last", bytes(100));
  const hole = listFiles(image).find((f) => f.name === "secret")!;
  const fragment = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).indexOf(Buffer.from(needle)) >= 0;
  assert.ok(fragment(image, secret.subarray(500, 532)));
  image = removeFile(image, "secret");
  assert.ok(!fragment(image, secret.subarray(500, 532)), "the removed file's bytes are gone");
  const free = readCbfs(image).entries.filter((e) => e.empty);
  assert.equal(free.length, 2, "one free entry where the file was, one at the end");
  assert.equal(free[0]!.offset, hole.offset);
  image = removeFile(image, "last");
  assert.equal(readCbfs(image).entries.filter((e) => e.empty).length, 1, "neighbouring free space merges into one entry");
  image = addFile(removeFile(addFile(image, "last", bytes(100)), "first"), "again", bytes(90));
  assert.equal(listFiles(image).find((f) => f.name === "again")!.offset, 0, "a file goes in the first free space it fits");
  work.write("hole.rom", image);
  assert.deepEqual(work.print("hole.rom"), asRows(image));
});

test("a full image, a duplicate, a missing file and a bad name are typed errors, and the input is untouched", () => {
  const image = work.create("full.rom", "legacy", 0x2000);
  const copy = image.slice();
  rejects(() => addFile(image, "big", bytes(0x2000)), "full");
  rejects(() => addFile(image, "", bytes(1)), "bad-name");
  rejects(() => addFile(image, "a\0b", bytes(1)), "bad-name");
  rejects(() => addFile(image, "n".repeat(300), bytes(1)), "bad-name");
  rejects(() => removeFile(image, "nothing"), "not-found");
  rejects(() => addFile(addFile(image, "one", bytes(1)), "one", bytes(1)), "exists");
  assert.deepEqual(image, copy);
  rejects(() => readCbfs(new Uint8Array(0x2000).fill(0xff)), "no-cbfs");
});

test("bootward and cbfstool agree on what still fits, at every size around the limit", () => {
  const base = work.create("limit.rom", "legacy", 0x2000);
  const free = readCbfs(base).entries[0]!;
  // The whole free entry, less the new entry's header: 24 bytes and "heads/x\0".
  const capacity = free.dataOffset + free.size - 32;
  for (let size = capacity - 70; size <= capacity + 4; size++) {
    work.write("limit.rom", base);
    const theirs = work.tryCbfstool("limit.rom", "add", "-t", "raw", "-n", "heads/x", "-f", work.write("src", bytes(size))).status === 0;
    let ours: Uint8Array | null = null;
    try {
      ours = addFile(base, "heads/x", work.read("src"));
    } catch (error) {
      assert.ok(error instanceof CbfsError && error.kind === "full", String(error));
    }
    assert.equal(ours !== null, theirs, `size ${size}`);
    if (ours) assert.deepEqual(ours, work.read("limit.rom"), `size ${size}`);
  }
});

test("the user files: raw heads/initrd/* in listing order, path after heads/initrd, with contents", () => {
  let image = work.create("user.rom", "fmap+master", 0x10000);
  const files: [string, Uint8Array, string?][] = [
    ["heads/initrd/.gnupg/pubring.kbx", bytes(800)],
    ["fallback/payload", bytes(100)],
    ["heads/initrd/etc/config.user", text("export CONFIG_TPM=y\n")],
    ["heads/initrd/etc/not-raw", bytes(10), "struct"],
    ["heads/initrd/.gnupg/trustdb.gpg", bytes(1200)],
    ["heads/initrdx/other", bytes(5)],
  ];
  for (const [name, data, type] of files) image = addFile(image, name, data, type === "struct" ? 0x70 : undefined);
  image = addFile(removeFile(image, "heads/initrd/.gnupg/pubring.kbx"), "heads/initrd/.gnupg/pubring.kbx", bytes(900));
  const listed = listFiles(image).map((f) => f.name).filter((n) => n.startsWith("heads/initrd/") && n !== "heads/initrd/etc/not-raw");
  const got = [...userFiles(image)];
  assert.deepEqual(got.map((f) => f.cbfsName), listed);
  assert.deepEqual(got.map((f) => f.path), ["/etc/config.user", "/.gnupg/trustdb.gpg", "/.gnupg/pubring.kbx"]);
  for (const f of got) assert.deepEqual(f.data, extractFile(image, f.cbfsName));
  rejects(() => [...userFiles(addFile(image, "heads/initrd/../../etc/shadow", bytes(3)))], "bad-name");
  rejects(() => [...userFiles(addFile(image, "heads/initrd//x", bytes(3)))], "bad-name");
});

test("withUserFiles replaces every heads/* file, as the OEM reset writes the ROM; cbfstool agrees", () => {
  let image = work.create("oem.rom", "fmap+master", 0x20000);
  for (const name of ["heads/initrd/.gnupg/pubring.kbx", "fallback/payload", "heads/initrd/etc/config.user", "heads/other"]) image = addFile(image, name, bytes(500));
  const next = [
    { path: "/.gnupg/pubring.kbx", data: bytes(900) },
    { path: "/.gnupg/trustdb.gpg", data: bytes(1200) },
    { path: "/etc/config.user", data: text("export CONFIG_HAVE_GPG_KEY_BACKUP=y\n") },
  ];
  const written = withUserFiles(image, next);
  assert.deepEqual(listFiles(written).map((f) => f.name).filter((n) => n.startsWith("heads/")).sort(), next.map((f) => `heads/initrd${f.path}`).sort());
  assert.deepEqual(extractFile(written, "fallback/payload"), extractFile(image, "fallback/payload"));
  work.write("oem.rom", written);
  for (const f of next) {
    work.cbfstool("oem.rom", "extract", "-n", `heads/initrd${f.path}`, "-f", work.path("out"));
    assert.deepEqual(work.read("out"), f.data, f.path);
  }
  assert.deepEqual([...userFiles(written)].map((f) => f.path).sort(), next.map((f) => f.path).sort());
  rejects(() => withUserFiles(image, [{ path: "etc/config.user", data: bytes(1) }]), "bad-name");
  rejects(() => withUserFiles(image, [{ path: "/../x", data: bytes(1) }]), "bad-name");
});
