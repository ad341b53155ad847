// `bootward selftest`: proves the engine and the libraries work on this very binary.
// One line per check; the caller prints them and exits non-zero on any FAIL.
import * as openpgp from "openpgp";
import { generateSync } from "otplib";
import { createElement } from "react";
import { readKeyring, SignatureError, verifyDetached } from "../gpg/verify.ts";
import { Card } from "../ui/card.tsx";
import { renderToText } from "../ui/render-to-string.tsx";
import type { Sys } from "./host/sys.ts";

export interface SelftestResult {
  ok: boolean;
  lines: string[];
}

export interface SelftestOptions {
  /** A directory of GnuPG-made vectors: `<name>.pub.asc`, `<name>.data`, `<name>.sig`. */
  vectorsDir?: string;
}

type Check = () => Promise<string | void> | string | void;

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

function expect(condition: unknown, why: string): asserts condition {
  if (!condition) throw new Error(why);
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function checkEngine(): Promise<string> {
  expect(2n ** 64n === 18446744073709551616n, "BigInt arithmetic is wrong");
  const g = globalThis as Record<string, unknown>;
  expect(g.self === globalThis, "self is not globalThis");
  expect(new TextDecoder().decode(new TextEncoder().encode("bootward ✓")) === "bootward ✓", "TextEncoder/TextDecoder do not round-trip UTF-8");
  const random = crypto.getRandomValues(new Uint8Array(32));
  expect(random.some((b) => b !== 0), "crypto.getRandomValues returned zeros");
  const digest = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abc")));
  expect(digest === "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "crypto.subtle.digest SHA-256 is wrong");
  const Segmenter = (Intl as unknown as { Segmenter?: new () => { segment(s: string): Iterable<{ segment: string }> } }).Segmenter;
  expect(Segmenter, "Intl.Segmenter is missing");
  const clusters = Array.from(new Segmenter().segment("e\u0301🇫🇷a"), (s) => s.segment);
  expect(clusters.length === 3, `Intl.Segmenter split "e\u0301🇫🇷a" into ${clusters.length} graphemes, expected 3`);
  expect(Object.hasOwn({ a: 1 }, "a") && [1, 2, 3].at(-1) === 3, "Object.hasOwn or Array.prototype.at is missing");
  expect(typeof queueMicrotask === "function" && typeof setTimeout === "function", "queueMicrotask or setTimeout is missing");
  return "BigInt, self, TextEncoder/Decoder, getRandomValues, subtle.digest, Intl.Segmenter, polyfills, timers";
}

async function checkOpenpgpRoundTrip(): Promise<string[]> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [{ name: "bootward selftest" }],
    format: "object",
  });
  const data = new TextEncoder().encode("bootward selftest message\n");
  const message = await openpgp.createMessage({ binary: data });
  const signature = await openpgp.sign({ message, signingKeys: privateKey, detached: true, format: "binary" });
  const keys = [publicKey];
  const result = await verifyDetached({ data, signature: signature as Uint8Array, keys });
  expect(result.fingerprint === publicKey.getFingerprint().toUpperCase(), "verify reported the wrong signer");
  const tampered = data.slice();
  tampered[0] = tampered[0]! ^ 1;
  await expectRejected(() => verifyDetached({ data: tampered, signature: signature as Uint8Array, keys }), "bad-signature");
  return ["openpgp: Ed25519 (legacy, v4) keygen, sign, verify", "openpgp: tampered message rejected"];
}

async function expectRejected(run: () => Promise<unknown>, reason: SignatureError["reason"]): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SignatureError && error.reason === reason) return;
    throw new Error(`rejected for the wrong reason: ${describe(error)}`);
  }
  throw new Error("a changed message was accepted");
}

function vectorNames(sys: Sys, dir: string): string[] {
  return sys
    .readdir(dir)
    .filter((n) => n.endsWith(".pub.asc"))
    .map((n) => n.slice(0, -".pub.asc".length));
}

async function checkVector(sys: Sys, dir: string, name: string): Promise<string> {
  const keys = await readKeyring(sys.readFile(`${dir}/${name}.pub.asc`));
  const data = sys.readFile(`${dir}/${name}.data`);
  const signature = sys.readFile(`${dir}/${name}.sig`);
  const result = await verifyDetached({ data, signature, keys });
  expect(data.length > 0, "the data file is empty");
  const tampered = data.slice();
  tampered[tampered.length >> 1] = tampered[tampered.length >> 1]! ^ 0x20;
  await expectRejected(() => verifyDetached({ data: tampered, signature, keys }), "bad-signature");
  return `gpg vector ${name}: good signature by ${result.fingerprint}, changed byte rejected`;
}

// RFC 6238 appendix B, SHA-1 rows, with the 20-byte ASCII seed.
const RFC6238_SHA1: [number, string][] = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
];

function checkOtp(): string {
  const secret = new TextEncoder().encode("12345678901234567890");
  for (const [epoch, expected] of RFC6238_SHA1) {
    const code = generateSync({ strategy: "totp", secret, epoch, digits: 8, algorithm: "sha1", period: 30 });
    expect(code === expected, `T=${epoch} gave ${code}, expected ${expected}`);
  }
  const six = generateSync({ strategy: "totp", secret, epoch: 59, digits: 6, algorithm: "sha1", period: 30 });
  expect(six === "287082", `the 6-digit code at T=59 is ${six}, expected 287082`);
  return "otplib: RFC 6238 SHA-1 vectors (8 digits) and a 6-digit code";
}

function checkInk(): string {
  const text = renderToText(createElement(Card, { title: "bootward selftest", lines: ["TPM: 2.0", "PCR 16: ok"] }), {
    columns: 40,
    plain: true,
  });
  for (const want of ["bootward selftest", "TPM: 2.0", "PCR 16: ok", "╭", "╯"]) {
    expect(text.includes(want), `the rendered screen lacks "${want}"`);
  }
  return "ink: bordered screen rendered";
}

export async function selftest(sys: Sys, options: SelftestOptions = {}): Promise<SelftestResult> {
  const lines: string[] = [];
  let ok = true;
  const run = async (label: string, check: Check) => {
    try {
      const detail = await check();
      lines.push(`ok ${typeof detail === "string" ? detail : label}`);
    } catch (error) {
      ok = false;
      lines.push(`FAIL ${label}: ${describe(error)}`);
    }
  };

  await run("engine", checkEngine);
  try {
    lines.push(...(await checkOpenpgpRoundTrip()).map((l) => `ok ${l}`));
  } catch (error) {
    ok = false;
    lines.push(`FAIL openpgp: Ed25519 round trip: ${describe(error)}`);
  }
  if (options.vectorsDir !== undefined) {
    const dir = options.vectorsDir;
    let names: string[] = [];
    await run(`gpg vectors in ${dir}`, () => {
      names = vectorNames(sys, dir);
      expect(names.length > 0, "no <name>.pub.asc found");
      return `gpg vectors: ${names.length} found in ${dir}`;
    });
    for (const name of names) await run(`gpg vector ${name}`, () => checkVector(sys, dir, name));
  }
  await run("otplib", checkOtp);
  await run("ink", checkInk);
  return { ok, lines };
}
