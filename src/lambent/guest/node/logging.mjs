// console.* in AWS's log formats: text lines `time\trequestId\tLEVEL\tmessage` or JSON
// records, filtered by AWS_LAMBDA_LOG_LEVEL, on stdout or AWS's framed telemetry descriptor.

import fs from "node:fs";
import { format } from "node:util";

import { intoError, toFormatted } from "./errors.mjs";

export const REQUEST_ID = Symbol.for("aws.lambda.runtime.requestId");

const LEVELS = {
  TRACE: { name: "TRACE", priority: 1, tlvMask: 4 },
  DEBUG: { name: "DEBUG", priority: 2, tlvMask: 8 },
  INFO: { name: "INFO", priority: 3, tlvMask: 12 },
  WARN: { name: "WARN", priority: 4, tlvMask: 16 },
  ERROR: { name: "ERROR", priority: 5, tlvMask: 20 },
  FATAL: { name: "FATAL", priority: 6, tlvMask: 24 },
};

function jsonReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? "UnknownError",
        errorMessage: value.message,
        stackTrace: typeof value.stack === "string" ? value.stack.split("\n") : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJson(requestId, timestamp, level, ...params) {
  const result = { timestamp, level: level.name, requestId };
  if (params.length === 1) {
    result.message = params[0];
    try {
      return JSON.stringify(result, jsonReplacer);
    } catch {
      result.message = format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = format(...params);
  for (const param of params) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? "UnknownError";
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === "string" ? param.stack.split("\n") : [];
      break;
    }
  }
  return JSON.stringify(result);
}

function makeLogger(json) {
  const fdVar = process.env._LAMBDA_TELEMETRY_LOG_FD;
  delete process.env._LAMBDA_TELEMETRY_LOG_FD;
  const render = (level, params) => {
    const time = new Date().toISOString();
    const requestId = globalThis[REQUEST_ID];
    return json
      ? formatJson(requestId, time, level, ...params)
      : `${time}\t${requestId}\t${level.name}\t${format(...params)}`;
  };
  if (fdVar !== undefined && fdVar !== "") {
    // AWS's framed telemetry protocol: type | length | timestamp (µs) | message.
    const fd = parseInt(fdVar, 10);
    const head = Buffer.alloc(16);
    const base = json ? 0xa55a0002 : 0xa55a0003;
    return (level, params) => {
      const body = Buffer.from(json ? render(level, params) : render(level, params) + "\n", "utf8");
      head.writeUInt32BE((base | level.tlvMask) >>> 0, 0);
      head.writeInt32BE(body.length, 4);
      head.writeBigInt64BE(BigInt(Date.now()) * 1000n, 8);
      fs.writeSync(fd, head);
      fs.writeSync(fd, body);
    };
  }
  // One line per call: newlines inside a message become "\r" so it stays one log event.
  // process.stdout is built lazily (it loads the stream modules); build it during init, with
  // one format() call, so the first console.log of the first invoke does not pay for it.
  const stdout = process.stdout;
  format("%s %j", "", {});
  return (level, params) => stdout.write(render(level, params).replace(/\n/g, "\r") + "\n");
}

export function patchConsole() {
  const json = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === "JSON";
  const minimum = LEVELS[process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LEVELS.TRACE;
  const log = makeLogger(json);
  const method = (level) =>
    level.priority >= minimum.priority ? (...params) => log(level, params) : () => {};
  console.trace = method(LEVELS.TRACE);
  console.debug = method(LEVELS.DEBUG);
  console.info = method(LEVELS.INFO);
  console.log = console.info;
  console.warn = method(LEVELS.WARN);
  console.error = method(LEVELS.ERROR);
  console.fatal = (...params) => log(LEVELS.FATAL, params);
  return json
    ? (_msg, err) => console.error(intoError(err))
    : (msg, err) => console.error(msg, toFormatted(intoError(err)));
}
