// The Runtime API client: one keep-alive connection to AWS_LAMBDA_RUNTIME_API.

import { createRequire } from "node:module";

import { toRapidResponse } from "./errors.mjs";

// Loaded with require(): an ES module import of node:http builds its whole namespace, and on
// Node 22 and 24 that runs http's lazy getters (WebSocket & co., which load undici): 30-40 ms
// of every cold start, measured with bench.node_init.
const http = createRequire(import.meta.url)("node:http");

const API = "/2018-06-01/runtime";
const ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type";

export class RuntimeApi {
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

export function serialize(result) {
  try {
    return JSON.stringify(result === undefined ? null : result);
  } catch {
    throw new Error("Unable to stringify response body");
  }
}
