// `bootward totp`, `bootward hotp`, `bootward seal-totp` (DESIGN.md "The command line").
import { readPassphraseFile, UsageError, type CommandContext } from "./context.ts";
import { openTpmDevice } from "../platform/tpm-device.ts";
import { readBoardConfig } from "../config/board.ts";
import { TpmError, type Tpm } from "../../tpm/index.ts";
import { hotpCode, totpCode } from "../attest/otp.ts";
import { unsealTotp } from "../attest/unseal.ts";
import { sealNewTotpSecret } from "../attest/seal.ts";
import { encodeQr } from "../../ui/qr/encode.ts";
import { qrToHalfBlocks } from "../../ui/qr/half-blocks.ts";

function flags(args: string[], valued: string[], usage: string): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!valued.includes(a)) throw new UsageError(`unexpected argument "${a}"\n${usage}`);
    const v = args[++i];
    if (v === undefined) throw new UsageError(`${a} needs a value\n${usage}`);
    if (out.has(a)) throw new UsageError(`${a} given twice\n${usage}`);
    out.set(a, v);
  }
  return out;
}

/** The secret from a file (raw bytes, as Heads' /tmp/secret/totp.key), or from the TPM; null after reporting why not. */
async function secretFrom(ctx: CommandContext, file: string | undefined, what: string): Promise<Uint8Array | null> {
  if (file !== undefined) {
    const s = ctx.sys.readFile(file);
    if (s.length === 0) {
      ctx.err(`${what}: ${file} is empty`);
      return null;
    }
    return s;
  }
  return withTpm(ctx, what, async (tpm) => {
    const r = await unsealTotp(tpm, ctx.sys);
    if ("secret" in r) {
      if (r.source === "pending") ctx.err(`${what}: using the secret of an interrupted "seal-totp"; run it again to finish`);
      return r.secret;
    }
    ctx.err(`${what}: no code: ${r.failure.kind === "pcr" ? `PCR ${r.failure.pcrs.join(", ") || "?"} changed` : r.failure.kind}`);
    for (const line of r.failure.explanation) ctx.err(`  ${line}`);
    return null;
  });
}

async function withTpm<T>(ctx: CommandContext, what: string, f: (tpm: Tpm) => Promise<T>): Promise<T | null> {
  let tpm: Tpm | undefined;
  try {
    tpm = await openTpmDevice(ctx.sys, ctx.options.tpm);
    return await f(tpm);
  } catch (e) {
    if (!(e instanceof TpmError)) throw e;
    ctx.err(`${what}: ${e.message}`);
    return null;
  } finally {
    tpm?.close();
  }
}

const TOTP_USAGE = "usage: bootward totp [--secret-file F] [--time UNIX]";
export async function totpCommand(args: string[], ctx: CommandContext): Promise<number> {
  const f = flags(args, ["--secret-file", "--time"], TOTP_USAGE);
  const time = f.get("--time");
  if (time !== undefined && !/^\d{1,12}$/.test(time)) throw new UsageError(`--time wants seconds since 1970, not "${time}"`);
  const secret = await secretFrom(ctx, f.get("--secret-file"), "totp");
  if (!secret) return 1;
  try {
    const now = time !== undefined ? Number(time) * 1000 : ctx.sys.now();
    const c = totpCode(secret, now);
    if (ctx.options.json) ctx.out(JSON.stringify({ code: c.code, expiresAt: c.expiresAt, secondsLeft: c.secondsLeft }));
    else {
      ctx.out(c.code);
      ctx.err(`valid for ${c.secondsLeft} s more`);
    }
    return 0;
  } finally {
    secret.fill(0);
  }
}

const HOTP_USAGE = "usage: bootward hotp [--secret-file F] --counter N";
export async function hotpCommand(args: string[], ctx: CommandContext): Promise<number> {
  const f = flags(args, ["--secret-file", "--counter"], HOTP_USAGE);
  const counter = f.get("--counter");
  if (counter === undefined || !/^\d{1,15}$/.test(counter)) throw new UsageError(`hotp needs --counter N (a whole number)\n${HOTP_USAGE}`);
  const secret = await secretFrom(ctx, f.get("--secret-file"), "hotp");
  if (!secret) return 1;
  try {
    const code = hotpCode(secret, Number(counter));
    ctx.out(ctx.options.json ? JSON.stringify({ code, counter: Number(counter) }) : code);
    return 0;
  } finally {
    secret.fill(0);
  }
}

const SEAL_USAGE = "usage: bootward seal-totp [--owner-passphrase-file F] [--board NAME]";
export async function sealTotpCommand(args: string[], ctx: CommandContext): Promise<number> {
  const f = flags(args, ["--owner-passphrase-file", "--board"], SEAL_USAGE);
  const board = f.get("--board") ?? readBoardConfig(ctx.sys).CONFIG_BOARD_NAME;
  const ownerFile = f.get("--owner-passphrase-file");
  const owner = ownerFile === undefined ? undefined : readPassphraseFile(ctx, ownerFile);
  try {
    const r = await withTpm(ctx, "seal-totp", (tpm) => sealNewTotpSecret(tpm, ctx.sys, { ownerPassphrase: owner, boardName: board }));
    if (!r) return 1;
    r.secret.fill(0);
    if (ctx.options.json) {
      ctx.out(JSON.stringify({ url: r.enrolment.url, base32: r.enrolment.base32, pcrs: r.pcrs, proof: r.proof, recorded: !r.recordProblem }));
      return 0;
    }
    if (ctx.sys.console.isTerminal()) for (const line of qrToHalfBlocks(encodeQr(r.enrolment.url, { level: "M" }))) ctx.out(line);
    ctx.out(r.enrolment.url);
    ctx.out(r.enrolment.base32);
    ctx.err(`sealed to PCRs ${r.pcrs.join(",")} (PCR 4 at its clean value); ${r.proof === "unsealed" ? "unsealed once to prove it" : "PCR 4 is extended in this boot: proven by the TPM's policy digest, the code appears after a reboot"}`);
    if (r.recordProblem) ctx.err(`the PCR values were not recorded (${r.recordProblem}): a later failure cannot name the PCR that moved`);
    return 0;
  } finally {
    owner?.fill(0);
  }
}
