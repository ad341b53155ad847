// The multi-call tool: `bootward <command> …`. Global options may stand before or after
// the command; exit codes are 0 success, 1 refused/failed check, 2 usage.
import type { Sys } from "../host/sys.ts";
import { rootedSys } from "../host/rooted.ts";
import { type CommandContext, type GlobalOptions, UsageError } from "./context.ts";
import { VERSION } from "../version.ts";
import { describeError } from "../errors.ts";

export type Command = (args: string[], ctx: CommandContext) => Promise<number>;

interface CommandSpec {
  summary: string;
  load: () => Promise<Command>;
}

const commands: Record<string, CommandSpec> = {
  menu: {
    summary: "menu                      the boot flow from a shell",
    load: async () => (await import("./menus.ts")).menuCommand,
  },
  selftest: {
    summary: "selftest [--vectors DIR]  engine + libraries check",
    load: async () => (await import("./selftest.ts")).selftestCommand,
  },
  tpm: {
    summary: "tpm info|pcrread|extend|eventlog|seal|unseal|counter|reset …",
    load: async () => (await import("./tpm.ts")).tpmCommand,
  },
  totp: {
    summary: "totp [--secret-file F] [--time UNIX]      the code (from the TPM unless a secret file is given)",
    load: async () => (await import("./attest.ts")).totpCommand,
  },
  hotp: {
    summary: "hotp [--secret-file F] --counter N",
    load: async () => (await import("./attest.ts")).hotpCommand,
  },
  "seal-totp": {
    summary: "seal-totp [--owner-passphrase-file F] [--board NAME]   new secret, sealed, QR shown",
    load: async () => (await import("./attest.ts")).sealTotpCommand,
  },
  boot: {
    summary: "boot list [--json] | verify | sign --key FILE | kexec N [--dry-run]",
    load: async () => (await import("./boot.ts")).bootCommand,
  },
  disk: {
    summary: "disk seal --devices … | unseal --out F | initrd OS_INITRD OUT | measure   the disk unlock key",
    load: async () => (await import("./disk.ts")).diskCommand,
  },
  "oem-reset": {
    summary: "oem-reset                 OEM factory reset / re-ownership wizard",
    load: async () => (await import("./menus.ts")).oemResetCommand,
  },
  cbfs: {
    summary: "cbfs list IMAGE | extract IMAGE NAME OUTFILE | add IMAGE NAME FILE [--type T] | remove IMAGE NAME",
    load: async () => (await import("./cbfs.ts")).cbfsCommand,
  },
};

const valueOptions = new Set(["--root", "--boot", "--keyring", "--tpm"]);

export interface ParsedArgs {
  options: GlobalOptions;
  /** --root: the directory the commands' Sys treats as `/` (host tests on fixture trees). */
  root: string;
  rest: string[];
}

/** Pulls the global options out of argv wherever they stand; the rest keeps its order. */
export function parseGlobalOptions(argv: string[]): ParsedArgs {
  const options: GlobalOptions = { json: false };
  let root = "/";
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (valueOptions.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "") throw new UsageError(`${name} needs a value`);
      if (name === "--root") root = value;
      else options[name.slice(2) as "boot" | "keyring" | "tpm"] = value;
    } else if (arg === "--json") {
      options.json = true;
    } else {
      rest.push(arg);
    }
  }
  return { options, root, rest };
}

export function usage(): string {
  const lines = [
    `bootward ${VERSION} — boot firmware runtime`,
    "",
    "usage: bootward [--root DIR] [--boot DIR] [--keyring FILE] [--tpm DEVICE] [--json] <command> …",
    "",
    ...Object.values(commands).map((c) => `  bootward ${c.summary}`),
    "",
    "exit codes: 0 success, 1 refused or failed check (reasons on stderr), 2 usage",
  ];
  return lines.join("\n");
}

export async function runCli(argv: string[], sys: Sys): Promise<number> {
  const ctx: CommandContext = {
    sys,
    options: { json: false },
    out: (line) => sys.console.write(line + "\n"),
    err: (line) => sys.console.writeError(line + "\n"),
  };
  try {
    const { options, root, rest } = parseGlobalOptions(argv);
    ctx.options = options;
    ctx.sys = rootedSys(sys, root);
    const [name, ...args] = rest;
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      ctx.out(usage());
      return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "version") {
      ctx.out(VERSION);
      return 0;
    }
    const spec = commands[name];
    if (!spec) throw new UsageError(`unknown command "${name}"`);
    const command = await spec.load();
    return await command(args, ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.err(`bootward: ${error.message}`);
      ctx.err(usage());
      return 2;
    }
    ctx.err(`bootward: ${describeError(error)}`);
    return 1;
  }
}
