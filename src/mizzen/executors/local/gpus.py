"""GPUs of this machine: discovery with ``nvidia-smi`` and a first-fit allocator."""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass

_QUERY = ["--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits"]


@dataclass(frozen=True)
class GpuDevice:
    index: int
    uuid: str = ""
    name: str = ""
    memory_mib: int | None = None


@dataclass(frozen=True)
class GpuInventory:
    devices: tuple[GpuDevice, ...] = ()

    @property
    def count(self) -> int:
        return len(self.devices)

    @classmethod
    def of(cls, count: int) -> GpuInventory:
        """``count`` anonymous GPUs (tests, or a machine described by hand)."""
        return cls(tuple(GpuDevice(i) for i in range(count)))

    @classmethod
    def discover(cls, nvidia_smi: str = "nvidia-smi") -> GpuInventory:
        """The GPUs ``nvidia-smi`` lists; none when it is missing or fails."""
        executable = shutil.which(nvidia_smi)
        if executable is None:
            return cls()
        try:
            result = subprocess.run(
                [executable, *_QUERY], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return cls()
        if result.returncode != 0:
            return cls()
        return cls.parse(result.stdout)

    @classmethod
    def parse(cls, csv_text: str) -> GpuInventory:
        devices = []
        for row in csv_text.splitlines():
            cells = [c.strip() for c in row.split(",")]
            if not cells or not cells[0].isdigit():
                continue
            memory = cells[3] if len(cells) > 3 else ""
            devices.append(
                GpuDevice(
                    index=int(cells[0]),
                    uuid=cells[1] if len(cells) > 1 else "",
                    name=cells[2] if len(cells) > 2 else "",
                    memory_mib=int(memory) if memory.isdigit() else None,
                )
            )
        return cls(tuple(sorted(devices, key=lambda d: d.index)))


class GpuAllocator:
    """Hands out whole GPUs to runs; a run holds its GPUs until it is released."""

    def __init__(self, inventory: GpuInventory) -> None:
        self.inventory = inventory
        self._owners: dict[int, str] = {}
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return self.inventory.count

    @property
    def free(self) -> int:
        with self._lock:
            return self.total - len(self._owners)

    def allocate(self, owner: str, count: int) -> list[int] | None:
        """``count`` GPU indices for ``owner``, or None when not enough are free now."""
        if count <= 0:
            return []
        with self._lock:
            free = [d.index for d in self.inventory.devices if d.index not in self._owners]
            if len(free) < count:
                return None
            chosen = free[:count]
            for index in chosen:
                self._owners[index] = owner
            return chosen

    def release(self, owner: str) -> None:
        with self._lock:
            self._owners = {i: o for i, o in self._owners.items() if o != owner}

    def held_by(self, owner: str) -> list[int]:
        with self._lock:
            return sorted(i for i, o in self._owners.items() if o == owner)
