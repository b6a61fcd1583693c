"""Events: the live stream, the persisted log, the wire format, publishers and webhooks."""

import asyncio
import json

from tanstack_workflow.core import (
    PERSISTED_TYPES,
    WorkflowContext,
    WorkflowEvent,
    create_workflow,
    event_to_json,
    handle_workflow_webhook,
    in_memory_run_store,
    parse_event,
    parse_workflow_request,
    run_workflow,
)


@create_workflow("greeting", initial_state=lambda _input: {"greeted": False}).handler
async def greeting(ctx: WorkflowContext[dict[str, str], dict[str, bool]]) -> str:
    name = await ctx.step("lookup-name", lambda: ctx.input["user"].title())
    ctx.state["greeted"] = True
    ctx.emit("typing", {"who": name})
    reply = await ctx.wait_for_event("reply", id="reply")
    return f"Hello {name}, you said {reply!r}"


published: list[str] = []


def publish(run_id: str, event: WorkflowEvent) -> None:
    # e.g. push to Redis or a websocket hub; failures are logged, never raised
    published.append(event_to_json(event))


async def main() -> None:
    store = in_memory_run_store()
    run = run_workflow(
        workflow=greeting, run_store=store, input={"user": "ada"}, run_id="g-1", publish=publish
    )
    streamed = [event async for event in run]
    print([e.type for e in streamed])
    # RUN_STARTED, STEP_STARTED, STEP_FINISHED, CUSTOM, STATE_DELTA, SIGNAL_AWAITED

    log = await store.get_events("g-1")
    print([e.type for e in log])  # only checkpoint and coordination events
    assert all(e.type in PERSISTED_TYPES for e in log)

    wire = json.loads(event_to_json(log[0]))
    # {'ts': ..., 'type': 'STEP_FINISHED', 'stepId': 'lookup-name', 'result': 'Ada', 'seq': 0}
    print(wire)
    assert parse_event(wire) == log[0]
    assert len(published) == len(streamed)

    # An HTTP endpoint delivering signals: parse the body, then hand it to the run.
    body = b'{"runId": "g-1", "signal": {"signalId": "msg-1", "name": "reply", "payload": "hi"}}'
    events = await handle_workflow_webhook(
        workflow=greeting, run_store=store, payload=parse_workflow_request(body)
    )
    finished = events[-1]
    assert finished.type == "RUN_FINISHED"
    print(finished.output)  # Hello Ada, you said 'hi'

    # A late subscriber reads the whole history without driving the run.
    attached = [
        e.type
        async for e in run_workflow(workflow=greeting, run_store=store, run_id="g-1", attach=True)
    ]
    print(attached)


if __name__ == "__main__":
    asyncio.run(main())
