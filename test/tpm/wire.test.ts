// Marshalling, response codes, the device transport's reassembly and the recorder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Reader, Writer, marshal } from "../../tpm/wire.ts";
import { TpmFormatError, TpmResponseError, TpmTransportError } from "../../tpm/errors.ts";
import { decodeRc, responseError } from "../../tpm/tpm2/rc.ts";
import { DeviceTransport, type DeviceFile } from "../../tpm/transport/device.ts";
import { RecordingTransport } from "../../tpm/transport/recorder.ts";
import { readPcrSelections, writePcrSelections, marshalPublic, readPublic, srkTemplate, sealedTemplate } from "../../tpm/tpm2/types.ts";
import { openTpm } from "../../tpm/index.ts";

test("Writer/Reader round trip big-endian fields and sized buffers", () => {
  const b = marshal((w) => w.u8(1).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fn).sized(Uint8Array.of(9, 9)).sized32(Uint8Array.of(7)));
  assert.deepEqual([...b.subarray(0, 7)], [1, 2, 3, 4, 5, 6, 7]);
  const r = new Reader(b);
  assert.equal(r.u8(), 1);
  assert.equal(r.u16(), 0x0203);
  assert.equal(r.u32(), 0x04050607);
  assert.equal(r.u64(), 0x08090a0b0c0d0e0fn);
  assert.deepEqual([...r.sized()], [9, 9]);
  assert.deepEqual([...r.sized32(10)], [7]);
  r.end();
  const w = new Writer();
  for (let i = 0; i < 1000; i++) w.u32(i);
  assert.equal(w.finish().length, 4000);
});

test("Reader refuses truncation, oversize, impossible counts and trailing bytes", () => {
  assert.throws(() => new Reader(Uint8Array.of(1)).u16(), TpmFormatError);
  assert.throws(() => new Reader(Uint8Array.of(0, 5, 1)).sized(), TpmFormatError);
  assert.throws(() => new Reader(Uint8Array.of(0, 5, 1, 2, 3, 4, 5)).sized(4), /exceeds its maximum/);
  assert.throws(() => { const r = new Reader(Uint8Array.of(0, 0, 0, 9)); r.count(r.u32(), 4); }, /cannot fit/);
  assert.throws(() => new Reader(Uint8Array.of(1)).end(), /trailing/);
});

test("PCR selections and public areas round trip", () => {
  const sel = [{ hash: 0xb, pcrs: [0, 1, 2, 3, 4, 7, 23] }];
  const r = new Reader(marshal((w) => writePcrSelections(w, sel)));
  assert.deepEqual(readPcrSelections(r), sel);
  assert.throws(() => marshal((w) => writePcrSelections(w, [{ hash: 0xb, pcrs: [24] }])), RangeError);
  for (const p of [srkTemplate("rsa"), srkTemplate("ecc"), sealedTemplate(new Uint8Array(32).fill(1))]) {
    assert.deepEqual(readPublic(new Reader(marshalPublic(p))), p);
  }
});

test("response codes decode to spec names and sentences", () => {
  assert.equal(decodeRc(0x99d).name, "TPM_RC_POLICY_FAIL");
  assert.match(decodeRc(0x99d).sentence, /session 1/);
  assert.equal(decodeRc(0x1c4).name, "TPM_RC_VALUE");
  assert.match(decodeRc(0x1c4).sentence, /parameter 1/);
  assert.equal(decodeRc(0x18b).name, "TPM_RC_HANDLE");
  assert.match(decodeRc(0x18b).sentence, /handle 1/);
  assert.equal(decodeRc(0x902).name, "TPM_RC_OBJECT_MEMORY");
  assert.equal(decodeRc(0x922).name, "TPM_RC_RETRY");
  assert.equal(decodeRc(0x100).name, "TPM_RC_INITIALIZE");
  assert.equal(decodeRc(0x14a).name, "TPM_RC_NV_UNINITIALIZED");
  assert.equal(decodeRc(0x1e).name, "TPM_BADTAG");
  assert.match(decodeRc(0x9ff).name, /^TPM_RC_/);
  const e = responseError("TPM2_Unseal", 0x99d);
  assert.ok(e instanceof TpmResponseError);
  assert.match(e.message, /^TPM2_Unseal failed: TPM_RC_POLICY_FAIL \(0x99d\): /);
  // every code decodes without throwing
  for (let rc = 1; rc < 0x1000; rc++) assert.ok(decodeRc(rc).name.length > 0);
});

/** A device that hands its answer back in small pieces, as a pty bridged by socat may. */
class ChunkyDevice implements DeviceFile {
  pending: Uint8Array[] = [];
  closed = false;
  constructor(private readonly answer: (cmd: Uint8Array) => Uint8Array, private readonly chunk: number) {}
  write(data: Uint8Array): void {
    const a = this.answer(data);
    for (let o = 0; o < a.length; o += this.chunk) this.pending.push(a.subarray(o, o + this.chunk));
  }
  read(): Uint8Array {
    return this.pending.shift() ?? new Uint8Array(0);
  }
  close(): void {
    this.closed = true;
  }
}

const okResponse = (extra: number[]) => Uint8Array.of(0x80, 0x01, 0, 0, 0, 10 + extra.length, 0, 0, 0, 0, ...extra);

test("the device transport reads until the header's size is complete", async () => {
  for (const chunk of [1, 3, 7, 100]) {
    const dev = new ChunkyDevice(() => okResponse([1, 2, 3, 4, 5]), chunk);
    const t = new DeviceTransport(dev, false, "/dev/tpm0");
    assert.deepEqual([...(await t.send(Uint8Array.of(1)))], [...okResponse([1, 2, 3, 4, 5])]);
    t.close();
    assert.ok(dev.closed);
    await assert.rejects(t.send(Uint8Array.of(1)), TpmTransportError);
  }
});

test("the device transport refuses short, oversized and overlong answers", async () => {
  const short = new DeviceTransport(new ChunkyDevice(() => okResponse([1, 2]).subarray(0, 8), 4), false);
  await assert.rejects(short.send(Uint8Array.of(1)), /closed before the response was complete/);
  const huge = new DeviceTransport(new ChunkyDevice(() => Uint8Array.of(0x80, 1, 0x7f, 0, 0, 0, 0, 0, 0, 0), 10), false);
  await assert.rejects(huge.send(Uint8Array.of(1)), /impossible size/);
  const extra = new DeviceTransport(new ChunkyDevice(() => Uint8Array.of(...okResponse([]), 9, 9), 12), false);
  await assert.rejects(extra.send(Uint8Array.of(1)), /beyond the response/);
  const broken: DeviceFile = { write() { throw new Error("EIO"); }, read: () => new Uint8Array(0), close() {} };
  await assert.rejects(new DeviceTransport(broken, false).send(Uint8Array.of(1)), /writing to the TPM device failed: EIO/);
});

test("the recorder names, counts, delays and injects", async () => {
  const inner = { send: async () => okResponse([0, 0, 0, 0, 0]) };
  const slept: number[] = [];
  const rec = new RecordingTransport(inner, { latencyMs: 30, sleep: async (ms) => void slept.push(ms) });
  const cmd = (code: number) => Uint8Array.of(0x80, 0x01, 0, 0, 0, 10, 0, 0, code >> 8, code & 255);
  await rec.send(cmd(0x17e));
  await rec.send(cmd(0x17e));
  await rec.send(Uint8Array.of(0, 0xc1, 0, 0, 0, 10, 0, 0, 0, 0x15));
  assert.deepEqual(rec.counts(), { TPM2_PCR_Read: 2, TPM_PCRRead: 1 });
  assert.deepEqual(slept, [30, 30, 30]);
  rec.inject({ command: "TPM2_Unseal", rc: 0x99d });
  const r = await rec.send(cmd(0x15e));
  assert.deepEqual([...r.subarray(6)], [0, 0, 0x09, 0x9d]);
  assert.equal(rec.log.at(-1)!.rc, 0x99d);
  const again = await rec.send(cmd(0x15e));
  assert.equal(again[9], 0);
});

test("openTpm: an answer that is neither 1.2 nor 2.0 is a typed error", async () => {
  await assert.rejects(openTpm({ send: async () => Uint8Array.of(0x80, 0x01, 0, 0, 0, 10, 0, 0, 1, 1) }), TpmResponseError);
  await assert.rejects(openTpm({ send: async () => Uint8Array.of(1, 2, 3) }), TpmFormatError);
});
