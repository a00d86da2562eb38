// Lambent's Node.js runtime (nodejs20.x, nodejs22.x), started as
//   node --expose-gc --max-http-header-size=81920 /var/runtime/node/index.mjs
// with _HANDLER, LAMBDA_TASK_ROOT and AWS_LAMBDA_RUNTIME_API set.
//
// It behaves as the runtime interface client of AWS's nodejs20.x/22.x runtimes does:
// handlers may be async or use callbacks (and the legacy context.succeed/fail/done);
// a callback's result waits for the event loop to drain unless
// context.callbackWaitsForEmptyEventLoop is false; handler files load as CommonJS or ES
// modules by extension and package.json "type"; console output uses AWS's log format;
// errors carry AWS's types and messages (Runtime.ImportModuleError, ...).
// Response streaming handlers are answered buffered (the whole stream as one response).

import { createRequire } from "node:module";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { Writable } from "node:stream";
import { format, types } from "node:util";

const API = "/2018-06-01/runtime";
const ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type";
const REQUEST_ID = Symbol.for("aws.lambda.runtime.requestId");
const BEFORE_EXIT = Symbol.for("aws.lambda.beforeExit");
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const RUNTIME_DIR = process.env.LAMBDA_RUNTIME_DIR || path.dirname(path.dirname(new URL(import.meta.url).pathname));
// Resolution errors name this file in their "Require stack", as AWS's runtime does.
const require = createRequire(path.join(RUNTIME_DIR, "index.mjs"));

// ---------------------------------------------------------------- errors

class RuntimeError extends Error {}
const errorClass = (name) => {
  const cls = class extends RuntimeError {};
  cls.prototype.name = `Runtime.${name}`;
  return cls;
};
const ImportModuleError = errorClass("ImportModuleError");
const HandlerNotFound = errorClass("HandlerNotFound");
const MalformedHandlerName = errorClass("MalformedHandlerName");
const UserCodeSyntaxError = errorClass("UserCodeSyntaxError");
class UnhandledPromiseRejection extends errorClass("UnhandledPromiseRejection") {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}

const isErrorLike = (e) =>
  e && typeof e.name === "string" && typeof e.message === "string" && typeof e.stack === "string";

// The error document Lambda returns for a Node function: errorType, errorMessage, trace.
function toRapidResponse(error) {
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

const intoError = (err) => (err instanceof Error ? err : new Error(err));

function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const ret = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === "string") ret.stack = value.stack.split("\n");
  return ret;
}

function toFormatted(error) {
  try {
    return "\t" + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch {
    return "\t" + JSON.stringify(toRapidResponse(error));
  }
}

// ---------------------------------------------------------------- logging

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

function patchConsole() {
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

// ---------------------------------------------------------------- Runtime API client

class RuntimeApi {
  constructor(address) {
    const [hostname, port] = address.split(":");
    this.hostname = hostname;
    this.port = parseInt(port, 10);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  request(method, urlPath, body, headers) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { hostname: this.hostname, port: this.port, path: urlPath, method, agent: this.agent, headers },
        (res) => {
          const chunks = [];
          res.on("data", (chunk) => chunks.push(chunk));
          res.on("end", () =>
            resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  next() {
    return this.request("GET", `${API}/invocation/next`);
  }

  post(urlPath, body, contentType, errorType) {
    const headers = { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) };
    if (errorType !== undefined) headers[ERROR_TYPE_HEADER] = errorType;
    return this.request("POST", urlPath, body, headers);
  }

  postResponse(id, body, contentType = "application/json") {
    return this.post(`${API}/invocation/${encodeURIComponent(id)}/response`, body, contentType);
  }

  postError(id, error) {
    const doc = toRapidResponse(error);
    return this.post(
      `${API}/invocation/${encodeURIComponent(id)}/error`,
      JSON.stringify(doc),
      "application/json",
      doc.errorType,
    );
  }

  postInitError(error) {
    const doc = toRapidResponse(error);
    return this.post(`${API}/init/error`, JSON.stringify(doc), "application/json", doc.errorType);
  }
}

function serialize(result) {
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch {
    throw new Error("Unable to stringify response body");
  }
}

// ---------------------------------------------------------------- loading the handler

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

function hasTypeModule(folder) {
  if (folder.endsWith("/node_modules")) return false;
  const pj = path.join(folder, "package.json");
  if (fs.existsSync(pj)) {
    try {
      return JSON.parse(fs.readFileSync(pj)).type === "module";
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  return folder === "/" ? false : hasTypeModule(path.resolve(folder, ".."));
}

const tryRequire = (file) => (fs.existsSync(file) ? require(file) : undefined);
const tryImport = async (file) => (fs.existsSync(file) ? await import(file) : undefined);

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = tryRequire(base);
  if (extensionless) return extensionless;
  const esm = fs.existsSync(base + ".js") && hasTypeModule(path.dirname(base + ".js"));
  if (!esm) {
    const cjs = tryRequire(base + ".js");
    if (cjs) return cjs;
  }
  const loaded =
    (esm && (await tryImport(base + ".js"))) ||
    (await tryImport(base + ".mjs")) ||
    tryRequire(base + ".cjs");
  if (loaded) return loaded;
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes("..")) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) throw new MalformedHandlerName("Bad handler");
  const [, moduleName, handlerPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(String(e));
    if (e?.code === "MODULE_NOT_FOUND") throw new ImportModuleError(String(e));
    throw e;
  }
  const handler = handlerPath.split(".").reduce((obj, key) => obj && obj[key], app);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== "function") throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

function installGlobals() {
  const flag = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (flag === "1" || flag === "true") return;
  globalThis.awslambda = {
    streamifyResponse: (handler) => {
      handler[STREAMING] = "response";
      return handler;
    },
    HttpResponseStream: {
      from: (stream, prelude) => {
        stream.setContentType("application/vnd.awslambda.http-integration-response");
        stream.prelude = prelude;
        return stream;
      },
    },
  };
}

// ---------------------------------------------------------------- the invoke loop

globalThis[BEFORE_EXIT] = () => {};
const setBeforeExit = (fn) => (globalThis[BEFORE_EXIT] = fn);
const resetBeforeExit = () => (globalThis[BEFORE_EXIT] = () => {});

function buildContext(headers) {
  const parse = (value, name) => {
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value);
    } catch (err) {
      throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
    }
  };
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  if (headers["lambda-runtime-trace-id"]) {
    process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
  } else {
    delete process.env._X_AMZN_TRACE_ID;
  }
  return {
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parse(headers["lambda-runtime-client-context"], "ClientContext"),
    identity: parse(headers["lambda-runtime-cognito-identity"], "CognitoIdentity"),
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

class Runtime {
  constructor(api, handler, logError) {
    this.api = api;
    this.handler = handler;
    this.logError = logError;
    this.invokeId = undefined;
  }

  scheduleNext() {
    setImmediate(() => this.handleOnce().catch((err) => this.fatal(err, 129)));
  }

  // An error the runtime cannot recover from: report it for the invocation in flight (or
  // as an init error before the first one) and exit, as AWS's runtime does.
  fatal(error, code) {
    const post =
      this.invokeId === undefined ? this.api.postInitError(error) : this.api.postError(this.invokeId, error);
    post.finally(() => process.exit(code));
  }

  async handleOnce() {
    const { headers, body } = await this.api.next();
    const id = headers["lambda-runtime-aws-request-id"];
    this.invokeId = id;
    globalThis[REQUEST_ID] = id;
    const { callback, context, markCompleted } = this.callbacks(id);
    // A handler that neither returns a promise nor calls back answers null once the
    // event loop is empty.
    setBeforeExit(() => {
      markCompleted();
      this.complete(id, null);
    });
    try {
      Object.assign(context, buildContext(headers));
      const event = JSON.parse(body.toString("utf8"));
      if (this.handler[STREAMING] === "response") {
        this.handleStreaming(event, context, callback);
        return;
      }
      const result = this.handler(event, context, callback);
      if (result && typeof result.then === "function") {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  async handleStreaming(event, context, callback) {
    const chunks = [];
    let contentType = "application/octet-stream";
    const stream = new Writable({
      write(chunk, _enc, done) {
        chunks.push(Buffer.from(chunk));
        done();
      },
    });
    stream.setContentType = (type) => (contentType = type);
    const finished = new Promise((resolve) => stream.on("finish", resolve));
    try {
      await this.handler(event, stream, context);
      await finished;
      let payload = Buffer.concat(chunks);
      if (stream.prelude !== undefined) {
        payload = Buffer.concat([Buffer.from(JSON.stringify(stream.prelude)), Buffer.alloc(8), payload]);
      }
      resetBeforeExit();
      this.api.postResponse(context.awsRequestId, payload, contentType).then(() => this.scheduleNext());
    } catch (err) {
      callback(err);
    }
  }

  complete(id, result) {
    let body;
    try {
      body = serialize(result);
    } catch (err) {
      this.fail(id, err);
      return;
    }
    this.api.postResponse(id, body).then(
      () => this.scheduleNext(),
      (err) => this.fatal(err, 129),
    );
  }

  fail(id, err) {
    this.logError("Invoke Error", err);
    this.api.postError(id, err).then(
      () => this.scheduleNext(),
      (e) => this.fatal(e, 129),
    );
  }

  // AWS's callback semantics: the first of callback/succeed/fail/done wins; a callback
  // result waits for the event loop to drain unless callbackWaitsForEmptyEventLoop=false.
  callbacks(id) {
    let completed = false;
    let waitForEmptyEventLoop = true;
    let finished = false;
    const once =
      (fn) =>
      (...args) => {
        if (!finished) {
          fn(...args);
          finished = true;
        }
      };
    const complete = (result) => {
      if (completed) {
        console.error(
          "Invocation has already been reported as done. Cannot call complete more than once per invocation.",
        );
        return;
      }
      completed = true;
      this.complete(id, result);
    };
    const done = (err, result) => {
      resetBeforeExit();
      if (err !== undefined && err !== null) {
        completed = true;
        this.fail(id, err);
      } else {
        complete(result);
      }
    };
    const callback = (err, result) => {
      resetBeforeExit();
      if (err !== undefined && err !== null) {
        completed = true;
        this.fail(id, err);
      } else if (!waitForEmptyEventLoop) {
        complete(result);
      } else {
        setBeforeExit(() => setImmediate(() => complete(result)));
      }
    };
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed: once((result) => done(null, result)),
      fail: once((err) => (err === undefined || err === null ? done("handled") : done(err, null))),
      done: once(done),
    };
    return { callback: once(callback), context, markCompleted: () => (completed = true) };
  }
}

// ---------------------------------------------------------------- start

async function main() {
  const logError = patchConsole();
  const api = new RuntimeApi(process.env.AWS_LAMBDA_RUNTIME_API);
  const runtime = new Runtime(api, null, logError);
  process.on("uncaughtException", (error) => {
    logError("Uncaught Exception", error);
    runtime.fatal(error, 129);
  });
  process.on("unhandledRejection", (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError("Unhandled Promise Rejection", error);
    runtime.fatal(error, 128);
  });
  process.on("beforeExit", () => globalThis[BEFORE_EXIT]());
  installGlobals();
  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handlerName = process.env._HANDLER || process.argv[2] || "";
  try {
    runtime.handler = await loadHandler(appRoot, handlerName);
  } catch (error) {
    // Reported exactly as an uncaught exception at init is: logged, posted to
    // /runtime/init/error, and the process exits.
    logError("Uncaught Exception", error);
    runtime.fatal(error, 129);
    return;
  }
  runtime.scheduleNext();
}

main();
