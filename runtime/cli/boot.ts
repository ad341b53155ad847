// `bootward boot list|verify|sign|kexec`: the /boot integrity tools of the recovery shell,
// and the way host tests drive them against fixture trees (--root/--boot/--keyring).
import { readPassphraseFile, UsageError, type CommandContext } from "./context.ts";
import { openTpmDevice } from "../platform/tpm-device.ts";
import { readBoardConfig } from "../config/board.ts";
import type { Tpm } from "../../tpm/index.ts";
import { inMemorySigner } from "../../gpg/sign.ts";
import { KeyringMissingError, readRomKeyring } from "../boot/integrity/keyring.ts";
import { cmdlineRules, verifyPolicy } from "../boot/integrity/policy.ts";
import { BootPathError, BootVerifyError, describePlan, executePlan, KexecError, plan, scanMenu, signBoot, STAGE_DIR, verifyBoot, walkBoot, type KexecPlan, type VerifiedBoot } from "../boot/index.ts";
import { wipeSecretDir } from "../platform/secrets.ts";

const USAGE = "boot list [--json] | verify | sign --key FILE [--passphrase-file F] [--default N] [--no-counter] | kexec N [--dry-run]";

interface Parsed {
  flags: Set<string>;
  values: Map<string, string>;
  positional: string[];
}

function parse(args: string[], flags: string[], values: string[]): Parsed {
  const p: Parsed = { flags: new Set(), values: new Map(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (flags.includes(a)) p.flags.add(a);
    else if (values.includes(a)) {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      p.values.set(a, v);
    } else if (a.startsWith("--")) throw new UsageError(`unknown option ${a} for boot`);
    else p.positional.push(a);
  }
  return p;
}

const bootDir = (ctx: CommandContext) => ctx.options.boot ?? "/boot";

async function keys(ctx: CommandContext) {
  try {
    return await readRomKeyring(ctx.sys, ctx.options.keyring);
  } catch (error) {
    if (error instanceof KeyringMissingError) throw new UsageError(`${error.message}; or pass --keyring FILE`);
    throw error;
  }
}

async function withTpm<T>(ctx: CommandContext, use: (tpm: Tpm | undefined) => Promise<T>, needed: boolean): Promise<T> {
  if (!needed) return use(undefined);
  const tpm = await openTpmDevice(ctx.sys, ctx.options.tpm);
  try {
    return await use(tpm);
  } finally {
    tpm.close();
  }
}

async function verified(ctx: CommandContext): Promise<VerifiedBoot> {
  const config = readBoardConfig(ctx.sys);
  const dir = bootDir(ctx);
  const policy = verifyPolicy(ctx.sys, config, dir);
  const keyring = await keys(ctx);
  return withTpm(ctx, (tpm) => verifyBoot(ctx.sys, { bootDir: dir, keys: keyring, ...(tpm ? { tpm } : {}), ...policy }), policy.needsTpm);
}

function report(ctx: CommandContext, error: unknown): number {
  if (error instanceof KexecError || error instanceof BootPathError) {
    if (ctx.options.json) ctx.out(JSON.stringify({ ok: false, check: "kexec", reason: error.message }));
    ctx.err(`bootward: ${error.message}`);
    return 1;
  }
  if (!(error instanceof BootVerifyError)) throw error;
  if (ctx.options.json) ctx.out(JSON.stringify({ ok: false, check: error.check, reason: error.reason, ...error.files }));
  ctx.err(`bootward: ${error.message}`);
  return 1;
}

export async function bootCommand(args: string[], ctx: CommandContext): Promise<number> {
  const [action, ...rest] = args;
  if (action === "list") {
    parse(rest, [], []);
    const dir = bootDir(ctx);
    const menu = scanMenu(ctx.sys, dir, walkBoot(ctx.sys, dir));
    if (ctx.options.json) ctx.out(JSON.stringify({ entries: menu.entries, warnings: menu.warnings }, null, 2));
    else {
      menu.entries.forEach((e, i) => ctx.out(`${i + 1}: ${e.name}`));
      for (const w of menu.warnings) ctx.err(`warning: ${w}`);
    }
    return 0;
  }
  if (action === "verify") {
    if (parse(rest, [], []).positional.length) throw new UsageError("boot verify takes no arguments");
    try {
      const v = await verified(ctx);
      if (ctx.options.json) ctx.out(JSON.stringify({ ok: true, signer: v.signer, counter: v.counter?.toString() ?? null, default: v.defaultChoice?.index ?? null, clockWarning: v.clockWarning }));
      else ctx.out(`/boot verified: signed by ${v.signer}${v.counter !== null ? `, counter ${v.counter}` : ""}${v.defaultChoice ? `, default entry ${v.defaultChoice.index}: ${v.defaultChoice.entry.name}` : ", no default entry"}`);
      if (v.clockWarning) ctx.err(`warning: ${v.clockWarning}`);
      return 0;
    } catch (error) {
      return report(ctx, error);
    }
  }
  if (action === "sign") {
    const p = parse(rest, ["--no-counter"], ["--key", "--passphrase-file", "--default"]);
    const keyFile = p.values.get("--key") ?? (() => { throw new UsageError("boot sign needs --key FILE (an OpenPGP secret key)"); })();
    const passFile = p.values.get("--passphrase-file");
    const passphrase = passFile ? readPassphraseFile(ctx, passFile) : undefined;
    const signer = await inMemorySigner(ctx.sys.readFile(keyFile), passphrase).finally(() => passphrase?.fill(0));
    const def = p.values.get("--default");
    if (def !== undefined && !/^[1-9][0-9]*$/.test(def)) throw new UsageError("--default takes a menu entry number (1, 2, …)");
    let result;
    try {
      result = await withTpm(ctx, (tpm) => signBoot(ctx.sys, { bootDir: bootDir(ctx), signer, ...(tpm ? { tpm } : {}), ...(def ? { defaultIndex: Number(def) } : {}) }), !p.flags.has("--no-counter"));
    } finally {
      signer.forget();
    }
    ctx.out(`/boot signed by ${signer.fingerprint}: ${result.files.join(" ")}${result.counter ? ` (counter ${result.counter.name} = ${result.counter.value})` : ""}`);
    return 0;
  }
  if (action === "kexec") {
    const p = parse(rest, ["--dry-run"], []);
    if (p.positional.length !== 1 || !/^[1-9][0-9]*$/.test(p.positional[0]!)) throw new UsageError("boot kexec needs one entry number N");
    const config = readBoardConfig(ctx.sys);
    let v: VerifiedBoot;
    try {
      v = await verified(ctx);
    } catch (error) {
      return report(ctx, error);
    }
    let kplan: KexecPlan;
    try {
      kplan = plan(ctx.sys, v, cmdlineRules(config), Number(p.positional[0]), STAGE_DIR);
    } catch (error) {
      return report(ctx, error);
    }
    ctx.out(ctx.options.json ? JSON.stringify({ load: kplan.load, exec: kplan.exec, warnings: kplan.warnings, copies: kplan.staged }) : describePlan(kplan));
    if (p.flags.has("--dry-run")) return 0;
    const wipeSecrets = () => void wipeSecretDir(ctx.sys);
    try {
      return await withTpm(ctx, (tpm) => executePlan(ctx.sys, kplan, tpm ?? null, { wipeSecrets }), true);
    } catch (error) {
      return report(ctx, error);
    }
  }
  throw new UsageError(`boot needs a subcommand: ${USAGE}`);
}
