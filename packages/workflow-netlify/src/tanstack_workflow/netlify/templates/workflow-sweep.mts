// netlify/functions/workflow-sweep.mts — written by `tanstack-workflow-netlify init`.
//
// Netlify Functions cannot run Python, so this scheduled function only forwards each
// tick to your Python sweep endpoint (create_netlify_workflow_sweep_handler), which
// runs one bounded sweep against your workflow store and answers a JSON summary.
// The schedule lives in netlify.toml: [functions."workflow-sweep"] schedule = "...".
//
// Set these environment variables in Netlify (scope: Functions):
//   WORKFLOW_SWEEP_SECRET  the secret your Python endpoint was created with (required)
//   WORKFLOW_SWEEP_URL     the endpoint URL; overrides DEFAULT_ENDPOINT below

declare const Netlify: { env: { get(name: string): string | undefined } }

const DEFAULT_ENDPOINT: string = __DEFAULT_ENDPOINT__

// Scheduled functions are stopped after 30 seconds; give up a little earlier and keep
// the Python sweep's max_duration_ms below this.
const TIMEOUT_MS = 25_000

export default async (req: Request): Promise<Response> => {
  const endpoint = Netlify.env.get('WORKFLOW_SWEEP_URL') || DEFAULT_ENDPOINT
  const secret = Netlify.env.get('WORKFLOW_SWEEP_SECRET')
  if (!endpoint || !secret) {
    console.error('workflow-sweep: set WORKFLOW_SWEEP_SECRET and WORKFLOW_SWEEP_URL')
    return new Response('workflow sweep endpoint is not configured', { status: 500 })
  }
  // Netlify sends {"next_run": "<time of the next tick>"}; pass it on unchanged.
  const tick = await req.text()
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${secret}`,
      'content-type': 'application/json',
    },
    body: tick || '{}',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  })
  const summary = await response.text()
  // One log line per tick: the endpoint's compact summary, or its payload-free error.
  console.log(`workflow-sweep: ${response.status} ${summary}`)
  return new Response(summary, {
    status: response.status,
    headers: { 'content-type': 'application/json' },
  })
}
