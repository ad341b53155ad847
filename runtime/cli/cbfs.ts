// `bootward cbfs list|extract|add|remove IMAGE …`: the CBFS of a ROM image file, for the
// recovery shell and the tests. Writes go to IMAGE.new, are read back and checked, then
// renamed over IMAGE, so a power cut leaves the old image or the new one.
import { UsageError, type CommandContext } from "./context.ts";
import { CBFS_TYPES, CbfsError, addFile, extractFile, readCbfs, removeFile, typeName } from "../flash/cbfs.ts";

const USAGE = "cbfs list IMAGE | extract IMAGE NAME OUTFILE | add IMAGE NAME FILE [--type TYPE] | remove IMAGE NAME";

function list(ctx: CommandContext, image: Uint8Array): void {
  const cbfs = readCbfs(image);
  if (ctx.options.json) {
    ctx.out(JSON.stringify({
      source: cbfs.source,
      entries: cbfs.entries.map((e) => ({
        name: e.name, offset: e.offset, type: typeName(e.type), size: e.size, compression: e.compression, decompressedSize: e.decompressedSize, empty: e.empty,
      })),
    }, null, 2));
    return;
  }
  ctx.out(`${"Name".padEnd(30)} ${"Offset".padEnd(10)} ${"Type".padEnd(12)} ${"Size".padStart(8)}  Compression`);
  for (const e of cbfs.entries) {
    const compression = e.compression === "none" ? "none" : `${e.compression} (${e.decompressedSize} decompressed)`;
    ctx.out(`${(e.empty ? "(empty)" : e.name).padEnd(30)} ${`0x${e.offset.toString(16)}`.padEnd(10)} ${typeName(e.type).padEnd(12)} ${String(e.size).padStart(8)}  ${compression}`);
  }
}

/** Byte equality, a 32-bit word at a time where it can: a ROM is 16 MiB and QuickJS loops are slow. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const words = a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 ? a.length >>> 2 : 0;
  const wa = new Uint32Array(a.buffer, a.byteOffset, words);
  const wb = new Uint32Array(b.buffer, b.byteOffset, words);
  for (let i = 0; i < words; i++) if (wa[i] !== wb[i]) return false;
  for (let i = words * 4; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Replaces the image file with `next` only once the written copy reads back identical. */
function replaceImage(ctx: CommandContext, path: string, next: Uint8Array): void {
  const staging = `${path}.new`;
  ctx.sys.writeFile(staging, next);
  if (!sameBytes(ctx.sys.readFile(staging), next)) {
    ctx.sys.remove(staging);
    throw new CbfsError("corrupt", `The new image written to ${staging} did not read back as written; ${path} was left unchanged. Check the disk.`);
  }
  ctx.sys.rename(staging, path);
}

function parseType(args: string[]): { type: number; rest: string[] } {
  const at = args.indexOf("--type");
  if (at < 0) return { type: CBFS_TYPES.raw!, rest: args };
  const name = args[at + 1];
  const type = name === undefined ? undefined : CBFS_TYPES[name];
  if (type === undefined) throw new UsageError(`--type takes one of: ${Object.keys(CBFS_TYPES).filter((t) => t !== "null" && t !== "deleted").join(", ")}`);
  return { type, rest: [...args.slice(0, at), ...args.slice(at + 2)] };
}

export async function cbfsCommand(args: string[], ctx: CommandContext): Promise<number> {
  const [action, ...rest] = args;
  const operands = (list: string[], n: number) => {
    const bad = list.find((a) => a.startsWith("--"));
    if (bad !== undefined) throw new UsageError(`unknown option ${bad} for cbfs ${action}`);
    if (list.length !== n) throw new UsageError(`usage: bootward ${USAGE}`);
    return list;
  };
  if (action === "list") {
    const [image] = operands(rest, 1) as [string];
    list(ctx, ctx.sys.readFile(image));
    return 0;
  }
  if (action === "extract") {
    const [image, name, outFile] = operands(rest, 3) as [string, string, string];
    ctx.sys.writeFile(outFile, extractFile(ctx.sys.readFile(image), name));
    return 0;
  }
  if (action === "add") {
    const { type, rest: others } = parseType(rest);
    const [image, name, file] = operands(others, 3) as [string, string, string];
    const data = ctx.sys.readFile(file);
    replaceImage(ctx, image, addFile(ctx.sys.readFile(image), name, data, type));
    ctx.out(`added ${name} (${data.length} bytes, ${typeName(type)}) to ${image}`);
    return 0;
  }
  if (action === "remove") {
    const [image, name] = operands(rest, 2) as [string, string];
    replaceImage(ctx, image, removeFile(ctx.sys.readFile(image), name));
    ctx.out(`removed ${name} from ${image}`);
    return 0;
  }
  throw new UsageError(`cbfs needs a subcommand: ${USAGE}`);
}
