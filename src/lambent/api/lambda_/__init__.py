"""Handlers for the lambda service. `handlers(app)` returns the objects the dispatcher calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.dispatch import ServiceHandlers
from lambent.api.lambda_.aliases import AliasHandlers
from lambent.api.lambda_.concurrency import ConcurrencyHandlers, InvokeConfigHandlers
from lambent.api.lambda_.functions import FunctionHandlers
from lambent.api.lambda_.layers import LayerHandlers
from lambent.api.lambda_.permissions import PolicyHandlers
from lambent.api.lambda_.urls import url_handlers
from lambent.functions.code_url import CodeUrlSigner
from lambent.functions.lifecycle import Provisioner
from lambent.functions.runtimes import SUPPORTED_RUNTIMES
from lambent.functions.service import ControlPlane, FunctionService, shas_of
from lambent.functions.uploads import ZipUploads
from lambent.layers.repository import LayerRepository
from lambent.layers.service import LayerService

if TYPE_CHECKING:
    from lambent.app import App


def control_plane(app: App) -> ControlPlane:
    catalog = app.catalog
    uploads = ZipUploads(app.blobs, app.settings.limits.code_size_zipped, app.work, objects=app.s3)
    signer = CodeUrlSigner(catalog.repo, app.clock, app.settings.endpoint)

    async def extract(sha: str) -> object:
        return await app.work.run(app.blobs.extracted, sha)

    # A function turns Active once its template is up (the data plane prepares it).
    provisioner = Provisioner(catalog, extract, prepare=app.environments.prepare)
    catalog.attach_provisioner(provisioner)
    layers = LayerService(LayerRepository(app.store), uploads, signer, app.clock)
    return ControlPlane(catalog, uploads, provisioner, layers, signer, SUPPORTED_RUNTIMES)


async def handlers(app: App) -> list[ServiceHandlers]:
    cp = control_plane(app)
    app.control_plane = cp
    await cp.provisioner.recover(shas_of)
    layer_repo = LayerRepository(app.store)
    return [
        FunctionHandlers(FunctionService(cp), layer_repo),
        AliasHandlers(cp.catalog),
        LayerHandlers(cp.layers),
        PolicyHandlers(cp.catalog),
        ConcurrencyHandlers(cp.catalog, layer_repo),
        InvokeConfigHandlers(cp.catalog),
        url_handlers(app),
    ]
