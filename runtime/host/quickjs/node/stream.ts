// `node:stream`: ink tests `stdout instanceof Stream`; nothing here streams.
import { EventEmitter } from "events";

export class Stream extends EventEmitter {}
export class Readable extends Stream {}
export class Writable extends Stream {}
export class Duplex extends Stream {}
export class Transform extends Duplex {}
export class PassThrough extends Transform {}
export default Stream;
