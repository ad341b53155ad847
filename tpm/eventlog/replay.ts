// Replay an event log to the PCR values it predicts, compare with the live PCRs, and
// point at the events that explain a difference.
import { equalBytes, toHex } from "../../lib/bytes.ts";
import { ALG } from "../tpm2/constants.ts";
import { extendPcr, type PcrHash } from "../tpm2/policy.ts";
import { EV_NO_ACTION, describeEventData, type EventLog, type LogEvent } from "./parse.ts";

export function algOf(hash: PcrHash): number {
  return hash === "sha1" ? ALG.SHA1 : ALG.SHA256;
}

/** PC Client reset values: PCR 0 carries the startup locality; the DRTM PCRs 17-22 start as all ones until a dynamic launch. */
function initial(log: EventLog, pcr: number, hash: PcrHash): Uint8Array {
  const v = new Uint8Array(hash === "sha1" ? 20 : 32);
  if (pcr >= 17 && pcr <= 22) v.fill(0xff);
  if (pcr === 0) v[v.length - 1] = log.startupLocality;
  return v;
}

function measured(log: EventLog, pcr: number): LogEvent[] {
  return log.events.filter((e) => e.pcr === pcr && e.type !== EV_NO_ACTION);
}

/** PCR values the log predicts (only PCRs the log mentions). */
export function replay(log: EventLog, hash: PcrHash): Map<number, Uint8Array> {
  const alg = algOf(hash);
  const out = new Map<number, Uint8Array>();
  for (const e of log.events) {
    if (e.type === EV_NO_ACTION) continue;
    const d = e.digests.get(alg);
    if (!d) continue;
    out.set(e.pcr, extendPcr(hash, out.get(e.pcr) ?? initial(log, e.pcr, hash), d));
  }
  return out;
}

export interface PcrVerdict {
  pcr: number;
  expected: Uint8Array;
  live: Uint8Array;
  match: boolean;
  /** One sentence for the operator. */
  explanation: string;
  /** The events that explain a mismatch (empty when it matches). */
  suspects: LogEvent[];
}

/** Compare the log with the live PCRs (those given), and explain each difference. */
export function explain(log: EventLog, live: Map<number, Uint8Array>, hash: PcrHash): PcrVerdict[] {
  const alg = algOf(hash);
  const expected = replay(log, hash);
  const out: PcrVerdict[] = [];
  for (const [pcr, value] of [...live].sort((a, b) => a[0] - b[0])) {
    const events = measured(log, pcr).filter((e) => e.digests.has(alg));
    const start = initial(log, pcr, hash);
    const exp = expected.get(pcr) ?? start;
    const v: PcrVerdict = { pcr, expected: exp, live: value, match: equalBytes(exp, value), explanation: "", suspects: [] };
    if (v.match) {
      v.explanation = events.length ? `matches the ${events.length} logged event(s)` : "not measured, as the log says";
    } else if (events.length === 0) {
      v.explanation = "extended without any event in the firmware log (by the boot runtime, the OS, or a tampered component)";
    } else {
      // Does the TPM hold the value after some prefix of the logged events?
      let acc = start;
      let prefix = equalBytes(acc, value) ? 0 : -1;
      for (let i = 0; i < events.length && prefix < 0; i++) {
        acc = extendPcr(hash, acc, events[i]!.digests.get(alg)!);
        if (equalBytes(acc, value)) prefix = i + 1;
      }
      if (prefix >= 0) {
        v.suspects = events.slice(prefix);
        v.explanation = `the TPM holds the value after ${prefix} of ${events.length} logged events: the later ones were logged but never extended`;
      } else {
        v.suspects = events;
        v.explanation = "the log does not reproduce this PCR: one of its events was measured with different content, or something extended it without logging";
      }
    }
    out.push(v);
  }
  return out;
}

export function formatEvent(e: LogEvent, hash: PcrHash): string {
  const d = e.digests.get(algOf(hash));
  return `#${e.seq} PCR ${e.pcr} ${e.typeName} ${d ? toHex(d) : "(no " + hash + " digest)"} ${describeEventData(e)}`;
}
