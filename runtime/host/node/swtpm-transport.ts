// Raw TPM commands to swtpm over TCP (tests, tools, bench). swtpm answers each command
// with one response whose header carries its length; TCP may deliver it in pieces.
import { Socket, connect } from "node:net";
import { TpmTransportError } from "../../../tpm/errors.ts";
import { HEADER_LENGTH, MAX_RESPONSE, headerSize, type Transport } from "../../../tpm/transport/transport.ts";

export class SwtpmTransport implements Transport {
  readonly resourceManaged = false;
  private socket?: Socket;
  private buffer = Buffer.alloc(0);
  private waiter?: { resolve(b: Uint8Array): void; reject(e: Error): void };
  private failure?: Error;

  constructor(
    readonly port: number,
    readonly host = "127.0.0.1",
  ) {}

  private connect(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const s = connect({ port: this.port, host: this.host });
      s.setNoDelay(true);
      s.once("connect", () => {
        this.socket = s;
        resolve(s);
      });
      s.on("data", (chunk) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        this.deliver();
      });
      s.on("error", (e) => {
        const err = new TpmTransportError(`swtpm at ${this.host}:${this.port}: ${e.message}`);
        this.failure = err;
        if (!this.socket) reject(err);
        this.waiter?.reject(err);
        this.waiter = undefined;
      });
      s.on("close", () => {
        this.failure ??= new TpmTransportError(`swtpm at ${this.host}:${this.port} closed the connection`);
        this.waiter?.reject(this.failure);
        this.waiter = undefined;
      });
    });
  }

  private deliver(): void {
    if (!this.waiter || this.buffer.length < HEADER_LENGTH) return;
    const size = headerSize(this.buffer);
    if (size < HEADER_LENGTH || size > MAX_RESPONSE) {
      this.waiter.reject(new TpmTransportError(`swtpm sent a response header with an impossible size ${size}`));
      this.waiter = undefined;
      return;
    }
    if (this.buffer.length < size) return;
    const response = new Uint8Array(this.buffer.subarray(0, size));
    this.buffer = this.buffer.subarray(size);
    const w = this.waiter;
    this.waiter = undefined;
    w.resolve(response);
  }

  async send(command: Uint8Array): Promise<Uint8Array> {
    if (this.failure) throw this.failure;
    if (this.waiter) throw new TpmTransportError("a command is already in flight on this swtpm connection");
    const s = await this.connect();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.waiter = { resolve, reject };
      s.write(command);
    });
  }

  close(): void {
    this.failure ??= new TpmTransportError("the swtpm connection is closed");
    this.socket?.destroy();
    this.socket = undefined;
  }
}
