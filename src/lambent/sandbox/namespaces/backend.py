"""The `namespaces` sandbox: template fork into namespaces, cgroup limits, seccomp, slots."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
from pathlib import Path

from lambent.guest.lambent_guest import linux
from lambent.sandbox.interface import TemplateSpec
from lambent.sandbox.namespaces import cgroups, idmap, reaper, stale
from lambent.sandbox.namespaces.config import NamespacesConfig
from lambent.sandbox.namespaces.environment import Resources
from lambent.sandbox.namespaces.network import HOST_ADDRESS, AddressPlan, Network, Slot
from lambent.sandbox.namespaces.registry import Registry, default_subnet
from lambent.sandbox.namespaces.scratch import Scratch, ScratchPool
from lambent.sandbox.namespaces.template import NamespaceTemplate
from lambent.sandbox.namespaces.uids import UidPool
from lambent.sandbox.namespaces.zygotes import Zygotes

log = logging.getLogger(__name__)


def _unstarted_network(config: NamespacesConfig) -> Network:
    """A placeholder until start() has claimed a subnet (nothing is created on the host)."""
    return Network(AddressPlan(default_subnet(0), config.tag), 0, ())


class NamespacesSandbox:
    name = "namespaces"
    isolated = True
    host_address: str | None = HOST_ADDRESS  # 169.254.100.1, host.lambent.internal

    def __init__(self, config: NamespacesConfig, registry: Registry | None = None) -> None:
        self.config = config
        self.registry = registry or Registry()
        self.staging_dir = config.work / "root"
        self.uids = UidPool(config.uid_base, config.uid_count)
        self.cgroups: cgroups.CgroupDriver = cgroups.detect(config.cgroup_root, config.cgroup_name)
        self.scratch: ScratchPool | None = None
        if config.tmp_backend == "ext4":
            self.scratch = ScratchPool(
                config.work / "tmp",
                config.scratch_ready,
                config.scratch_sizes,
                prefix=f"tmp-{config.tag}",
            )
        self._templates: list[NamespaceTemplate] = []
        self.zygotes = Zygotes(self)
        self._started = False
        self._registration: Path | None = None
        self._templates_cgroup: cgroups.EnvCgroup | None = None
        self.reaped: list[reaper.Reaped] = []  # what start() removed of dead sandboxes
        self.network: Network = _unstarted_network(config)
        # The user namespace whose mapping a version's code and layers carry (idmap.py);
        # None where the kernel cannot idmap a mount (they then show as nobody's).
        self.idmap: int | None = None
        self._held: dict[int, Resources] = {}
        self.fast_cgroup_moves = False

    async def start(self) -> None:
        self.config.work.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(exist_ok=True)
        config = self.config
        claim = await asyncio.to_thread(
            stale.claim,
            self.registry,
            config.tag,
            self.cgroups.parents(),
            self.cgroups.roots(config.cgroup_root),
            None if self.scratch is None else self.scratch.directory,
            ipaddress.IPv4Network(config.subnet) if config.subnet else None,
        )
        self._registration, self.reaped = claim.registration, claim.reaped
        assert claim.record.subnet is not None
        self.network = Network(
            AddressPlan(claim.record.subnet, self.config.tag),
            self.config.network_slots_ready,
            self.config.blocked_host_ports,
            self.config.public_host_ports,
        )
        try:
            self.idmap = await asyncio.to_thread(self._make_idmap)
            await asyncio.to_thread(self.cgroups.setup)
            self._templates_cgroup = self.cgroups.create_unlimited("templates")
            self.fast_cgroup_moves = cgroups.favor_dynamic_modifications()
            await asyncio.to_thread(self.network.start)
            if self.scratch is not None:
                self.scratch.start()
            # The first slots and /tmp images are part of start-up: a server that says it is
            # ready can create environments at full speed.
            await asyncio.to_thread(self.network.wait_ready, self.config.start_timeout_s)
            if self.scratch is not None:
                await asyncio.to_thread(self.scratch.wait_ready, self.config.start_timeout_s)
        except BaseException:
            await asyncio.to_thread(self._teardown)
            raise
        self._started = True

    async def template(self, spec: TemplateSpec) -> NamespaceTemplate:
        # Forget templates whose process is gone (closed and their last environment exited).
        self._templates = [t for t in self._templates if t.alive()]
        template = NamespaceTemplate(self, spec)
        self._templates.append(template)
        try:
            await template.start()
        except BaseException:
            template.kill()
            self._templates.remove(template)
            raise
        return template

    def adopt_template(self, pid: int) -> None:
        """Put a runtime's zygote in the templates cgroup before it forks anything, so a
        successor can find and kill it and what it forks (templates, environments) if this
        server dies."""
        if self._templates_cgroup is None:
            return
        try:
            self._templates_cgroup.adopt(pid)
        except OSError as err:
            log.warning("template pid %d stays outside the sandbox's cgroups: %s", pid, err)

    async def take_slot(self, egress: bool) -> Slot:
        slot = self.network.take_ready(egress)
        if slot is None:  # the pool ran dry: make one now, off the event loop
            slot = await asyncio.to_thread(self.network.take, egress)
        return slot

    async def take_scratch(self, size_mb: int) -> Scratch | None:
        if self.scratch is None:
            return None
        scratch = self.scratch.take_ready(size_mb)
        if scratch is None:
            scratch = await asyncio.to_thread(self.scratch.take, size_mb)
        return scratch

    def hold(self, resources: Resources) -> None:
        """Track what an environment holds, so close() can free what nobody destroyed."""
        self._held[id(resources)] = resources

    def release(self, resources: Resources) -> None:
        """Blocking: called on a worker thread when an environment is gone."""
        self._held.pop(id(resources), None)
        resources.cgroup.remove()
        if resources.slot is not None:
            self.network.release(resources.slot)
            resources.slot = None
        if resources.scratch is not None:
            if self.scratch is not None:
                self.scratch.give_back(resources.scratch)
            else:
                resources.scratch.release()
            resources.scratch = None
        if resources.uid is not None:
            self.uids.give_back(resources.uid)
            resources.uid = None

    async def close(self) -> None:
        for template in self._templates:
            template.kill()
        self._templates.clear()
        await self.zygotes.close()
        if not self._started:
            return
        await asyncio.to_thread(self._teardown)

    def _make_idmap(self) -> int | None:
        """The sandbox's root mapping, if this kernel can idmap a mount (Linux 5.12+)."""
        mapping = idmap.root_mapping(self.config.root_uid)
        fd = idmap.make_userns(self.config.zygote_python, mapping, mapping)
        try:
            probe = linux.open_tree(
                str(self.staging_dir), linux.OPEN_TREE_CLONE | linux.OPEN_TREE_CLOEXEC
            )
            try:
                linux.mount_setattr(probe, linux.MOUNT_ATTR_RDONLY, fd)
            finally:
                os.close(probe)
        except OSError as err:
            log.warning("idmapped mounts unavailable (%s): code shows as nobody's", err)
            os.close(fd)
            return None
        return fd

    def _teardown(self) -> None:
        if self.idmap is not None:
            os.close(self.idmap)
            self.idmap = None
        for resources in list(self._held.values()):
            self.release(resources)
        self.cgroups.teardown()
        self.network.close()
        if self.scratch is not None:
            self.scratch.close()
        with contextlib.suppress(OSError):
            self.staging_dir.rmdir()
        if self._registration is not None:
            self.registry.remove(self.config.tag)
            self._registration = None
