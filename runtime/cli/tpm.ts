// `bootward tpm …`: what a recovery-shell operator needs from the TPM (Heads' tpmr), with
// the output formats of DESIGN.md ("The command line").
import { readPassphraseFile, UsageError, type CommandContext } from "./context.ts";
import { openTpmDevice } from "../platform/tpm-device.ts";
import { fromHex, toHex } from "../../lib/bytes.ts";
import { TpmError, type Tpm } from "../../tpm/index.ts";
import { parseEventLog } from "../../tpm/eventlog/parse.ts";
import { explain, formatEvent } from "../../tpm/eventlog/replay.ts";
import { counterId, counterLine } from "../boot/integrity/hashes.ts";

export const EVENT_LOG_PATH = "/sys/kernel/security/tpm0/binary_bios_measurements";

const USAGE = `usage: bootward tpm info
       bootward tpm pcrread [N…]
       bootward tpm extend N (--string S | --file F)
       bootward tpm eventlog [--replay] [--log FILE]
       bootward tpm seal HANDLE --pcrs LIST [--pcr-value N=HEX…] [--passphrase-file F] [--owner-passphrase-file F] (--secret-file F | --random N)
         (HANDLE: 0x4d47 is persistent handle 0x81004d47 on TPM 2.0, NV index 0x4d47 on TPM 1.2)
       bootward tpm unseal HANDLE --pcrs LIST [--passphrase-file F] [--hex]
       bootward tpm counter create [--owner-passphrase-file F]
       bootward tpm counter read|increment ID   (hex on TPM 2.0, decimal on TPM 1.2, as kexec_rollback.txt names it)
       bootward tpm reset --owner-passphrase-file F [--primary rsa|ecc]`;

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

const BOOLEAN_FLAGS = new Set(["--replay", "--hex"]);

function parse(args: string[], allowed: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    if (!allowed.includes(a)) throw new UsageError(`unknown option ${a}\n${USAGE}`);
    if (BOOLEAN_FLAGS.has(a)) flags.set(a, ["yes"]);
    else {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      flags.set(a, [...(flags.get(a) ?? []), v]);
    }
  }
  return { positional, flags };
}

function one(p: Parsed, flag: string): string | undefined {
  const v = p.flags.get(flag);
  if (v && v.length > 1) throw new UsageError(`${flag} given twice`);
  return v?.[0];
}

function pcrNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 23) throw new UsageError(`"${text}" is not a PCR number (0-23)`);
  return Number(text);
}

/** "0,1,2,3,4,7" or "0-3,4,7" */
export function parsePcrList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\d+)-(\d+)$/.exec(part);
    if (m) {
      const [a, b] = [pcrNumber(m[1]!), pcrNumber(m[2]!)];
      if (a > b) throw new UsageError(`"${part}" is an empty PCR range`);
      for (let i = a; i <= b; i++) out.add(i);
    } else out.add(pcrNumber(part));
  }
  return [...out].sort((a, b) => a - b);
}

/** Heads writes handles and indices in hex, with or without 0x. */
export function parseHandle(text: string): number {
  const t = text.replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{1,8}$/.test(t)) throw new UsageError(`"${text}" is not a hexadecimal handle`);
  return parseInt(t, 16) >>> 0;
}

/** Heads names 2.0 counters by NV index (hex) and 1.2 counters by tpmtotp's countID (decimal). */
function parseCounterId(text: string, version: "1.2" | "2.0"): number {
  if (version === "2.0") return parseHandle(text);
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffffffff) usage(`"${text}" is not a TPM 1.2 counter id (decimal)`);
  return Number(text);
}

function readArgFile(ctx: CommandContext, path: string): Uint8Array {
  return ctx.sys.readFile(path);
}

function readPassphrase(ctx: CommandContext, path: string | undefined): Uint8Array | undefined {
  return path === undefined ? undefined : readPassphraseFile(ctx, path);
}

export async function tpmCommand(args: string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub) throw new UsageError(USAGE);
  const handler = SUBCOMMANDS[sub];
  if (!handler) throw new UsageError(`unknown tpm command "${sub}"\n${USAGE}`);
  const run = handler(rest, ctx); // parses arguments first: usage errors need no TPM
  let tpm: Tpm | undefined;
  try {
    tpm = await openTpmDevice(ctx.sys, ctx.options.tpm);
    return await run(tpm);
  } catch (e) {
    if (e instanceof TpmError) {
      ctx.err(`tpm ${sub}: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    tpm?.close();
  }
}

type Runner = (tpm: Tpm) => Promise<number>;
const SUBCOMMANDS: Record<string, (args: string[], ctx: CommandContext) => Runner> = {
  info(args, ctx) {
    if (parse(args, []).positional.length) usage("info takes no arguments");
    return async (tpm) => {
      const info = await tpm.info();
      if (ctx.options.json) ctx.out(JSON.stringify(info));
      else {
        ctx.out(`version: ${info.version}`);
        ctx.out(`manufacturer: ${info.manufacturer}`);
        if (info.vendorString) ctx.out(`vendor: ${info.vendorString}`);
        ctx.out(`firmware: ${info.firmware}`);
      }
      return 0;
    };
  },

  pcrread(args, ctx) {
    const p = parse(args, []);
    const pcrs = p.positional.length ? p.positional.map(pcrNumber) : Array.from({ length: 24 }, (_, i) => i);
    return async (tpm) => {
      const values = await tpm.pcrRead(pcrs);
      if (ctx.options.json) ctx.out(JSON.stringify(Object.fromEntries([...values].map(([k, v]) => [k, toHex(v)]))));
      else for (const [k, v] of values) ctx.out(`${k}: ${toHex(v)}`);
      return 0;
    };
  },

  extend(args, ctx) {
    const p = parse(args, ["--string", "--file"]);
    if (p.positional.length !== 1) usage("extend needs one PCR number");
    const pcr = pcrNumber(p.positional[0]!);
    const s = one(p, "--string");
    const f = one(p, "--file");
    if ((s === undefined) === (f === undefined)) usage("extend needs exactly one of --string S or --file F");
    return async (tpm) => {
      const data = s !== undefined ? s : readArgFile(ctx, f!);
      ctx.out(`${pcr}: ${toHex(await tpm.extend(pcr, data))}`);
      return 0;
    };
  },

  eventlog(args, ctx) {
    const p = parse(args, ["--replay", "--log"]);
    if (p.positional.length) usage("eventlog takes no positional arguments");
    const replay = p.flags.has("--replay");
    const logPath = one(p, "--log") ?? EVENT_LOG_PATH;
    return async (tpm) => {
      const log = parseEventLog(ctx.sys.readFile(logPath));
      const hash = tpm.version === "2.0" ? "sha256" : "sha1";
      if (!replay) {
        for (const e of log.events) ctx.out(formatEvent(e, hash));
        return 0;
      }
      const pcrs = [...new Set(log.events.map((e) => e.pcr).filter((n) => n < 24))].sort((a, b) => a - b);
      const verdicts = explain(log, await tpm.pcrRead(pcrs), hash);
      let bad = 0;
      for (const v of verdicts) {
        ctx.out(`${v.pcr}: ${v.match ? "ok" : "MISMATCH"} expected ${toHex(v.expected)} live ${toHex(v.live)}`);
        if (!v.match) {
          bad++;
          ctx.out(`    ${v.explanation}`);
          for (const e of v.suspects) ctx.out(`    ${formatEvent(e, hash)}`);
        }
      }
      if (bad) ctx.err(`${bad} PCR(s) differ from the event log`);
      return bad ? 1 : 0;
    };
  },

  seal(args, ctx) {
    const p = parse(args, ["--pcrs", "--pcr-value", "--passphrase-file", "--owner-passphrase-file", "--secret-file", "--random"]);
    if (p.positional.length !== 1) usage("seal needs one HANDLE");
    const handle = parseHandle(p.positional[0]!);
    const pcrsText = one(p, "--pcrs") ?? usage("seal needs --pcrs LIST");
    const pcrs = parsePcrList(pcrsText);
    const secretFile = one(p, "--secret-file");
    const random = one(p, "--random");
    if ((secretFile === undefined) === (random === undefined)) usage("seal needs exactly one of --secret-file F or --random N");
    if (random !== undefined && (!/^\d+$/.test(random) || Number(random) < 1 || Number(random) > 128)) usage("--random takes a byte count from 1 to 128");
    const pcrValues = new Map<number, Uint8Array>();
    for (const pv of p.flags.get("--pcr-value") ?? []) {
      const m = /^(\d+)=([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.exec(pv) ?? usage(`--pcr-value wants N=<64 hex digits (TPM 2.0) or 40 (TPM 1.2)>, not "${pv}"`);
      const n = pcrNumber(m[1]!);
      if (!pcrs.includes(n)) usage(`--pcr-value for PCR ${n} that is not in --pcrs`);
      pcrValues.set(n, fromHex(m[2]!));
    }
    return async (tpm) => {
      for (const [n, v] of pcrValues) if (v.length !== tpm.pcrSize) usage(`--pcr-value for PCR ${n} has ${v.length * 2} hex digits; this TPM ${tpm.version}'s PCRs have ${tpm.pcrSize * 2}`);
      const secret = secretFile !== undefined ? readArgFile(ctx, secretFile) : ctx.sys.randomBytes(Number(random));
      const passphrase = readPassphrase(ctx, one(p, "--passphrase-file"));
      const ownerPassphrase = readPassphrase(ctx, one(p, "--owner-passphrase-file"));
      try {
        await tpm.seal(secret, { handle, pcrs, pcrValues, passphrase, ownerPassphrase });
      } finally {
        secret.fill(0);
        passphrase?.fill(0);
        ownerPassphrase?.fill(0);
      }
      ctx.err(`sealed ${secret.length} bytes at 0x${handle.toString(16)} to PCRs ${pcrs.join(",")}${passphrase ? " and a passphrase" : ""}`);
      return 0;
    };
  },

  unseal(args, ctx) {
    const p = parse(args, ["--pcrs", "--passphrase-file", "--hex"]);
    if (p.positional.length !== 1) usage("unseal needs one HANDLE");
    const handle = parseHandle(p.positional[0]!);
    const pcrs = parsePcrList(one(p, "--pcrs") ?? usage("unseal needs --pcrs LIST"));
    return async (tpm) => {
      const passphrase = readPassphrase(ctx, one(p, "--passphrase-file"));
      const secret = await tpm.unseal({ handle, pcrs, passphrase });
      passphrase?.fill(0);
      try {
        if (p.flags.has("--hex")) ctx.out(toHex(secret));
        else if (secret.every((b) => b >= 0x20 && b < 0x7f)) ctx.out(String.fromCharCode(...secret));
        else {
          ctx.err("tpm unseal: the secret is binary; add --hex to print it");
          return 1;
        }
      } finally {
        secret.fill(0);
      }
      return 0;
    };
  },

  counter(args, ctx) {
    const [action, ...rest] = args;
    if (action === "create") {
      const p = parse(rest, ["--owner-passphrase-file"]);
      if (p.positional.length) usage("counter create takes no positional arguments");
      return async (tpm) => {
        const id = await tpm.counterCreate({ ownerPassphrase: readPassphrase(ctx, one(p, "--owner-passphrase-file")) });
        ctx.out(`${counterId(id, tpm.version)}: (valid after an increment)`);
        return 0;
      };
    }
    if (action === "read" || action === "increment") {
      const p = parse(rest, []);
      if (p.positional.length !== 1) usage(`counter ${action} needs one counter ID`);
      const text = p.positional[0]!;
      return async (tpm) => {
        const id = parseCounterId(text, tpm.version);
        const v = action === "read" ? await tpm.counterRead(id) : await tpm.counterIncrement(id);
        ctx.out(counterLine(id, v, tpm.version).trimEnd());
        return 0;
      };
    }
    usage("counter needs create, read or increment");
  },

  reset(args, ctx) {
    const p = parse(args, ["--owner-passphrase-file", "--primary"]);
    if (p.positional.length) usage("reset takes no positional arguments");
    const file = one(p, "--owner-passphrase-file") ?? usage("reset needs --owner-passphrase-file F (the new owner passphrase)");
    const primary = one(p, "--primary") ?? "rsa";
    if (primary !== "rsa" && primary !== "ecc") usage("--primary is rsa or ecc");
    return async (tpm) => {
      const ownerPassphrase = readPassphrase(ctx, file)!;
      try {
        await tpm.reset({ ownerPassphrase, primaryKeyType: primary });
      } finally {
        ownerPassphrase.fill(0);
      }
      ctx.err(tpm.version === "2.0" ? `TPM cleared; owner passphrase set, ${primary} storage key persisted at 0x81000000` : "TPM cleared; owner passphrase set, storage root key created with the well-known authorization");
      return 0;
    };
  },
};

function usage(message: string): never {
  throw new UsageError(`${message}\n${USAGE}`);
}

