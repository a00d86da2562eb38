"""Non-AWS routes the Lambda API needs: the `Code.Location` download URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambent.api.lambda_.urls import url_routes
from lambent.blobs.interface import BlobMissing
from lambent.functions.code_url import PREFIX
from lambent.http.messages import Handler, Request, Response

if TYPE_CHECKING:
    from lambent.app import App


def extra_routes(app: App) -> dict[str, Handler]:
    signer = app.control_plane.signer

    async def download(req: Request) -> Response:
        if req.method not in ("GET", "HEAD"):
            return _xml_error(405, "MethodNotAllowed", "The specified method is not allowed.")
        found = await signer.verify(req.raw_path[len(PREFIX) :])
        if found is None:
            return _xml_error(403, "AccessDenied", "Request has expired or is not valid.")
        sha, filename = found
        try:  # off the loop: the zip may come from the cluster's store first
            if req.method == "GET":
                body = await app.work.run(app.blobs.read, sha)
            elif await app.work.run(app.blobs.exists, sha):
                body = b""
            else:
                raise BlobMissing(sha)
        except BlobMissing:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        headers = [
            ("Content-Type", "application/zip"),
            ("Content-Disposition", f'attachment; filename="{filename}"'),
        ]
        return Response(200, body, headers)

    return {PREFIX: download, **url_routes(app)}


def _xml_error(status: int, code: str, message: str) -> Response:
    """Errors the way S3 answers a presigned URL it refuses."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()
    return Response(status, body, [("Content-Type", "application/xml")])
