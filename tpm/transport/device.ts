// A TPM character device (/dev/tpmrm0, /dev/tpm0, or a pty bridged to swtpm by socat).
// One write carries a whole command; reads may come back in pieces, so we read until the
// header's size field is satisfied.
import { joinBytes } from "../../lib/bytes.ts";
import { TpmTransportError } from "../errors.ts";
import { HEADER_LENGTH, MAX_RESPONSE, headerSize, type Transport } from "./transport.ts";

export interface DeviceFile {
  write(data: Uint8Array): void;
  read(max: number): Uint8Array;
  close(): void;
}

export class DeviceTransport implements Transport {
  private closed = false;

  constructor(
    private readonly device: DeviceFile,
    readonly resourceManaged: boolean,
    private readonly path = "the TPM device",
  ) {}

  async send(command: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new TpmTransportError(`${this.path} is already closed`);
    try {
      this.device.write(command);
    } catch (e) {
      throw new TpmTransportError(`writing to ${this.path} failed: ${(e as Error).message}`);
    }
    const chunks: Uint8Array[] = [];
    let have = 0;
    let want = HEADER_LENGTH;
    while (have < want) {
      let chunk: Uint8Array;
      try {
        chunk = this.device.read(MAX_RESPONSE);
      } catch (e) {
        throw new TpmTransportError(`reading from ${this.path} failed: ${(e as Error).message}`);
      }
      if (chunk.length === 0) throw new TpmTransportError(`${this.path} closed before the response was complete (${have} of ${want} bytes)`);
      chunks.push(chunk);
      have += chunk.length;
      if (want === HEADER_LENGTH && have >= HEADER_LENGTH) {
        const head = joinBytes(chunks);
        want = headerSize(head);
        if (want < HEADER_LENGTH || want > MAX_RESPONSE) throw new TpmTransportError(`${this.path} sent a response header with an impossible size ${want}`);
      }
    }
    const all = joinBytes(chunks);
    if (have > want) throw new TpmTransportError(`${this.path} sent ${have - want} bytes beyond the response`);
    return all;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.device.close();
  }
}


