// A simulated machine for the sealing and attestation tests: swtpm (TPM 2.0, or a TPM 1.2
// with the endorsement key its vendor made) as its TPM, a fixture root holding the firmware
// event log, and "boots" that reset the TPM (swtpm_ioctl -i) and replay the firmware's
// measurements into it, as SeaBIOS does on the QEMU board.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { startSwtpm12 } from "../../support/swtpm12.ts";
import { buildAgileLog, buildSha1Log, digest, FIRMWARE_EVENTS, type BuiltEvent } from "../../tpm/eventlog-builder.ts";
import { openTpm, type Tpm } from "../../../tpm/index.ts";
import { RecordingTransport } from "../../../tpm/transport/recorder.ts";
import { EVENT_LOG_PATH } from "../../../runtime/sealing/eventlog.ts";

const run = promisify(execFile);
export const OWNER = "owner secret";

export interface Firmware {
  /** Logged events (the log file holds them). */
  events: BuiltEvent[];
  /** Extended into the TPM without a log entry (tampering the log does not show). */
  unlogged?: { pcr: number; data: string }[];
}

export const text = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
export const STOCK: Firmware = { events: FIRMWARE_EVENTS.concat([{ pcr: 7, type: 0xd, data: text("/.gnupg/pubring.kbx") }]) };
/** New firmware: another option ROM in PCR 2, logged as such. */
export const FLASHED: Firmware = { events: STOCK.events.map((e) => (e.pcr === 2 && e.type === 0x7 ? { ...e, data: text("option ROM v2 stand-in") } : e)) };
/** Same log, but PCR 7 got something the log does not mention. */
export const TAMPERED7: Firmware = { events: STOCK.events, unlogged: [{ pcr: 7, data: "evil config.user" }] };

export class Board {
  root = mkdtempSync(join(tmpdir(), "bootward-attest-root-"));
  private constructor(readonly sw: Swtpm) {}

  static async start(version: "1.2" | "2.0" = "2.0"): Promise<Board> {
    return new Board(version === "2.0" ? await startSwtpm("2.0") : await startSwtpm12());
  }

  get version(): "1.2" | "2.0" {
    return this.sw.version;
  }

  /** A fresh connection, as each boot/process of bootward opens the TPM anew. */
  async open(latencyMs = 0): Promise<{ tpm: Tpm; rec: RecordingTransport }> {
    const rec = new RecordingTransport(this.sw.transport(), { latencyMs });
    return { tpm: await openTpm(rec), rec };
  }

  async with<T>(f: (tpm: Tpm) => Promise<T>): Promise<T> {
    const { tpm } = await this.open();
    try {
      return await f(tpm);
    } finally {
      tpm.close();
    }
  }

  /** Power-cycle the TPM and measure `fw` into it; the log file is rewritten to match. */
  async boot(fw: Firmware = STOCK): Promise<void> {
    // An orderly shutdown first: a power loss without one counts a dictionary-attack failure.
    await this.with((tpm) => tpm.shutdown()).catch(() => undefined);
    await run("swtpm_ioctl", ["--tcp", `127.0.0.1:${this.sw.ctrlPort}`, "-i"]);
    const logPath = join(this.root, EVENT_LOG_PATH);
    mkdirSync(dirname(logPath), { recursive: true });
    // TPM 1.2 firmware writes the SHA-1-only log format.
    const sha1 = this.version === "1.2";
    writeFileSync(logPath, sha1 ? buildSha1Log(fw.events) : buildAgileLog(fw.events));
    await this.with(async (tpm) => {
      for (const e of fw.events) if (e.type !== 3) await tpm.extendDigest(e.pcr, digest(sha1 ? "sha1" : "sha256", e.data));
      for (const u of fw.unlogged ?? []) await tpm.extend(u.pcr, u.data);
    });
  }

  async stop(): Promise<void> {
    await this.sw.stop();
    rmSync(this.root, { recursive: true, force: true });
  }
}
