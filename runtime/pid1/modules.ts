// Kernel modules are code running in the kernel that later reads the disk key: as Heads'
// insmod does, each module file is extended into PCR 5 before it is loaded, so a module
// added or changed in the initramfs moves PCR 5 and a secret sealed to it stays sealed.
// The order is /etc/modules' order, so the extends replay the same way every boot; the
// record kept in tmpfs lets a failure screen name the module when PCR 5 differs.
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import { fromHex } from "../../lib/bytes.ts";
import { FileHashError, sha256Files } from "../boot/integrity/file-hashes.ts";
import { runTool } from "../platform/tool.ts";
import { describeError } from "../errors.ts";

/** Heads' MODULE_PCR. */
export const MODULE_PCR = 5;
/** One `<digest>  <path>` line per module extended (the PCR bank's hash), in extend order. */
export const MODULE_RECORD = "/tmp/measured-modules.txt";

export class ModuleHashError extends Error {
  override readonly name = "ModuleHashError";
}

export interface ModuleLoad {
  /** Modules loaded, each measured first (when there is a TPM). */
  loaded: string[];
  /** One sentence per module not loaded, or loaded without a measurement. */
  problems: string[];
}

/** The board's kernel modules (/etc/modules, one per line, in load order). */
export function boardModules(sys: Sys): string[] {
  if (!sys.stat("/etc/modules")) return [];
  return sys
    .readText("/etc/modules")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** Module name → path below /lib/modules/<release>, from depmod's modules.dep. */
export function modulePaths(modulesDep: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of modulesDep.split("\n")) {
    const path = line.slice(0, line.indexOf(":"));
    if (!path.endsWith(".ko")) continue;
    paths.set(moduleName(path), path);
  }
  return paths;
}

const moduleName = (path: string) => path.slice(path.lastIndexOf("/") + 1, -".ko".length).replace(/-/g, "_");

/**
 * Loads `names` in order with insmod, each extended into PCR 5 first. Without a TPM the
 * modules still load (nothing can be unsealed then anyway) and the problem says so; a
 * failed extend leaves that module unloaded, because loading it would hide it from PCR 5.
 */
export async function loadMeasuredModules(sys: Sys, tpm: Tpm | null, names: string[], moduleDir: string, recordPath = MODULE_RECORD): Promise<ModuleLoad> {
  const result: ModuleLoad = { loaded: [], problems: [] };
  if (names.length === 0) return result;
  if (!sys.stat(`${moduleDir}/modules.dep`)) {
    result.problems.push(`no kernel module was loaded: ${moduleDir}/modules.dep is missing (the initramfs was built for another kernel)`);
    return result;
  }
  const paths = modulePaths(sys.readText(`${moduleDir}/modules.dep`));
  const builtinList = sys.stat(`${moduleDir}/modules.builtin`) ? sys.readText(`${moduleDir}/modules.builtin`).split("\n") : [];
  const builtin = new Set(builtinList.filter((l) => l.endsWith(".ko")).map(moduleName));
  const record: string[] = [];
  if (!tpm) result.problems.push(`no TPM: kernel modules were loaded without being measured into PCR ${MODULE_PCR}`);
  const wanted: { name: string; rel: string }[] = [];
  for (const name of names) {
    const rel = paths.get(name.replace(/-/g, "_"));
    if (rel !== undefined) wanted.push({ name, rel });
    else if (!builtin.has(name.replace(/-/g, "_"))) result.problems.push(`kernel module ${name} is not in ${moduleDir}`);
  }
  const rels = [...new Set(wanted.map((w) => w.rel))];
  // The digest is the PCR bank's: SHA-1 on TPM 1.2, as Heads extends it there.
  let digests = new Map<string, string>();
  try {
    if (tpm) digests = tpm.pcrSize === 20 ? await sha1Files(sys, moduleDir, rels) : sha256Files(sys, moduleDir, rels);
  } catch (error) {
    if (!(error instanceof ModuleHashError || error instanceof FileHashError)) throw error;
    // Unmeasured modules must not load; without them there may be no disk, which the menus will say.
    result.problems.push(`no kernel module was loaded: ${error.message}`);
    return result;
  }
  for (const { name, rel } of wanted) {
    const path = `${moduleDir}/${rel}`;
    if (tpm) {
      const digest = digests.get(rel)!;
      try {
        await tpm.extendDigest(MODULE_PCR, fromHex(digest));
      } catch (error) {
        result.problems.push(`kernel module ${name} was not loaded: it could not be measured into PCR ${MODULE_PCR} (${describeError(error)})`);
        continue;
      }
      record.push(`${digest}  ${path}\n`);
    }
    const loaded = await sys.exec(["insmod", sys.hostPath(path)]);
    if (loaded.status === 0) result.loaded.push(name);
    else result.problems.push(`kernel module ${name} did not load (insmod exit ${loaded.status}): ${new TextDecoder().decode(loaded.stderr).trim()}`);
  }
  if (record.length > 0) sys.writeFile(recordPath, record.join(""));
  return result;
}

// SHA-1 has no native hash in the binary (TPM 1.2 boards only); busybox's is far faster than JS
// on megabytes of modules. Its output is read strictly: one line per file, in order.
async function sha1Files(sys: Sys, dir: string, names: string[]): Promise<Map<string, string>> {
  const out = await runTool(sys, ["sha1sum", ...names.map((n) => sys.hostPath(`${dir}/${n}`))], "hashing the kernel modules", (m) => new ModuleHashError(m));
  const lines = out.split("\n").filter((l) => l !== "");
  const digests = new Map<string, string>();
  lines.forEach((line, i) => {
    const m = /^([0-9a-f]{40}) {2}(.*)$/.exec(line);
    if (!m || m[2] !== `${dir}/${names[i]}` || lines.length !== names.length) throw new ModuleHashError(`sha1sum printed an unexpected line ${JSON.stringify(line.slice(0, 120))}`);
    digests.set(names[i]!, m[1]!);
  });
  return digests;
}
