// Function errors as AWS's Node.js runtime names and shapes them.

import { types } from "node:util";

export class RuntimeError extends Error {}
const errorClass = (name) => {
  const cls = class extends RuntimeError {};
  cls.prototype.name = `Runtime.${name}`;
  return cls;
};
export const ImportModuleError = errorClass("ImportModuleError");
export const HandlerNotFound = errorClass("HandlerNotFound");
export const MalformedHandlerName = errorClass("MalformedHandlerName");
export const UserCodeSyntaxError = errorClass("UserCodeSyntaxError");
export const CallbackHandlerDeprecated = errorClass("CallbackHandlerDeprecated");
export class UnhandledPromiseRejection extends errorClass("UnhandledPromiseRejection") {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}

const isErrorLike = (e) =>
  e && typeof e.name === "string" && typeof e.message === "string" && typeof e.stack === "string";

// The error document Lambda returns for a Node function: errorType, errorMessage, trace.
export function toRapidResponse(error) {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replace(/\x7F/g, "%7F"),
        errorMessage: error.message?.replace(/\x7F/g, "%7F"),
        trace: error.stack.replace(/\x7F/g, "%7F").split("\n"),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
    };
  }
}

export const intoError = (err) => (err instanceof Error ? err : new Error(err));

function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const ret = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === "string") ret.stack = value.stack.split("\n");
  return ret;
}

export function toFormatted(error) {
  try {
    return "\t" + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch {
    return "\t" + JSON.stringify(toRapidResponse(error));
  }
}
