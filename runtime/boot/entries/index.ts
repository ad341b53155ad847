// Boot entries: parsers for GRUB, syslinux and BLS, the directory scan, and Heads' entry line.
export { BootConfigError, LIMITS } from "./types.ts";
export type { BootEntry, BootModule, EntrySource, LinuxEntry, Loader, MultibootEntry, ParseResult, XenEntry } from "./types.ts";
export { parseGrub, type ParseOptions } from "./grub.ts";
export { parseSyslinux } from "./syslinux.ts";
export { blsVariables, defaultKernelopts, parseBls, parseGrubenv } from "./bls.ts";
export { parseBootConfig, scanBootEntries, type BootFile, type ScanOptions } from "./scan.ts";
export { headsMenu, parseHeadsLine, toHeadsLine } from "./heads-line.ts";
export { pathProblem } from "./common.ts";
