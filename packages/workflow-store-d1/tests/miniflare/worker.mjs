// A module worker that exposes its D1 binding in the shape of Cloudflare's D1 REST API:
//   POST /accounts/:account/d1/database/:database/query
//   body {sql, params} or {batch: [{sql, params}, ...]}
//   -> {success, errors, messages, result: [{results, success, meta}, ...]}
// The REST API documents params as strings, so numbers are bound as strings here:
// a store that compares integers without CAST fails against this harness.

const ROUTE = /^\/accounts\/[^/]+\/d1\/database\/[^/]+\/query$/;

function reply(status, body) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function failure(status, code, message) {
  return reply(status, { success: false, errors: [{ code, message }], messages: [], result: [] });
}

function restParam(value) {
  return typeof value === "number" || typeof value === "boolean" ? String(Number(value)) : value;
}

function statement(db, query) {
  if (!query || typeof query.sql !== "string") throw new Error("each query needs a string `sql`");
  const prepared = db.prepare(query.sql);
  const params = (query.params ?? []).map(restParam);
  return params.length ? prepared.bind(...params) : prepared;
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method !== "POST" || !ROUTE.test(pathname)) {
      return failure(404, 7000, "No route for that URI");
    }
    if (request.headers.get("authorization") !== `Bearer ${env.API_TOKEN}`) {
      return failure(401, 10000, "Authentication error");
    }
    let body;
    try {
      body = await request.json();
    } catch {
      return failure(400, 7400, "The request is not valid JSON");
    }
    try {
      const batch = Array.isArray(body.batch);
      const statements = (batch ? body.batch : [body]).map((q) => statement(env.DB, q));
      const results = batch ? await env.DB.batch(statements) : [await statements[0].all()];
      return reply(200, {
        success: true,
        errors: [],
        messages: [],
        result: results.map((r) => ({ results: r.results ?? [], success: r.success, meta: r.meta })),
      });
    } catch (error) {
      const message = String(error?.message ?? error);
      return failure(400, 7500, error?.cause?.message ? `${message}: ${error.cause.message}` : message);
    }
  },
};
