// Lambent's Node.js runtime (nodejs20.x, nodejs22.x, nodejs24.x), started as
//   node --expose-gc --max-http-header-size=81920 [AWS's flags per major] /var/runtime/node/index.mjs
// with _HANDLER, LAMBDA_TASK_ROOT and AWS_LAMBDA_RUNTIME_API set, each on its own Node major.
//
// It behaves as the runtime interface client of AWS's nodejs runtimes does:
// handlers may be async or use callbacks (and the legacy context.succeed/fail/done; Node 24
// refuses callback handlers at init, as AWS's nodejs24.x does);
// a callback's result waits for the event loop to drain unless
// context.callbackWaitsForEmptyEventLoop is false; handler files load as CommonJS or ES
// modules by extension and package.json "type"; console output uses AWS's log format;
// errors carry AWS's types and messages (Runtime.ImportModuleError, ...).
// Response streaming handlers are answered buffered (the whole stream as one response).
//
// This file is the invoke loop and the callback semantics; errors.mjs, logging.mjs,
// rapid.mjs (the Runtime API client), loader.mjs (finding the handler) and node_path.mjs
// (ES module imports searched in NODE_PATH, as AWS's runtimes do) hold the rest.

import { Writable } from "node:stream";

import { UnhandledPromiseRejection } from "./errors.mjs";
import { STREAMING, installGlobals, loadHandler, searchNodePathForImports } from "./loader.mjs";
import { REQUEST_ID, patchConsole } from "./logging.mjs";
import { RuntimeApi, serialize } from "./rapid.mjs";

const BEFORE_EXIT = Symbol.for("aws.lambda.beforeExit");

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
  searchNodePathForImports(true);
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
