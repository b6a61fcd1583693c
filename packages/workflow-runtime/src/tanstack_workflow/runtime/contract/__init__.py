"""The ``WorkflowExecutionStore`` contract suite: pytest mixins any store author runs.

Subclass ``StoreFixtures`` once to provide a store, then combine it with the mixins::

    class MyStoreFixtures(StoreFixtures):
        @classmethod
        def make_store(cls) -> MyStore:
            return MyStore(...)

    class TestMyStore(AllContracts, MyStoreFixtures):
        pass

Each mixin covers one area and can be used alone; override a single test by
defining a method of the same name. Needs the ``[contract]`` extra (pytest,
pytest-asyncio with ``asyncio_mode = "auto"``, hypothesis).
See docs/runtime/writing-a-store.md.
"""

from ._bad_input import ValidationContract
from ._deliveries import DeliveryContract
from ._fixtures import LEASE_MS, T0, StoreFixtures
from ._leases import LeaseContract
from ._log import EventLogContract
from ._queries import QueryContract
from ._runs import RunContract, RunStoreSurfaceContract
from ._runtime_paths import RuntimeContract
from ._schedules import ScheduleContract
from ._timers import TimerContract
from .state_machine import StateMachineContract


class AllContracts(
    RunContract,
    EventLogContract,
    LeaseContract,
    TimerContract,
    DeliveryContract,
    ScheduleContract,
    QueryContract,
    RunStoreSurfaceContract,
    ValidationContract,
    StateMachineContract,
    RuntimeContract,
):
    """Every store mixin at once."""


__all__ = [
    "LEASE_MS",
    "T0",
    "AllContracts",
    "DeliveryContract",
    "EventLogContract",
    "LeaseContract",
    "QueryContract",
    "RunContract",
    "RunStoreSurfaceContract",
    "RuntimeContract",
    "ScheduleContract",
    "StateMachineContract",
    "StoreFixtures",
    "TimerContract",
    "ValidationContract",
]
