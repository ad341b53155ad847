// Send one TPM 2.0 command: marshal handles, authorizations and parameters; encrypt the
// first parameter and HMAC the command for sessions that ask; resend on RETRY/YIELDED/
// TESTING; check the response HMACs and decrypt the first response parameter.
import { concat, equalBytes, u32be } from "../../lib/bytes.ts";
import { TpmFormatError, TpmIntegrityError } from "../errors.ts";
import { cfb128 } from "../crypto/aes.ts";
import { hmacSha256, kdfa, sha256 } from "../crypto/hash.ts";
import type { Transport } from "../transport/transport.ts";
import { Reader, Writer } from "../wire.ts";
import { SESSION, TPM_RS_PW, TPM_ST_NO_SESSIONS, TPM_ST_SESSIONS, commandName } from "./constants.ts";
import { RC, responseError } from "./rc.ts";
import { Session, type Auth } from "./session.ts";

export interface Command {
  code: number;
  handles?: number[];
  /** Names of the handles (for cpHash); needed only when an HMAC is checked. */
  names?: Uint8Array[];
  /** One authorization per leading handle that needs one. */
  auths?: Auth[];
  params?: Uint8Array;
  responseHandles?: number;
  /** authValue to check the response HMAC with, when the command changes it (HierarchyChangeAuth). */
  newAuthValue?: Uint8Array;
}

export interface Response {
  handles: number[];
  params: Reader;
}

const MAX_RESENDS = 64;

export type Random = (n: number) => Uint8Array;

export function handleName(handle: number): Uint8Array {
  return u32be(handle);
}

export async function execute(transport: Transport, random: Random, cmd: Command): Promise<Response> {
  const name = commandName(cmd.code);
  const handles = cmd.handles ?? [];
  const auths = cmd.auths ?? [];
  let params = cmd.params ?? new Uint8Array(0);
  const sessions = auths.filter((a): a is Session => a instanceof Session);

  for (const s of sessions) s.nonceCaller = random(s.nonceCaller.length || 16);

  const decryptor = sessions.find((s) => s.attributes & SESSION.decrypt);
  if (decryptor) params = cryptFirst(params, decryptor, decryptor.nonceCaller, decryptor.nonceTpm, false, "command");

  let cpHash: Uint8Array | undefined;
  const w = new Writer();
  w.u16(auths.length ? TPM_ST_SESSIONS : TPM_ST_NO_SESSIONS).u32(0).u32(cmd.code);
  for (const h of handles) w.u32(h);
  if (auths.length) {
    const area = new Writer();
    for (const a of auths) {
      if (!(a instanceof Session)) {
        area.u32(TPM_RS_PW).sized(new Uint8Array(0)).u8(SESSION.continueSession).sized(a.password);
        continue;
      }
      area.u32(a.handle).sized(a.nonceCaller).u8(a.attributes);
      if (a.passwordNeeded) area.sized(a.authValue);
      else {
        cpHash ??= sha256(u32be(cmd.code), ...(cmd.names ?? handles.map(handleName)), params);
        const key = a.hmacKey();
        area.sized(hmacSha256(key, cpHash, a.nonceCaller, a.nonceTpm, Uint8Array.of(a.attributes)));
        if (key !== a.sessionKey) key.fill(0);
      }
    }
    const areaBytes = area.finish();
    w.u32(area.length).bytes(areaBytes);
    areaBytes.fill(0);
    area.wipe();
  }
  w.bytes(params);
  w.patchU32(2, w.length);
  const bytes = w.finish();
  // Password authorizations and parameters (a new authValue, a secret to seal) are in clear in
  // these buffers; once the command is sent, nothing needs them.
  w.wipe();
  if (params !== cmd.params) params.fill(0);
  cmd.params?.fill(0);

  let response: Uint8Array;
  let rc = 0;
  for (let attempt = 0; ; attempt++) {
    response = await transport.send(bytes);
    if (response.length < 10) throw new TpmFormatError(`${name}: response of ${response.length} bytes is shorter than a header`);
    rc = ((response[6]! << 24) | (response[7]! << 16) | (response[8]! << 8) | response[9]!) >>> 0;
    const retryable = rc === RC.RETRY || rc === RC.YIELDED || rc === RC.TESTING;
    if (!retryable || attempt >= MAX_RESENDS) break;
  }
  bytes.fill(0);
  return parseResponse(name, cmd, response, rc, sessions);
}

function parseResponse(name: string, cmd: Command, response: Uint8Array, rc: number, sessions: Session[]): Response {
  const r = new Reader(response, `${name} response`);
  const tag = r.u16();
  const size = r.u32();
  r.u32();
  if (size !== response.length) throw new TpmFormatError(`${name}: response size field ${size} differs from the ${response.length} bytes received`);
  if (rc !== 0) throw responseError(name, rc);
  if (tag !== TPM_ST_SESSIONS && tag !== TPM_ST_NO_SESSIONS) throw new TpmFormatError(`${name}: response tag 0x${tag.toString(16)} is not a TPM 2.0 tag`);
  const handles: number[] = [];
  for (let i = 0; i < (cmd.responseHandles ?? 0); i++) handles.push(r.u32());
  const auths = cmd.auths ?? [];
  let params: Uint8Array;
  if (tag === TPM_ST_SESSIONS) {
    const paramSize = r.u32();
    if (paramSize > r.remaining) throw new TpmFormatError(`${name}: parameter size ${paramSize} exceeds the response`);
    params = r.bytes(paramSize);
    let rpHash: Uint8Array | undefined;
    for (const a of auths) {
      const nonce = r.sized(64);
      const attrs = r.u8();
      const mac = r.sized(64);
      if (!(a instanceof Session)) {
        if (nonce.length || mac.length) throw new TpmFormatError(`${name}: a password session answered with a nonce or HMAC`);
        continue;
      }
      a.nonceTpm = nonce;
      if (!(attrs & SESSION.continueSession)) a.open = false;
      if (a.passwordNeeded) continue;
      if (cmd.newAuthValue) a.authValue = cmd.newAuthValue;
      rpHash ??= sha256(u32be(0), u32be(cmd.code), params);
      const key = a.hmacKey();
      const expected = hmacSha256(key, rpHash, a.nonceTpm, a.nonceCaller, Uint8Array.of(attrs));
      if (key !== a.sessionKey) key.fill(0);
      if (!equalBytes(expected, mac)) throw new TpmIntegrityError(`${name}: the response HMAC does not verify; the answer was altered on its way or comes from another TPM`);
    }
    r.end();
  } else {
    if (auths.length) throw new TpmFormatError(`${name}: response carries no sessions although the command had ${auths.length}`);
    params = r.rest();
  }
  const encryptor = sessions.find((s) => s.attributes & SESSION.encrypt);
  if (encryptor) params = cryptFirst(params, encryptor, encryptor.nonceTpm, encryptor.nonceCaller, true, "response");
  return { handles, params: new Reader(params, `${name} response parameters`) };
}

/** AES-128-CFB over the first parameter when it is a TPM2B (Part 1, 21.3). */
function cryptFirst(params: Uint8Array, s: Session, nonceNewer: Uint8Array, nonceOlder: Uint8Array, decrypt: boolean, what: string): Uint8Array {
  if (params.length < 2) throw new TpmFormatError(`${what} has no sized first parameter to encrypt`);
  const size = (params[0]! << 8) | params[1]!;
  if (size + 2 > params.length) throw new TpmFormatError(`${what}'s first parameter claims ${size} bytes, only ${params.length - 2} present`);
  const key = s.hmacKey();
  const keyIv = kdfa(key, "CFB", nonceNewer, nonceOlder, 256);
  if (key !== s.sessionKey) key.fill(0);
  const data = cfb128(keyIv.subarray(0, 16), keyIv.subarray(16, 32), params.subarray(2, 2 + size), decrypt);
  keyIv.fill(0);
  return concat(params.subarray(0, 2), data, params.subarray(2 + size));
}
