// The sources of the `bootward:native` module (runtime/host/quickjs/native.c): our C file plus
// the few libsodium files it needs, from Debian's libsodium source package, pinned by the
// sha256 of its upstream tarball (the .orig.tar.gz never changes for a version; Debian's own
// revision may, so it is not pinned).
//
// Debian 12 and 13 carry 1.0.18 with one patch (CVE-2025-69277) to ge25519_is_on_main_subgroup,
// which signature verification never calls, so the upstream files are used as they are.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "./errors.ts";
import { buildDir, repoRoot } from "./paths.ts";
import { cachedDownload } from "./quickjs.ts";
import { run } from "./run.ts";

export const SODIUM_SOURCE = {
  debianPackage: "libsodium",
  tarball: "libsodium_1.0.18.orig.tar.gz",
  sha256: "d59323c6b712a1519a5daf710b68f5e7fde57040845ffec53850911f10a5d4f4",
  innerDir: "libsodium-1.0.18/src/libsodium",
  version: "1.0.18",
} as const;

/** SHA-256, SHA-512 and Ed25519 verification, and what they call; LTO drops the rest. */
const SODIUM_FILES = [
  "crypto_hash/sha256/cp/hash_sha256_cp.c",
  "crypto_hash/sha512/cp/hash_sha512_cp.c",
  "crypto_sign/ed25519/ref10/open.c",
  "crypto_sign/ed25519/ref10/sign.c",
  "crypto_core/ed25519/ref10/ed25519_ref10.c",
  "crypto_verify/sodium/verify.c",
  "sodium/utils.c",
];

export const NATIVE_C = join(repoRoot, "runtime/host/quickjs/native.c");
/** The module name the bundle imports and qjsc's generated main registers. */
export const NATIVE_MODULE = "bootward:native";
/** js_init_module_<this>, the entry native.c exports. */
export const NATIVE_INIT = "native";

export interface NativeSources {
  /** The extracted libsodium tree (for -ffile-prefix-map). */
  dir: string;
  files: string[];
  flags: string[];
}

/**
 * An apt configuration of our own with a deb-src twin of every `deb` source the machine has,
 * so `apt-get source` works without touching /etc/apt (which lists no deb-src by default).
 */
function sourceListsFromSystem(): string {
  const parts: string[] = [];
  const dir = "/etc/apt/sources.list.d";
  const files = existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
  for (const file of files.filter((f) => f.endsWith(".sources"))) {
    for (const stanza of readFileSync(file, "utf8").split(/\n\s*\n/)) {
      if (/^Types:.*\bdeb\b/m.test(stanza)) parts.push(stanza.replace(/^Types:.*$/m, "Types: deb-src"));
    }
  }
  const list = ["/etc/apt/sources.list", ...files.filter((f) => f.endsWith(".list"))].filter(existsSync);
  const lines = list.flatMap((f) => readFileSync(f, "utf8").split("\n").filter((l) => /^deb\s/.test(l)).map((l) => l.replace(/^deb\s/, "deb-src ")));
  if (parts.length === 0 && lines.length === 0) throw new BuildError("The machine's apt sources list no Debian archive, so libsodium's source cannot be fetched; configure apt for Debian 12.");
  return [...parts, ...(lines.length ? [lines.join("\n")] : [])].join("\n\n") + "\n";
}

/** Gets the upstream tarball into .cache/ (once) through apt-get source, and checks its hash. */
export function fetchSodiumSource(): Promise<string> {
  return cachedDownload(SODIUM_SOURCE.tarball, SODIUM_SOURCE.sha256, async (scratch) => {
    const apt = join(scratch, "apt");
    await mkdir(join(apt, "lists", "partial"), { recursive: true });
    await mkdir(join(apt, "cache", "archives", "partial"), { recursive: true });
    await mkdir(join(apt, "parts"), { recursive: true });
    await writeFile(join(apt, "parts", "sources.sources"), sourceListsFromSystem());
    const options = [
      "-o", "Dir::Etc::SourceList=/dev/null",
      "-o", `Dir::Etc::SourceParts=${join(apt, "parts")}`,
      "-o", `Dir::State::Lists=${join(apt, "lists")}`,
      "-o", `Dir::Cache=${join(apt, "cache")}`,
    ];
    await run(["apt-get", ...options, "-q", "update"], { what: "Reading Debian's source package index", fix: "check that the Debian archive is reachable" });
    await run(["apt-get", ...options, "-q", "source", "--download-only", SODIUM_SOURCE.debianPackage], {
      cwd: scratch,
      what: `Downloading Debian's ${SODIUM_SOURCE.debianPackage} source package`,
      fix: "check that the Debian archive is reachable",
    });
    if (!(await readdir(scratch)).includes(SODIUM_SOURCE.tarball)) {
      throw new BuildError(`Debian's ${SODIUM_SOURCE.debianPackage} source package no longer carries ${SODIUM_SOURCE.tarball}; the archive moved to another upstream version, update SODIUM_SOURCE in build/native.ts.`);
    }
  });
}

/** The extracted libsodium files (reused once complete) and the flags to compile them with. */
export async function nativeSources(): Promise<NativeSources> {
  const dir = join(buildDir, `libsodium-${SODIUM_SOURCE.version}-${SODIUM_SOURCE.sha256.slice(0, 16)}`);
  const stamp = join(dir, ".bootward-extracted");
  if (!existsSync(stamp)) {
    const tarball = await fetchSodiumSource();
    const scratch = `${dir}.tmp`;
    await rm(scratch, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    await run(["tar", "-xzf", tarball, "-C", scratch, "--strip-components=3", SODIUM_SOURCE.innerDir], { what: `Extracting ${SODIUM_SOURCE.tarball}` });
    await writeFile(join(scratch, ".bootward-extracted"), `${SODIUM_SOURCE.sha256}\n`);
    await rename(scratch, dir);
  }
  return {
    dir,
    files: [NATIVE_C, ...SODIUM_FILES.map((f) => join(dir, f))],
    // What libsodium's configure would find on x86_64 Linux; CONFIGURED silences its warning
    // that the library is built without it.
    flags: ["-DCONFIGURED=1", "-DHAVE_TI_MODE=1", "-DNATIVE_LITTLE_ENDIAN=1", `-I${join(dir, "include", "sodium")}`],
  };
}
