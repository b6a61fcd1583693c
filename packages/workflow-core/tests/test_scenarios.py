"""Larger scenarios ported from the reference examples: expense approval, an agent
loop with per-tool approvals, and externally scheduled runs."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field
from workflow_core_helpers import all_of, collect, first

from tanstack_workflow.core import (
    ApprovalResult,
    InMemoryRunStore,
    SignalDelivery,
    WorkflowContext,
    create_workflow,
    run_workflow,
)

# -- expense approval ---------------------------------------------------------


class Expense(BaseModel):
    amount: float
    description: str
    submitted_by: str


class ManagerDecision(BaseModel):
    approved: bool
    reason: str | None = None


class Reimbursement(BaseModel):
    reference: str
    amount: float


async def validate_expense(expense: Expense) -> Expense:
    return expense


async def process_reimbursement(expense: Expense) -> Reimbursement:
    return Reimbursement(
        reference=f"RE-{expense.submitted_by}-{expense.amount:g}", amount=expense.amount
    )


@create_workflow("expense-approval", input=Expense).handler
async def expense_approval(ctx: WorkflowContext[Expense, Any]) -> dict[str, Any]:
    async def validate() -> Expense:
        return await validate_expense(ctx.input)

    validated = await ctx.step("validate", validate)
    if ctx.input.amount > 1000:
        decision = await ctx.wait_for_event("manager-approval", schema=ManagerDecision)
        if not decision.approved:
            return {"status": "rejected", "reason": decision.reason or "no reason given"}

    async def process() -> Reimbursement:
        return await process_reimbursement(validated)

    result = await ctx.step("process", process)
    return {"status": "approved", "result": result.model_dump()}


async def test_small_expense_needs_no_approval(store: InMemoryRunStore) -> None:
    events, outcome = await collect(
        run_workflow(
            workflow=expense_approval,
            run_store=store,
            input={"amount": 250, "description": "Lunch", "submitted_by": "alice"},
        )
    )
    assert outcome.output == {
        "status": "approved",
        "result": {"reference": "RE-alice-250", "amount": 250.0},
    }
    assert not all_of(events, "SIGNAL_AWAITED")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"approved": True},
            {"status": "approved", "result": {"reference": "RE-bob-1500", "amount": 1500.0}},
        ),
        (
            {"approved": False, "reason": "Over quarterly budget"},
            {"status": "rejected", "reason": "Over quarterly budget"},
        ),
    ],
)
async def test_large_expense_waits_for_the_manager(
    store: InMemoryRunStore, payload: dict[str, Any], expected: dict[str, Any]
) -> None:
    events, paused = await collect(
        run_workflow(
            workflow=expense_approval,
            run_store=store,
            input={"amount": 1500, "description": "Offsite", "submitted_by": "bob"},
        )
    )
    assert first(events, "SIGNAL_AWAITED").name == "manager-approval"
    outcome = await run_workflow(
        workflow=expense_approval,
        run_store=store,
        run_id=paused.run_id,
        signal_delivery=SignalDelivery("mgr-1", "manager-approval", payload),
    ).result()
    assert outcome.output == expected


# -- a durable agent: tools behind approvals, a virtual file system as state ------


class AgentInput(BaseModel):
    goal: str


class VirtualFs(BaseModel):
    context: dict[str, str] = Field(default_factory=dict)
    memory: dict[str, str] = Field(default_factory=dict)


class ToolCall(BaseModel):
    tool: Literal["lookup_manager", "record_to_ledger", "notify", "done"]
    args: dict[str, str] = Field(default_factory=dict)


NEEDS_APPROVAL = {"record_to_ledger", "notify"}
PLAN = [
    ToolCall(tool="lookup_manager", args={"employee": "e-1"}),
    ToolCall(tool="record_to_ledger", args={"expense": "x-9"}),
    ToolCall(tool="notify", args={"user": "e-1"}),
    ToolCall(tool="done"),
]


def make_agent(tool_calls: list[str]) -> Any:
    def run_tool(call: ToolCall) -> dict[str, str]:
        tool_calls.append(call.tool)
        return {"tool": call.tool, **call.args}

    @create_workflow("durable-agent", input=AgentInput, state=VirtualFs).handler
    async def agent(ctx: WorkflowContext[AgentInput, VirtualFs]) -> dict[str, Any]:
        ctx.state.context["goal.md"] = ctx.input.goal
        done: list[dict[str, Any]] = []
        for turn in range(10):

            def decide(turn: int = turn) -> ToolCall:  # stands in for an LLM call
                return PLAN[turn]

            call = await ctx.step(f"decide-{turn}", decide)
            if call.tool == "done":
                break
            if call.tool in NEEDS_APPROVAL:
                decision = await ctx.approve(title=f"Run {call.tool}?", id=f"approve-{turn}")
                if not decision.approved:
                    ctx.state.memory[f"turn-{turn}.md"] = f"denied: {decision.feedback}"
                    done.append({"tool": call.tool, "approved": False})
                    continue
            result = await ctx.step(f"tool-{turn}", lambda call=call: run_tool(call))
            ctx.state.memory[f"turn-{turn}.md"] = f"ran {call.tool}"
            done.append({"tool": call.tool, "approved": True, "result": result})
        return {"calls": done, "memory": ctx.state.memory}

    return agent


async def test_agent_runs_allowed_tools_and_pauses_for_gated_ones(store: InMemoryRunStore) -> None:
    tool_calls: list[str] = []
    agent = make_agent(tool_calls)
    events, outcome = await collect(
        run_workflow(workflow=agent, run_store=store, run_id="a", input={"goal": "file expense"})
    )
    assert outcome.kind == "paused"
    assert tool_calls == ["lookup_manager"]
    assert first(events, "APPROVAL_REQUESTED").title == "Run record_to_ledger?"
    deltas = [op for e in all_of(events, "STATE_DELTA") for op in e.delta]
    assert {"op": "add", "path": "/context/goal.md", "value": "file expense"} in deltas
    assert {"op": "add", "path": "/memory/turn-0.md", "value": "ran lookup_manager"} in deltas

    await run_workflow(
        workflow=agent, run_store=store, run_id="a", approval=ApprovalResult(True, "a:approve-1")
    ).result()
    outcome = await run_workflow(
        workflow=agent,
        run_store=store,
        run_id="a",
        approval=ApprovalResult(False, "a:approve-2", feedback="not now"),
    ).result()
    assert outcome.kind == "finished"
    assert tool_calls == ["lookup_manager", "record_to_ledger"]  # nothing ran twice
    assert [(c["tool"], c["approved"]) for c in outcome.output["calls"]] == [
        ("lookup_manager", True),
        ("record_to_ledger", True),
        ("notify", False),
    ]
    assert outcome.output["memory"]["turn-2.md"] == "denied: not now"


# -- externally scheduled runs ------------------------------------------------------


class Tick(BaseModel):
    triggered_at: int


def make_report(summaries: list[str]) -> Any:
    def generate() -> str:
        summaries.append(f"report-{len(summaries)}")
        return summaries[-1]

    @create_workflow("daily-report", input=Tick).handler
    async def report(ctx: WorkflowContext[Tick, Any]) -> dict[str, Any]:
        summary = await ctx.step("gen", generate)
        await ctx.wait_for_event("delivered")
        return {"ran_at": ctx.input.triggered_at, "summary": summary}

    return report


async def test_each_tick_gets_its_own_run(store: InMemoryRunStore) -> None:
    summaries: list[str] = []
    report = make_report(summaries)
    run_ids = [
        (
            await run_workflow(workflow=report, run_store=store, input={"triggered_at": t}).result()
        ).run_id
        for t in (0, 60_000, 120_000)
    ]
    assert len(set(run_ids)) == 3
    assert summaries == ["report-0", "report-1", "report-2"]


async def test_deterministic_run_ids_skip_overlapping_ticks(store: InMemoryRunStore) -> None:
    summaries: list[str] = []
    report = make_report(summaries)

    async def tick(now_ms: int) -> str:
        run_id = f"daily-report:{now_ms // 86_400_000}"  # one run per day
        outcome = await run_workflow(
            workflow=report, run_store=store, run_id=run_id, input={"triggered_at": now_ms}
        ).result()
        return outcome.kind

    assert await tick(1_000) == "paused"  # the day's run starts and waits
    assert await tick(61_000) == "attached"  # a second tick the same day does not start another
    assert summaries == ["report-0"]
    assert await tick(86_400_000 + 5) == "paused"  # the next day is a new run
    assert summaries == ["report-0", "report-1"]
